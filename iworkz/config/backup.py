"""Backup section of an environment: AWS Backup for the data stack's database, volumes and buckets.

Daily recovery points are kept 35 days, monthly ones 7 years in cold storage (the platform
design, chapter 12.1: 30 days hot, 1 year warm, 7 years cold); every recovery point is copied
to a vault in the backup region. Both vaults are locked in compliance mode, so that once the
grace period ends no one (the root user included) can delete a recovery point early or unlock
the vault, and a restore-testing plan restores the latest points on a schedule.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from iworkz.config.base import Model, rule_error

DAILY_MIN_RETENTION_DAYS = 35
MONTHLY_MIN_RETENTION_DAYS = 2555  # 7 x 365, the design's 7 years cold
# AWS Backup: a recovery point in cold storage stays there at least 90 days.
COLD_STORAGE_MIN_DAYS = 90
# AWS Backup Vault Lock: a compliance-mode lock has a grace period of at least 3 days.
VAULT_LOCK_MIN_GRACE_DAYS = 3
_CRON = r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$"


class BackupConfig(Model):
    # 05:00 UTC, after the RDS backup window (03:00-04:00) and the Sunday maintenance (04:00-05:00).
    daily_schedule: str = Field("cron(0 5 * * ? *)", pattern=_CRON)
    monthly_schedule: str = Field("cron(0 5 1 * ? *)", pattern=_CRON)
    daily_retention_days: int = DAILY_MIN_RETENTION_DAYS
    monthly_retention_days: int = MONTHLY_MIN_RETENTION_DAYS
    monthly_cold_storage_after_days: int = 30
    # Vault Lock bounds for every recovery point in the vaults (both regions).
    vault_lock_min_retention_days: int = Field(DAILY_MIN_RETENTION_DAYS, ge=1)
    vault_lock_max_retention_days: int = Field(3650, ge=1, le=36500)
    vault_lock_grace_days: int = Field(VAULT_LOCK_MIN_GRACE_DAYS, ge=VAULT_LOCK_MIN_GRACE_DAYS, le=36500)
    # Weekly restore test (Saturday 06:00 UTC) of the latest recovery point of each resource type.
    restore_testing_schedule: str = Field("cron(0 6 ? * SAT *)", pattern=_CRON)
    restore_testing_window_days: int = Field(7, ge=1, le=365)
    # Hours the restored copy stays up for validation before AWS Backup deletes it.
    restore_validation_hours: int = Field(4, ge=1, le=168)

    @model_validator(mode="after")
    def _retention_rules(self) -> BackupConfig:
        if self.daily_retention_days < DAILY_MIN_RETENTION_DAYS:
            raise rule_error(
                f"daily recovery points are kept at least {DAILY_MIN_RETENTION_DAYS} days",
                f"set daily_retention_days: {DAILY_MIN_RETENTION_DAYS} or more",
                field="daily_retention_days",
                value=self.daily_retention_days,
            )
        if self.monthly_retention_days < MONTHLY_MIN_RETENTION_DAYS:
            raise rule_error(
                f"monthly recovery points are kept at least {MONTHLY_MIN_RETENTION_DAYS} days (the platform design, "
                "chapter 12.1: 7 years cold)",
                f"set monthly_retention_days: {MONTHLY_MIN_RETENTION_DAYS} or more",
                field="monthly_retention_days",
                value=self.monthly_retention_days,
            )
        if self.monthly_retention_days < self.monthly_cold_storage_after_days + COLD_STORAGE_MIN_DAYS:
            raise rule_error(
                f"a recovery point stays in cold storage at least {COLD_STORAGE_MIN_DAYS} days",
                f"keep monthly points at least {COLD_STORAGE_MIN_DAYS} days past monthly_cold_storage_after_days",
                field="monthly_cold_storage_after_days",
                value=self.monthly_cold_storage_after_days,
            )
        if self.vault_lock_min_retention_days > self.vault_lock_max_retention_days:
            raise rule_error(
                f"the vault lock's minimum retention ({self.vault_lock_min_retention_days}) is above its maximum "
                f"({self.vault_lock_max_retention_days})",
                "lower vault_lock_min_retention_days or raise vault_lock_max_retention_days",
                field="vault_lock_min_retention_days",
                value=self.vault_lock_min_retention_days,
            )
        if self.vault_lock_min_retention_days > self.daily_retention_days:
            raise rule_error(
                "the vault lock would refuse the daily recovery points (kept shorter than its minimum retention)",
                f"set vault_lock_min_retention_days: {self.daily_retention_days} or less",
                field="vault_lock_min_retention_days",
                value=self.vault_lock_min_retention_days,
            )
        if self.vault_lock_max_retention_days < self.monthly_retention_days:
            raise rule_error(
                "the vault lock would refuse the monthly recovery points (kept longer than its maximum retention)",
                f"set vault_lock_max_retention_days: {self.monthly_retention_days} or more",
                field="vault_lock_max_retention_days",
                value=self.vault_lock_max_retention_days,
            )
        return self
