"""Data section: PostgreSQL, Redis, OpenSearch and S3 (seed 12.1 data services, 12.4)."""

from __future__ import annotations

import itertools
import re

from pydantic import Field, field_validator, model_validator

from iworkz.config.base import Model, rule_error


class PostgresConfig(Model):
    engine_version: str = "16.6"
    instance_class: str = "db.r6g.xlarge"
    allocated_storage_gb: int = Field(100, ge=20)
    max_allocated_storage_gb: int = Field(1000, ge=20)
    multi_az: bool = True
    read_replicas: int = Field(1, ge=0)
    backup_retention_days: int = Field(7, ge=1, le=35)
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:04:00-sun:05:00"
    database_name: str = Field("iworkz", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    master_username: str = Field("iworkz_admin", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    # Automated backups copied to aws.backup_region (seed 12.1: cross-region backups).
    cross_region_backup_retention_days: int = Field(7, ge=1, le=35)
    log_retention_days: int = Field(365, ge=1)
    performance_insights_retention_days: int = 7

    @field_validator("engine_version")
    @classmethod
    def _postgres_16(cls, value: str) -> str:
        major, _, minor = value.partition(".")
        if major != "16" or not minor.isdigit():
            raise rule_error("must be a PostgreSQL 16 minor version (16.x)", "e.g. '16.6'")
        return value

    @model_validator(mode="after")
    def _check(self) -> PostgresConfig:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise rule_error(
                "max_allocated_storage_gb must be at least allocated_storage_gb",
                "raise max_allocated_storage_gb",
                field="max_allocated_storage_gb",
                value=self.max_allocated_storage_gb,
            )
        if self.performance_insights_retention_days != 7 and (
            self.performance_insights_retention_days % 31 or self.performance_insights_retention_days > 731
        ):
            raise rule_error(
                "Performance Insights keeps data 7 days or a multiple of 31 days up to 731",
                "use 7, 31, 62, ... or 731",
                field="performance_insights_retention_days",
                value=self.performance_insights_retention_days,
            )
        if self.read_replicas > 5:
            raise rule_error(
                "at most 5 read replicas are allowed (RDS limit for this design)",
                "lower read_replicas",
                field="read_replicas",
                value=self.read_replicas,
            )
        return self


class RedisConfig(Model):
    engine_version: str = "7.1"
    node_type: str = "cache.r7g.large"
    shards: int = Field(3, ge=1, le=500)
    # Multi-AZ with automatic failover needs a replica in every shard.
    replicas_per_shard: int = Field(2, ge=1, le=5)
    snapshot_retention_days: int = Field(7, ge=1, le=35)
    log_retention_days: int = Field(14, ge=1)

    @field_validator("engine_version")
    @classmethod
    def _redis_7(cls, value: str) -> str:
        if value.split(".")[0] != "7":
            raise rule_error("must be a Redis 7 version (7.x)", "e.g. '7.1'")
        return value


class OpenSearchConfig(Model):
    engine_version: str = "OpenSearch_2.17"
    instance_type: str = "r6g.large.search"
    instance_count: int = Field(3, ge=1)
    master_instance_type: str = "m6g.large.search"
    master_count: int = Field(3, ge=0)
    volume_size_gb: int = Field(100, ge=10)
    log_retention_days: int = Field(365, ge=1)
    # Seed 12.1 log tiers: the ISM policy moves indices hot -> warm (UltraWarm) -> cold.
    warm_count: int = 2
    warm_instance_type: str = "ultrawarm1.medium.search"
    cold_storage: bool = True

    @field_validator("engine_version")
    @classmethod
    def _opensearch_2(cls, value: str) -> str:
        if not value.startswith("OpenSearch_2."):
            raise rule_error("must be an OpenSearch 2.x version", "e.g. 'OpenSearch_2.17'")
        return value

    @field_validator("warm_instance_type")
    @classmethod
    def _ultrawarm_type(cls, value: str) -> str:
        if not value.startswith("ultrawarm1."):
            raise rule_error(
                "must be an UltraWarm node type (ultrawarm1.*)",
                "use ultrawarm1.medium.search or ultrawarm1.large.search",
            )
        return value

    @model_validator(mode="after")
    def _tiers(self) -> OpenSearchConfig:
        if self.warm_count != 0 and not 2 <= self.warm_count <= 150:
            raise rule_error(
                "OpenSearch UltraWarm needs 2-150 warm nodes (0 turns UltraWarm off)",
                "use 2 or more, or 0 for no warm tier (then also cold_storage: false)",
                field="warm_count",
                value=self.warm_count,
            )
        if self.warm_count and self.master_count == 0:
            raise rule_error(
                "OpenSearch UltraWarm needs dedicated master nodes",
                "set master_count: 3, or warm_count: 0 and cold_storage: false",
                field="warm_count",
                value=self.warm_count,
            )
        if self.warm_count and self.instance_type.startswith(("t2.", "t3.")):
            raise rule_error(
                f"OpenSearch UltraWarm is not available with T2/T3 data nodes ({self.instance_type})",
                "use a larger data node type such as r6g.large.search, or warm_count: 0 and cold_storage: false",
                field="warm_count",
                value=self.warm_count,
            )
        if self.cold_storage and not self.warm_count:
            raise rule_error(
                "OpenSearch cold storage needs UltraWarm (indices reach cold through the warm tier)",
                "set cold_storage: false, or warm_count: 2 or more",
                field="cold_storage",
                value=self.cold_storage,
            )
        return self


class BucketLifecycleConfig(Model):
    """Seed 12.1: 30 days hot, 1 year warm, 7 years cold."""

    standard_ia_after_days: int = Field(30, ge=30)
    glacier_after_days: int = Field(365, ge=90)
    deep_archive_after_days: int = Field(730, ge=180)
    expire_after_days: int = Field(2555, ge=1)
    noncurrent_expire_after_days: int = Field(365, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> BucketLifecycleConfig:
        steps = [
            ("standard_ia_after_days", self.standard_ia_after_days),
            ("glacier_after_days", self.glacier_after_days),
            ("deep_archive_after_days", self.deep_archive_after_days),
            ("expire_after_days", self.expire_after_days),
        ]
        for (before_name, before), (name, value) in itertools.pairwise(steps):
            if value <= before:
                raise rule_error(
                    f"{name} must come after {before_name} ({before})",
                    "keep the transitions in the order Standard-IA, Glacier, Deep Archive, expiry",
                    field=name,
                    value=value,
                )
        return self


ACCESS_LOGS_BUCKET = "access-logs"


def data_bucket_name(prefix: str, bucket: str) -> str:
    """The S3 name of an application bucket of an environment, e.g. ``iworkz-production-documents``."""
    return f"{prefix}-{bucket}"


def replica_bucket_name(prefix: str, bucket: str, backup_region: str) -> str:
    """The S3 name of its replica in the backup region."""
    return f"{data_bucket_name(prefix, bucket)}-{backup_region}"


class DataConfig(Model):
    postgres: PostgresConfig = PostgresConfig()
    redis: RedisConfig = RedisConfig()
    opensearch: OpenSearchConfig = OpenSearchConfig()
    lifecycle: BucketLifecycleConfig = BucketLifecycleConfig()
    # Application buckets <prefix>-<name>, each replicated to aws.backup_region; the
    # access-log bucket is always there.
    buckets: list[str] = Field(default_factory=lambda: ["documents", "backups"], min_length=1)
    access_log_retention_days: int = Field(365, ge=90)

    @field_validator("buckets")
    @classmethod
    def _bucket_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9-]{1,20}", name):
                raise rule_error(
                    f"bucket name {name!r} must be 2-21 lowercase letters, digits and hyphens",
                    "e.g. documents",
                )
            if name == ACCESS_LOGS_BUCKET:
                raise rule_error(f"{ACCESS_LOGS_BUCKET} is created for every environment", "remove it from buckets")
        if len(set(value)) != len(value):
            raise rule_error("bucket names must be unique", "remove the duplicate")
        return value
