"""`state`: the S3 bucket and DynamoDB lock table every other stack keeps its state in.

Bootstrap once per account with local state, then move it into its own bucket
(iworkz/backend.py; README: bootstrapping the state backend). The bucket is replicated to the
account's backup region (``backup_region`` of config/common.yaml), so that the state of every
stack survives the loss of the primary region.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)

from iworkz.contracts import StateOutputs
from iworkz.policy import suppress
from iworkz.policy.rules import BACKUP_COVERAGE
from iworkz_constructs.access_log_bucket import AccessLogBucket, AccessLogBucketProps
from iworkz_constructs.bucket_replication import BucketReplication, BucketReplicationProps
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps
from stacks.base import IworkzStack


class StateStack(IworkzStack):
    def build(self) -> StateOutputs:
        context = self.context
        s3 = context.common.backend.s3
        state = context.common.state
        region, backup_region = self.aws.region, self.aws.backup_region
        account_id = self.aws.account_id
        key = KmsKey(
            self,
            "state-key",
            KmsKeyProps(
                alias=f"{context.common.project}-terraform-state",
                description="Terraform state bucket and lock table",
                account_id=account_id,
            ),
        )
        access_logs = AccessLogBucket(
            self,
            "state-access-logs",
            AccessLogBucketProps(f"{s3.bucket}-access-logs", account_id, state.access_log_retention_days),
        )
        bucket = SecureBucket(
            self,
            "state-bucket",
            SecureBucketProps(
                bucket_name=s3.bucket,
                kms_key_arn=key.arn,
                access_log_bucket=access_logs.name,
                noncurrent_version_expiration_days=state.noncurrent_version_expiration_days,
            ),
        )
        self._replicate(bucket, key, account_id, region, backup_region)
        table = DynamodbTable(
            self,
            "lock-table",
            name=s3.lock_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=key.arn),
            deletion_protection_enabled=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        suppress(table, BACKUP_COVERAGE, "holds only lock entries of running plans; point-in-time recovery is on")
        return StateOutputs(state_bucket=bucket.name, lock_table=table.name, state_kms_key_arn=key.arn)

    def _replicate(self, bucket: SecureBucket, key: KmsKey, account_id: str, region: str, backup_region: str) -> None:
        """Every state version also lands in the backup region, encrypted with a key of that region."""
        s3 = self.context.common.backend.s3
        state = self.context.common.state
        backup = self.aws.backup
        replica_key = KmsKey(
            self,
            "state-replica-key",
            KmsKeyProps(
                alias=f"{self.context.common.project}-terraform-state-replica",
                description=f"Terraform state replica in {backup_region}",
                account_id=account_id,
                via_services=(f"s3.{backup_region}.amazonaws.com",),
                provider=backup,
            ),
        )
        replica_logs = AccessLogBucket(
            self,
            "state-replica-access-logs",
            AccessLogBucketProps(
                f"{s3.bucket}-access-logs-{backup_region}", account_id, state.access_log_retention_days, backup
            ),
        )
        replica = SecureBucket(
            self,
            "state-replica-bucket",
            SecureBucketProps(
                bucket_name=f"{s3.bucket}-{backup_region}",
                kms_key_arn=replica_key.arn,
                access_log_bucket=replica_logs.name,
                noncurrent_version_expiration_days=state.noncurrent_version_expiration_days,
                provider=backup,
            ),
        )
        BucketReplication(
            self,
            "state-replication",
            BucketReplicationProps(
                role_name=f"{s3.bucket}-replication",
                source=bucket,
                destination=replica,
                source_kms_key_arn=key.arn,
                destination_kms_key_arn=replica_key.arn,
                source_region=region,
                destination_region=backup_region,
            ),
        )
        suppress(
            bucket.bucket,
            BACKUP_COVERAGE,
            "Terraform state: every version is kept and replicated to the backup region; this account-level "
            "bootstrap stack holds no backup vault",
        )
