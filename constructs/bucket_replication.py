"""Cross-region replication of one SecureBucket into another, KMS-encrypted on both sides.

The role may read versions from the source, write replicas into the destination, decrypt
with the source key through S3 in the source region and encrypt with the destination key
through S3 in the destination region — nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from constructs import Construct

from iworkz_constructs.policy_document import PolicyDocument, service_trust
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps, Transition

ENABLED = "Enabled"
DISABLED = "Disabled"


@dataclass(frozen=True)
class BucketReplicationProps:
    """Properties of :class:`BucketReplication`.

    | name | meaning | default |
    |---|---|---|
    | role_name | name of the replication role | required |
    | source / destination | the two SecureBuckets (versioned) | required |
    | source_kms_key_arn / destination_kms_key_arn | their SSE-KMS keys | required |
    | source_region / destination_region | their regions (KMS conditions) | required |
    | storage_class | storage class of the replicas | ``STANDARD_IA`` |
    | replicate_delete_markers | delete markers follow the source | True |
    | replication_time_control | S3 RTC: 15-minute replication SLA (extra cost) | False |
    | object_lock | both buckets have S3 Object Lock: replicas keep the source's retention | False |
    """

    role_name: str
    source: SecureBucket
    destination: SecureBucket
    source_kms_key_arn: str
    destination_kms_key_arn: str
    source_region: str
    destination_region: str
    storage_class: str = "STANDARD_IA"
    replicate_delete_markers: bool = True
    replication_time_control: bool = False
    object_lock: bool = False

    def __post_init__(self) -> None:
        if self.source_region == self.destination_region:
            raise ValueError(f"{self.role_name}: cross-region replication needs two different regions")
        if len(self.role_name) > 64:
            raise ValueError(f"{self.role_name}: IAM role names are at most 64 characters")


class BucketReplication(Construct):
    """Attributes: ``role_arn``, ``configuration`` (the replication configuration resource)."""

    def __init__(self, scope: Construct, id: str, props: BucketReplicationProps) -> None:
        super().__init__(scope, id)
        role = IamRole(
            self,
            "role",
            name=props.role_name,
            description="S3 cross-region replication",
            assume_role_policy=PolicyDocument(
                self,
                "trust-policy",
                [service_trust("s3.amazonaws.com", condition={"ArnLike": {"aws:SourceArn": props.source.arn}})],
            ).json,
        )
        policy = PolicyDocument(self, "policy-document", role_policy(props))
        IamRolePolicy(self, "policy", role=role.id, name="replicate", policy=policy.json)
        self.role_arn = role.arn
        time_control = props.replication_time_control
        self.configuration = S3BucketReplicationConfigurationA(
            self,
            "configuration",
            bucket=props.source.bucket.id,
            role=role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="cross-region",
                    status=ENABLED,
                    priority=1,
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status=ENABLED if props.replicate_delete_markers else DISABLED
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status=ENABLED
                        ),
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=props.destination.arn,
                        storage_class=props.storage_class,
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=props.destination_kms_key_arn
                        ),
                        metrics=S3BucketReplicationConfigurationRuleDestinationMetrics(
                            status=ENABLED,
                            event_threshold=S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(
                                minutes=15
                            ),
                        ),
                        replication_time=S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                            status=ENABLED,
                            time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(minutes=15),
                        )
                        if time_control
                        else None,
                    ),
                )
            ],
            # S3 refuses a replication configuration on a bucket whose versioning is not on yet.
            depends_on=[props.source.versioning, props.destination.versioning],
        )


def role_policy(props: BucketReplicationProps) -> list[dict[str, Any]]:
    source, destination = props.source.arn, props.destination.arn
    # With S3 Bucket Keys the encryption context is the bucket ARN, without them the object ARN.
    return [
        {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                # Object Lock: the retention and legal hold of each version travel with its replica.
                *(("s3:GetObjectRetention", "s3:GetObjectLegalHold") if props.object_lock else ()),
            ],
            "Resource": f"{source}/*",
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": f"{destination}/*",
        },
        {
            "Sid": "DecryptSource",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": props.source_kms_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{props.source_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source, f"{source}/*"]},
            },
        },
        {
            "Sid": "EncryptReplicas",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": props.destination_kms_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{props.destination_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [destination, f"{destination}/*"]},
            },
        },
    ]


@dataclass(frozen=True)
class ReplicatedBucketProps:
    """Properties of :func:`replicated_bucket`.

    | name | meaning | default |
    |---|---|---|
    | bucket_name | the source bucket; its replica is ``<bucket_name>-<replica region>`` | required |
    | role_name | the replication role | required |
    | kms_key_arn / replica_kms_key_arn | the buckets' SSE-KMS keys | required |
    | access_log_bucket / replica_access_log_bucket | where each bucket logs access | required |
    | region / replica_region | the two regions | required |
    | replica_provider | provider of the replica's region | required |
    | transitions / expiration_days / noncurrent_version_expiration_days | lifecycle of both | see SecureBucketProps |
    | object_lock_days | S3 Object Lock (COMPLIANCE) on both; replicas keep each version's lock | none |
    | extra_policy_statements | statements added to the source's bucket policy (services delivering into it) | none |
    """

    bucket_name: str
    role_name: str
    kms_key_arn: str
    replica_kms_key_arn: str
    access_log_bucket: str
    replica_access_log_bucket: str
    region: str
    replica_region: str
    replica_provider: Any
    transitions: Sequence[Transition] = ()
    expiration_days: int | None = None
    noncurrent_version_expiration_days: int = 90
    object_lock_days: int | None = None
    extra_policy_statements: Sequence[dict[str, Any]] = ()


def replicated_bucket(scope: Construct, id: str, props: ReplicatedBucketProps) -> tuple[SecureBucket, SecureBucket]:
    """A SecureBucket and its replica in another region, replicated; returns (source, replica).

    Created in ``scope`` as ``<id>-bucket``, ``<id>-replica-bucket`` and ``<id>-replication``
    (a factory rather than a construct: the buckets keep the addresses they have in state).
    """
    source, replica = (
        SecureBucket(
            scope,
            bucket_id,
            SecureBucketProps(
                bucket_name=name,
                kms_key_arn=key,
                access_log_bucket=logs,
                transitions=props.transitions,
                expiration_days=props.expiration_days,
                noncurrent_version_expiration_days=props.noncurrent_version_expiration_days,
                object_lock_days=props.object_lock_days,
                extra_policy_statements=statements,
                provider=provider,
            ),
        )
        for bucket_id, name, key, logs, provider, statements in (
            (
                f"{id}-bucket",
                props.bucket_name,
                props.kms_key_arn,
                props.access_log_bucket,
                None,
                props.extra_policy_statements,
            ),
            (
                f"{id}-replica-bucket",
                f"{props.bucket_name}-{props.replica_region}",
                props.replica_kms_key_arn,
                props.replica_access_log_bucket,
                props.replica_provider,
                (),
            ),
        )
    )
    BucketReplication(
        scope,
        f"{id}-replication",
        BucketReplicationProps(
            role_name=props.role_name,
            source=source,
            destination=replica,
            source_kms_key_arn=props.kms_key_arn,
            destination_kms_key_arn=props.replica_kms_key_arn,
            source_region=props.region,
            destination_region=props.replica_region,
            object_lock=props.object_lock_days is not None,
        ),
    )
    return source, replica
