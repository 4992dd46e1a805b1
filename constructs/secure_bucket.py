"""An S3 bucket that cannot leak or lose data: private, encrypted, versioned, TLS-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from iworkz.policy import suppress
from iworkz.policy.rules import ACCESS_LOGGING, ENCRYPTION_CMK
from iworkz_constructs.policy_document import PolicyDocument

SSE_S3 = "AES256"
# COMPLIANCE: no one, the root user included, can delete a locked version or shorten its lock.
OBJECT_LOCK_MODE = "COMPLIANCE"


@dataclass(frozen=True)
class Transition:
    days: int
    storage_class: str  # STANDARD_IA, GLACIER, DEEP_ARCHIVE, ...


@dataclass(frozen=True)
class SecureBucketProps:
    """Properties of :class:`SecureBucket`.

    | name | meaning | default |
    |---|---|---|
    | bucket_name | globally unique bucket name | required |
    | kms_key_arn | customer-managed key for SSE-KMS | required unless sse_s3_reason |
    | sse_s3_reason | opt-out to SSE-S3, with the reason (only S3 access-log targets need it) | none |
    | access_log_bucket | bucket receiving server access logs | required unless access_log_opt_out |
    | access_log_opt_out | reason for not logging access (the access-log bucket itself) | none |
    | transitions | lifecycle transitions of current versions | none |
    | expiration_days | expiry of current versions | never |
    | noncurrent_version_expiration_days | expiry of old versions | 90 |
    | extra_policy_statements | statements added to the TLS-only bucket policy | none |
    | object_lock_days | S3 Object Lock in COMPLIANCE mode: every new version is locked this many days | none |
    | prevent_destroy | refuse to destroy the bucket in Terraform | True |
    | provider | provider (region) of the bucket | the stack's default |
    """

    bucket_name: str
    kms_key_arn: str | None = None
    sse_s3_reason: str | None = None
    access_log_bucket: str | None = None
    access_log_opt_out: str | None = None
    transitions: Sequence[Transition] = ()
    expiration_days: int | None = None
    noncurrent_version_expiration_days: int = 90
    extra_policy_statements: Sequence[dict[str, Any]] = field(default_factory=tuple)
    object_lock_days: int | None = None
    prevent_destroy: bool = True
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if self.object_lock_days is not None and self.object_lock_days < 1:
            raise ValueError(f"bucket {self.bucket_name}: object_lock_days must be 1 or more")
        if (self.kms_key_arn is None) == (self.sse_s3_reason is None):
            raise ValueError(f"bucket {self.bucket_name}: give kms_key_arn, or sse_s3_reason to opt out of SSE-KMS")
        if (self.access_log_bucket is None) == (self.access_log_opt_out is None):
            raise ValueError(
                f"bucket {self.bucket_name}: give access_log_bucket, or access_log_opt_out with the reason"
            )


class SecureBucket(Construct):
    """Versioned, SSE-KMS, all public access blocked, BucketOwnerEnforced, TLS-only, logged.

    Attributes: ``bucket`` (the resource), ``name``, ``arn``, ``versioning`` (replication
    depends on it), ``policy`` (the bucket policy's :class:`PolicyDocument`), ``bucket_policy``
    (its resource: a service that checks the policy when it is configured depends on it).
    """

    def __init__(self, scope: Construct, id: str, props: SecureBucketProps) -> None:
        super().__init__(scope, id)
        provider = props.provider
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.bucket_name,
            force_destroy=False,
            # Object Lock can only be switched on together with the bucket.
            object_lock_enabled=True if props.object_lock_days else None,
            provider=provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        bucket_id = self.bucket.id  # one jsii read for every resource below
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            provider=provider,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
            provider=provider,
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            provider=provider,
        )
        if props.object_lock_days:
            S3BucketObjectLockConfigurationA(
                self,
                "object-lock",
                bucket=bucket_id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=OBJECT_LOCK_MODE, days=props.object_lock_days
                    )
                ),
                depends_on=[self.versioning],
                provider=provider,
            )
        if props.kms_key_arn is not None:
            by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=props.kms_key_arn
            )
        else:
            by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm=SSE_S3
            )
            suppress(self.bucket, ENCRYPTION_CMK, str(props.sse_s3_reason))
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default,
                    bucket_key_enabled=props.kms_key_arn is not None,
                )
            ],
            provider=provider,
        )
        if props.access_log_bucket is not None:
            S3BucketLoggingA(
                self,
                "logging",
                bucket=bucket_id,
                target_bucket=props.access_log_bucket,
                target_prefix=f"{props.bucket_name}/",
                provider=provider,
            )
        else:
            suppress(self.bucket, ACCESS_LOGGING, str(props.access_log_opt_out))
        self.policy = PolicyDocument(self, "policy-document", self._policy(props), provider=provider)
        self.bucket_policy = S3BucketPolicy(
            self,
            "policy",
            bucket=bucket_id,
            policy=self.policy.json,
            provider=provider,
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[self._lifecycle_rule(props)],
            depends_on=[self.versioning],
            provider=provider,
        )

    def _policy(self, props: SecureBucketProps) -> list[dict[str, Any]]:
        deny_insecure = {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [self.arn, f"{self.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        return [deny_insecure, *props.extra_policy_statements]

    @staticmethod
    def _lifecycle_rule(props: SecureBucketProps) -> S3BucketLifecycleConfigurationRule:
        return S3BucketLifecycleConfigurationRule(
            id="retention",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            transition=[
                S3BucketLifecycleConfigurationRuleTransition(days=t.days, storage_class=t.storage_class)
                for t in props.transitions
            ]
            or None,
            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)]
            if props.expiration_days
            else None,
            noncurrent_version_transition=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition(
                    noncurrent_days=30, storage_class="STANDARD_IA"
                )
            ]
            if props.noncurrent_version_expiration_days > 30
            else None,
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=props.noncurrent_version_expiration_days
                )
            ],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
            ],
        )


# S3 server access logging writes only into SSE-S3 encrypted buckets, and logging the log
# bucket would loop: the two opt-outs every access-log target carries.
ACCESS_LOG_TARGET_SSE_REASON = "S3 server access logging delivers only to SSE-S3 encrypted target buckets"
ACCESS_LOG_TARGET_LOGGING_REASON = "this bucket is the access-log target; logging it would loop"


@dataclass(frozen=True)
class AccessLogBucketProps:
    """Properties of :class:`AccessLogBucket`.

    | name | meaning | default |
    |---|---|---|
    | bucket_name | globally unique bucket name | required |
    | account_id | the account whose buckets log here (``aws:SourceAccount``) | required |
    | retention_days | days access logs are kept | required |
    | noncurrent_version_expiration_days | expiry of overwritten log objects | 30 |
    | provider | provider (region) of the bucket | the stack's default |
    """

    bucket_name: str
    account_id: str
    retention_days: int
    noncurrent_version_expiration_days: int = 30
    provider: AwsProvider | None = None


class AccessLogBucket(SecureBucket):
    """The target of S3 server access logging: S3's log delivery of this account may write to it."""

    def __init__(self, scope: Construct, id: str, props: AccessLogBucketProps) -> None:
        super().__init__(
            scope,
            id,
            SecureBucketProps(
                bucket_name=props.bucket_name,
                sse_s3_reason=ACCESS_LOG_TARGET_SSE_REASON,
                access_log_opt_out=ACCESS_LOG_TARGET_LOGGING_REASON,
                expiration_days=props.retention_days,
                noncurrent_version_expiration_days=props.noncurrent_version_expiration_days,
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
