"""The data stack's customer-managed keys: one per kind of data, and one in the backup region.

A builder in the caller's scope (the keys keep their addresses: ``<purpose>-key``, ``replica-key``).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.kms_key import KeyPurpose, KmsKey, KmsKeyProps, purpose_keys, regional_services


def data_keys(
    scope: Construct, prefix: str, account_id: str, region: str, backup_region: str, backup_provider: AwsProvider
) -> dict[str, KmsKey]:
    """Keys by purpose: ``database``, ``cache``, ``search``, ``buckets``, ``secrets`` and ``replica``
    (bucket replicas and RDS backup copies in ``backup_region``)."""
    logs = f"logs.{region}.amazonaws.com"
    keys = purpose_keys(
        scope,
        prefix,
        account_id,
        {
            "database": KeyPurpose(
                "RDS PostgreSQL storage, Performance Insights and logs", (logs,), regional_services(region, "rds")
            ),
            "cache": KeyPurpose(
                "ElastiCache Redis data at rest and logs", (logs,), regional_services(region, "elasticache")
            ),
            "search": KeyPurpose("OpenSearch data at rest and logs", (logs,), regional_services(region, "es")),
            "buckets": KeyPurpose("S3 application buckets", (), regional_services(region, "s3")),
            "secrets": KeyPurpose(
                "Secrets Manager entries of the workloads", (), regional_services(region, "secretsmanager", "rds")
            ),
        },
    )
    keys["replica"] = KmsKey(
        scope,
        "replica-key",
        KmsKeyProps(
            alias=f"{prefix}-replica",
            description=f"{prefix}: bucket replicas and RDS backup copies in {backup_region}",
            account_id=account_id,
            via_services=regional_services(backup_region, "s3", "rds"),
            provider=backup_provider,
        ),
    )
    return keys
