"""The data stack's AWS Backup plan: the database and the application buckets (their Osaka
replicas are copies already), with the schedule, retention and locks of the environment's
``backup`` settings, and restore tests of each protected type.

A builder, not a construct: its plan belongs to the caller's scope (id ``backup``), so the
addresses the data stack has had stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from constructs import Construct

from iworkz_constructs.backup_plan import BackupPlan, BackupPlanProps, RestoreTarget

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from iworkz.config.backup import BackupConfig


def data_backup(
    scope: Construct,
    *,
    name: str,
    settings: BackupConfig,
    account_id: str,
    region: str,
    backup_region: str,
    backup_provider: AwsProvider,
    database_arn: str,
    bucket_arns: Sequence[str],
    db_subnet_group_name: str,
) -> BackupPlan:
    """The plan ``name`` over the database and ``bucket_arns``."""
    return BackupPlan(
        scope,
        "backup",
        BackupPlanProps(
            name=name,
            account_id=account_id,
            region=region,
            backup_region=backup_region,
            backup_provider=backup_provider,
            resource_arns=[database_arn, *bucket_arns],
            restore_targets=(
                # The restored instance lands in the database subnets (the VPC has no default one).
                RestoreTarget("RDS", (database_arn,), {"dbSubnetGroupName": db_subnet_group_name}),
                RestoreTarget("S3", tuple(bucket_arns)),
                RestoreTarget("EBS"),
            ),
            daily_schedule=settings.daily_schedule,
            monthly_schedule=settings.monthly_schedule,
            daily_retention_days=settings.daily_retention_days,
            monthly_retention_days=settings.monthly_retention_days,
            monthly_cold_storage_after_days=settings.monthly_cold_storage_after_days,
            vault_lock_min_retention_days=settings.vault_lock_min_retention_days,
            vault_lock_max_retention_days=settings.vault_lock_max_retention_days,
            vault_lock_grace_days=settings.vault_lock_grace_days,
            restore_testing_schedule=settings.restore_testing_schedule,
            restore_testing_window_days=settings.restore_testing_window_days,
            restore_validation_hours=settings.restore_validation_hours,
        ),
    )
