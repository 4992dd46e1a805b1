"""Data section: PostgreSQL, Redis, OpenSearch and S3 (seed 12.1 data services, 12.4)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from iworkz.config import catalog
from iworkz.config.base import LogRetentionDays, Model, reject_number, rule_error

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"([01]\d|2[0-3]):[0-5]\d"
_BACKUP_WINDOW = re.compile(rf"^(?P<start>{_TIME})-(?P<end>{_TIME})$")
_MAINTENANCE_WINDOW = re.compile(
    rf"^(?P<start_day>[a-z]{{3}}):(?P<start>{_TIME})-(?P<end_day>[a-z]{{3}}):(?P<end>{_TIME})$"
)
_WEEK = 7 * 24 * 60
MIN_WINDOW_MINUTES = 30


def _minutes(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 60 + int(minutes)


def _backup_window(value: str) -> str:
    match = _BACKUP_WINDOW.match(value)
    if not match:
        raise rule_error("must be an RDS backup window hh:mm-hh:mm (UTC)", "e.g. '03:00-04:00'")
    if (_minutes(match["end"]) - _minutes(match["start"])) % (24 * 60) < MIN_WINDOW_MINUTES:
        raise rule_error(f"an RDS backup window lasts at least {MIN_WINDOW_MINUTES} minutes", "e.g. '03:00-04:00'")
    return value


def _maintenance_window(value: str) -> str:
    match = _MAINTENANCE_WINDOW.match(value)
    if not match or match["start_day"] not in _DAYS or match["end_day"] not in _DAYS:
        raise rule_error(
            f"must be an RDS maintenance window ddd:hh:mm-ddd:hh:mm (UTC; days {', '.join(_DAYS)})",
            "e.g. 'sun:04:00-sun:05:00'",
        )
    start, end = _week_interval(value)
    if not MIN_WINDOW_MINUTES <= (end - start) <= 24 * 60:
        raise rule_error(
            f"an RDS maintenance window lasts {MIN_WINDOW_MINUTES} minutes to 24 hours", "e.g. 'sun:04:00-sun:05:00'"
        )
    return value


def _week_interval(window: str) -> tuple[int, int]:
    """A maintenance window as [start, end) minutes since Monday 00:00 (end may pass the week)."""
    match = _MAINTENANCE_WINDOW.match(window)
    assert match is not None
    start = _DAYS.index(match["start_day"]) * 24 * 60 + _minutes(match["start"])
    end = _DAYS.index(match["end_day"]) * 24 * 60 + _minutes(match["end"])
    return start, end if end > start else end + _WEEK


def windows_overlap(backup: str, maintenance: str) -> bool:
    """Whether the daily backup window meets the weekly maintenance window (RDS refuses that)."""
    match = _BACKUP_WINDOW.match(backup)
    assert match is not None
    daily_start = _minutes(match["start"])
    daily_end = _minutes(match["end"]) if _minutes(match["end"]) > daily_start else _minutes(match["end"]) + 24 * 60
    start, end = _week_interval(maintenance)
    for day in range(-1, 8):
        b_start, b_end = day * 24 * 60 + daily_start, day * 24 * 60 + daily_end
        if b_start < end and start < b_end:
            return True
    return False


def _instance_type(
    kind: str, families_table: str, written: Callable[[str, str], str], example: str
) -> Callable[[str], str]:
    """A validator of instance names built from a family list and the size list of the catalog."""

    def check(value: str) -> str:
        families = catalog.values("aws.yaml", families_table)
        sizes = catalog.values("aws.yaml", "instance_sizes")
        if value not in {written(family, size) for family in families for size in sizes}:
            raise rule_error(
                f"is not {kind} (written {written('<family>', '<size>')}; families: {', '.join(families)}; "
                f"iworkz/config/catalog/aws.yaml: {families_table})",
                f"e.g. {example}",
            )
        return value

    return check


RdsInstanceClass = Annotated[
    str,
    AfterValidator(
        _instance_type(
            "an RDS for PostgreSQL instance class",
            "rds_postgres_instance_families",
            lambda f, s: f"{f}.{s}",
            "db.r6g.xlarge",
        )
    ),
]
CacheNodeType = Annotated[
    str,
    AfterValidator(
        _instance_type(
            "an ElastiCache node type", "elasticache_node_families", lambda f, s: f"{f}.{s}", "cache.r7g.large"
        )
    ),
]
SearchInstanceType = Annotated[
    str,
    AfterValidator(
        _instance_type(
            "an OpenSearch Service instance type",
            "opensearch_instance_families",
            lambda f, s: f"{f}.{s}.search",
            "r6g.large.search",
        )
    ),
]


def _version(field: str) -> BeforeValidator:
    return BeforeValidator(reject_number(field))


class PostgresConfig(Model):
    # Left out: the newest version in standard support on the day of the synth (catalog/versions.yaml).
    engine_version: Annotated[str, _version("engine_version")] = Field(
        default_factory=catalog.newest_in_standard_support("postgres")
    )
    instance_class: RdsInstanceClass = "db.r6g.xlarge"
    allocated_storage_gb: int = Field(100, ge=20)
    max_allocated_storage_gb: int = Field(1000, ge=20)
    multi_az: bool = True
    read_replicas: int = Field(1, ge=0)
    backup_retention_days: int = Field(7, ge=1, le=35)
    backup_window: Annotated[str, AfterValidator(_backup_window)] = "03:00-04:00"
    maintenance_window: Annotated[str, AfterValidator(_maintenance_window)] = "sun:04:00-sun:05:00"
    database_name: str = Field("iworkz", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    master_username: str = Field("iworkz_admin", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    # Automated backups copied to aws.backup_region (seed 12.1: cross-region backups).
    cross_region_backup_retention_days: int = Field(7, ge=1, le=35)
    log_retention_days: LogRetentionDays = 365
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
        if windows_overlap(self.backup_window, self.maintenance_window):
            raise rule_error(
                f"the maintenance window overlaps the daily backup window {self.backup_window} (RDS refuses that)",
                "move one of them, e.g. backup_window '03:00-04:00' and maintenance_window 'sun:04:00-sun:05:00'",
                field="maintenance_window",
                value=self.maintenance_window,
            )
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
    engine_version: Annotated[str, _version("engine_version")] = Field(
        default_factory=catalog.newest_in_standard_support("redis")
    )
    node_type: CacheNodeType = "cache.r7g.large"
    shards: int = Field(3, ge=1, le=500)
    # Multi-AZ with automatic failover needs a replica in every shard.
    replicas_per_shard: int = Field(2, ge=1, le=5)
    snapshot_retention_days: int = Field(7, ge=1, le=35)
    log_retention_days: LogRetentionDays = 14

    @field_validator("engine_version")
    @classmethod
    def _redis_7(cls, value: str) -> str:
        if value.split(".")[0] != "7":
            raise rule_error("must be a Redis 7 version (7.x)", "e.g. '7.1'")
        return value


class OpenSearchConfig(Model):
    engine_version: str = Field(default_factory=catalog.newest_in_standard_support("opensearch"))
    instance_type: SearchInstanceType = "r6g.large.search"
    instance_count: int = Field(3, ge=1)
    master_instance_type: SearchInstanceType = "m6g.large.search"
    # Dedicated masters: none, or an odd quorum of 3 or 5 (the only counts OpenSearch Service allows).
    master_count: Literal[0, 3, 5] = 3
    volume_size_gb: int = Field(100, ge=10)
    log_retention_days: LogRetentionDays = 365
    # Seed 12.1 log tiers: the ISM policy moves indices hot -> warm (UltraWarm) -> cold. Off unless
    # configured, as in OpenSearchProps (a default lives in one place: tests/test_defaults.py).
    warm_count: int = 0
    warm_instance_type: str = "ultrawarm1.medium.search"
    cold_storage: bool = False

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
    # access-log bucket is always there. At most 30: the weekly restore test selects them by ARN,
    # and an AWS Backup restore-testing selection takes at most 30.
    buckets: list[str] = Field(default_factory=lambda: ["documents", "backups"], min_length=1, max_length=30)
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
