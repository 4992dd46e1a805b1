"""`state`: the S3 bucket and DynamoDB lock table every other stack keeps its state in.

Bootstrap once per account with local state, then move it into its own bucket
(iworkz/backend.py; README: bootstrapping the state backend).
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
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps
from stacks.base import IworkzStack


class StateStack(IworkzStack):
    def build(self) -> StateOutputs:
        context = self.context
        s3 = context.common.backend.s3
        state = context.common.state
        key = KmsKey(
            self,
            "state-key",
            KmsKeyProps(
                alias=f"{context.common.project}-terraform-state",
                description="Terraform state bucket and lock table",
                account_id=self.aws.account_id,
            ),
        )
        access_logs = SecureBucket(
            self,
            "state-access-logs",
            SecureBucketProps(
                bucket_name=f"{s3.bucket}-access-logs",
                sse_s3_reason="S3 server access logging delivers only to SSE-S3 encrypted target buckets",
                access_log_opt_out="this bucket is the access-log target; logging it would loop",
                expiration_days=state.access_log_retention_days,
                noncurrent_version_expiration_days=30,
                extra_policy_statements=(
                    {
                        "Sid": "S3ServerAccessLogsDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{s3.bucket}-access-logs/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": self.aws.account_id}},
                    },
                ),
            ),
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
        return StateOutputs.of(context, state_bucket=bucket.name, lock_table=table.name, state_kms_key_arn=key.arn)
