"""The data stack's buckets: access logs in both regions and each application bucket with its replica.

A builder, not a construct: the buckets are created in the caller's scope and keep the addresses
they have in state (``<name>-bucket``, ``<name>-replica-bucket``, ``<name>-replication``,
``access-logs-bucket``, ``access-logs-replica-bucket``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz.config.data import ACCESS_LOGS_BUCKET as ACCESS_LOGS
from iworkz.config.data import data_bucket_name
from iworkz_constructs.bucket_replication import ReplicatedBucketProps, replicated_bucket
from iworkz_constructs.secure_bucket import AccessLogBucket, AccessLogBucketProps, SecureBucket, Transition


@dataclass(frozen=True)
class DataBucketsProps:
    """Properties of :func:`data_buckets`.

    | name | meaning | default |
    |---|---|---|
    | prefix | ``<project>-<environment>``: the buckets are ``<prefix>-<name>`` (replicas: ``-<backup region>``) | required |
    | names | the application buckets | required |
    | account_id / region / backup_region | where the buckets and their replicas live | required |
    | backup_provider | provider of the backup region | required |
    | kms_key_arn / replica_kms_key_arn | keys of the buckets and of the replicas | required |
    | access_log_retention_days | days the access logs are kept | required |
    | transitions / expiration_days / noncurrent_version_expiration_days | lifecycle of the application buckets | none / never / 90 |
    """

    prefix: str
    names: Sequence[str]
    account_id: str
    region: str
    backup_region: str
    backup_provider: AwsProvider
    kms_key_arn: str
    replica_kms_key_arn: str
    access_log_retention_days: int
    transitions: Sequence[Transition] = ()
    expiration_days: int | None = None
    noncurrent_version_expiration_days: int = 90


def data_buckets(scope: Construct, props: DataBucketsProps) -> dict[str, SecureBucket]:
    """Every bucket by name: ``access-logs``, ``access-logs-replica``, ``<name>``, ``<name>-replica``."""
    logs = {
        replica: AccessLogBucket(
            scope,
            f"{ACCESS_LOGS}{'-replica' if replica else ''}-bucket",
            AccessLogBucketProps(
                bucket_name=f"{props.prefix}-{ACCESS_LOGS}" + (f"-{props.backup_region}" if replica else ""),
                account_id=props.account_id,
                retention_days=props.access_log_retention_days,
                provider=props.backup_provider if replica else None,
            ),
        )
        for replica in (False, True)
    }
    buckets: dict[str, SecureBucket] = {ACCESS_LOGS: logs[False], f"{ACCESS_LOGS}-replica": logs[True]}
    for name in props.names:
        buckets[name], buckets[f"{name}-replica"] = replicated_bucket(
            scope,
            name,
            ReplicatedBucketProps(
                bucket_name=data_bucket_name(props.prefix, name),
                role_name=f"{props.prefix}-{name}-replication",
                kms_key_arn=props.kms_key_arn,
                replica_kms_key_arn=props.replica_kms_key_arn,
                access_log_bucket=logs[False].name,
                replica_access_log_bucket=logs[True].name,
                region=props.region,
                replica_region=props.backup_region,
                replica_provider=props.backup_provider,
                transitions=tuple(props.transitions),
                expiration_days=props.expiration_days,
                noncurrent_version_expiration_days=props.noncurrent_version_expiration_days,
            ),
        )
    return buckets
