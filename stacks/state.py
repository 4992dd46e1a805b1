"""`state`: the S3 bucket and DynamoDB lock table every other stack keeps its state in.

Bootstrap once per account with local state, then move it into its own bucket
(iworkz/backend.py; README: bootstrapping the state backend).
"""

from __future__ import annotations

from iworkz.contracts import StateOutputs
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.lock_table import StateLockTable
from iworkz_constructs.secure_bucket import AccessLogBucket, AccessLogBucketProps, SecureBucket, SecureBucketProps
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
        access_logs = AccessLogBucket(
            self,
            "state-access-logs",
            AccessLogBucketProps(
                bucket_name=f"{s3.bucket}-access-logs",
                account_id=self.aws.account_id,
                retention_days=state.access_log_retention_days,
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
        table = StateLockTable(self, "lock-table", name=s3.lock_table, kms_key_arn=key.arn)
        return StateOutputs(state_bucket=bucket.name, lock_table=table.name, state_kms_key_arn=key.arn)
