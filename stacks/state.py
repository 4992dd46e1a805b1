"""`state`: the S3 bucket and DynamoDB lock table every other stack keeps its state in.

Bootstrap once per account with local state, then move it into its own bucket
(iworkz/backend.py; README: bootstrapping the state backend). The bucket is replicated to the
account's backup region (``backup_region`` of config/common.yaml), so that the state of every
stack survives the loss of the primary region.
"""

from __future__ import annotations

from iworkz.contracts import StateOutputs
from iworkz.policy import suppress
from iworkz.policy.rules import BACKUP_COVERAGE
from iworkz_constructs.bucket_replication import ReplicatedBucketProps, replicated_bucket
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.lock_table import StateLockTable
from iworkz_constructs.secure_bucket import AccessLogBucket, AccessLogBucketProps
from stacks.base import IworkzStack


class StateStack(IworkzStack):
    def build(self) -> StateOutputs:
        context = self.context
        s3 = context.common.backend.s3
        state = context.common.state
        project = context.common.project
        account_id = self.aws.account_id
        region, backup_region = self.aws.region, self.aws.backup_region
        key = KmsKey(
            self,
            "state-key",
            KmsKeyProps(
                alias=f"{project}-terraform-state",
                description="Terraform state bucket and lock table",
                account_id=account_id,
            ),
        )
        replica_key = KmsKey(
            self,
            "state-replica-key",
            KmsKeyProps(
                alias=f"{project}-terraform-state-replica",
                description=f"Terraform state replica in {backup_region}",
                account_id=account_id,
                via_services=(f"s3.{backup_region}.amazonaws.com",),
                provider=self.aws.backup,
            ),
        )
        access_logs, replica_logs = (
            AccessLogBucket(
                self,
                f"state{'-replica' if replica else ''}-access-logs",
                AccessLogBucketProps(
                    bucket_name=f"{s3.bucket}-access-logs" + (f"-{backup_region}" if replica else ""),
                    account_id=account_id,
                    retention_days=state.access_log_retention_days,
                    provider=self.aws.backup if replica else None,
                ),
            )
            for replica in (False, True)
        )
        bucket, _ = replicated_bucket(
            self,
            "state",
            ReplicatedBucketProps(
                bucket_name=s3.bucket,
                role_name=f"{s3.bucket}-replication",
                kms_key_arn=key.arn,
                replica_kms_key_arn=replica_key.arn,
                access_log_bucket=access_logs.name,
                replica_access_log_bucket=replica_logs.name,
                region=region,
                replica_region=backup_region,
                replica_provider=self.aws.backup,
                noncurrent_version_expiration_days=state.noncurrent_version_expiration_days,
            ),
        )
        suppress(
            bucket.bucket,
            BACKUP_COVERAGE,
            "Terraform state: every version is kept and replicated to the backup region; this account-level "
            "bootstrap stack holds no backup vault",
        )
        table = StateLockTable(self, "lock-table", name=s3.lock_table, kms_key_arn=key.arn)
        suppress(table, BACKUP_COVERAGE, "holds only lock entries of running plans; point-in-time recovery is on")
        return StateOutputs(state_bucket=bucket.name, lock_table=table.name, state_kms_key_arn=key.arn)
