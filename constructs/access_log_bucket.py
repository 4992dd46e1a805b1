"""The target bucket of S3 server access logs: SSE-S3 (log delivery supports no KMS targets),
written only by the S3 logging service for this account, and not logged itself."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps

SSE_S3_REASON = "S3 server access logging delivers only to SSE-S3 encrypted target buckets"
LOG_TARGET_REASON = "this bucket is the access-log target; logging it would loop"


@dataclass(frozen=True)
class AccessLogBucketProps:
    """Properties of :class:`AccessLogBucket`.

    | name | meaning | default |
    |---|---|---|
    | bucket_name | globally unique bucket name | required |
    | account_id | the account whose buckets log here (token from the caller identity) | required |
    | retention_days | how long access logs are kept | required |
    | provider | provider (region) of the bucket | the stack's default |
    """

    bucket_name: str
    account_id: str
    retention_days: int
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError(f"bucket {self.bucket_name}: retention_days must be 1 or more")


class AccessLogBucket(SecureBucket):
    """A :class:`SecureBucket` that receives server access logs (the same resources at the same addresses)."""

    def __init__(self, scope: Construct, id: str, props: AccessLogBucketProps) -> None:
        super().__init__(
            scope,
            id,
            SecureBucketProps(
                bucket_name=props.bucket_name,
                sse_s3_reason=SSE_S3_REASON,
                access_log_opt_out=LOG_TARGET_REASON,
                expiration_days=props.retention_days,
                noncurrent_version_expiration_days=30,
                extra_policy_statements=(
                    {
                        "Sid": "S3ServerAccessLogsDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{props.bucket_name}/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": props.account_id}},
                    },
                ),
                provider=props.provider,
            ),
        )
