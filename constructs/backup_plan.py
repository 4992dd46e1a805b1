"""AWS Backup that no one can delete: locked vaults in two regions, a plan, and restore tests.

- Two vaults, in the primary and the backup region, each with its own customer-managed key and
  a Vault Lock in compliance mode: once its grace period ends, no one (the root user included)
  can delete a recovery point before its retention or remove the lock.
- One plan: daily recovery points kept ``daily_retention_days``; monthly ones moved to cold
  storage after ``monthly_cold_storage_after_days`` and kept ``monthly_retention_days``. Every
  recovery point is copied to the backup region's vault with the same lifecycle.
- Selections: the given resource ARNs (databases, buckets), and the EBS volumes that carry the
  backup tag (the volumes the EBS CSI driver creates for persistent volume claims).
- A restore-testing plan that restores the latest recovery point of each protected resource type
  on a schedule and deletes the restored copy after the validation window: restores are proven,
  not assumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan as BackupPlanResource,
)
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_restore_testing_plan import (
    BackupRestoreTestingPlan,
    BackupRestoreTestingPlanRecoveryPointSelection,
)
from cdktf_cdktf_provider_aws.backup_restore_testing_selection import (
    BackupRestoreTestingSelection,
    BackupRestoreTestingSelectionProtectedResourceConditions,
    BackupRestoreTestingSelectionProtectedResourceConditionsStringEquals,
)
from cdktf_cdktf_provider_aws.backup_selection import (
    BackupSelection,
    BackupSelectionCondition,
    BackupSelectionConditionStringEquals,
)
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz.config.backup import (
    COLD_STORAGE_MIN_DAYS,
    DAILY_MIN_RETENTION_DAYS,
    MONTHLY_MIN_RETENTION_DAYS,
    VAULT_LOCK_MIN_GRACE_DAYS,
)
from iworkz.policy.rules.backup_coverage import BACKUP_TAG_KEY
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.policy_document import PolicyDocument, service_trust

# AWS-managed policies of the AWS Backup service role: back up and restore, S3 included.
SERVICE_ROLE_POLICIES = tuple(
    f"arn:aws:iam::aws:policy/service-role/{name}"
    for name in (
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
    )
) + tuple(
    f"arn:aws:iam::aws:policy/{name}"
    for name in ("AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore")
)
# Restore testing: one selection per protected resource type (RDS, S3, EBS).
RESOURCE_TYPES = ("RDS", "S3", "EBS")


@dataclass(frozen=True)
class RestoreTarget:
    """Resources of one type whose latest recovery point the restore test restores.

    ``arns`` (at most 30) or, with ``arns`` empty, every resource carrying the backup tag;
    ``metadata`` overrides what AWS Backup infers (e.g. the RDS subnet group of the VPC).
    """

    resource_type: str
    arns: Sequence[str] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.resource_type not in RESOURCE_TYPES:
            raise ValueError(f"restore target {self.resource_type!r}: one of {RESOURCE_TYPES}")
        if len(self.arns) > 30:
            raise ValueError(f"restore target {self.resource_type}: at most 30 resource ARNs")


@dataclass(frozen=True)
class BackupPlanProps:
    """Properties of :class:`BackupPlan`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of vaults, plan, role and keys, e.g. ``iworkz-production`` | required |
    | account_id | the owning account (token from the caller identity) | required |
    | region / backup_region | the primary region and the region of the copies | required |
    | backup_provider | provider of the backup region | required |
    | resource_arns | ARNs the plan backs up (databases, buckets) | required |
    | restore_targets | what the restore-testing plan restores, per resource type | required |
    | daily_schedule / monthly_schedule | cron expressions (UTC) | 05:00 daily / the 1st |
    | daily_retention_days | daily recovery points, at least 35 days | 35 |
    | monthly_retention_days | monthly recovery points, at least 7 years (2555 days) | 2555 |
    | monthly_cold_storage_after_days | monthly points move to cold storage | 30 |
    | vault_lock_min_retention_days / vault_lock_max_retention_days | the locks' bounds | 35 / 3650 |
    | vault_lock_grace_days | days before a lock becomes immutable (compliance mode) | 3 |
    | restore_testing_schedule | cron expression (UTC) of the restore tests | Saturday 06:00 |
    | restore_testing_window_days | how recent a restored recovery point must be | 7 |
    | restore_validation_hours | hours a restored copy stays for validation | 4 |
    """

    name: str
    account_id: str
    region: str
    backup_region: str
    backup_provider: AwsProvider
    resource_arns: Sequence[str]
    restore_targets: Sequence[RestoreTarget]
    daily_schedule: str = "cron(0 5 * * ? *)"
    monthly_schedule: str = "cron(0 5 1 * ? *)"
    daily_retention_days: int = DAILY_MIN_RETENTION_DAYS
    monthly_retention_days: int = MONTHLY_MIN_RETENTION_DAYS
    monthly_cold_storage_after_days: int = 30
    vault_lock_min_retention_days: int = DAILY_MIN_RETENTION_DAYS
    vault_lock_max_retention_days: int = 3650
    vault_lock_grace_days: int = VAULT_LOCK_MIN_GRACE_DAYS
    restore_testing_schedule: str = "cron(0 6 ? * SAT *)"
    restore_testing_window_days: int = 7
    restore_validation_hours: int = 4

    def __post_init__(self) -> None:
        if self.region == self.backup_region:
            raise ValueError(f"backup {self.name}: copies need a second region")
        if self.daily_retention_days < DAILY_MIN_RETENTION_DAYS:
            raise ValueError(f"backup {self.name}: daily points are kept at least {DAILY_MIN_RETENTION_DAYS} days")
        if self.monthly_retention_days < MONTHLY_MIN_RETENTION_DAYS:
            raise ValueError(f"backup {self.name}: monthly points are kept at least {MONTHLY_MIN_RETENTION_DAYS} days")
        if self.monthly_retention_days < self.monthly_cold_storage_after_days + COLD_STORAGE_MIN_DAYS:
            raise ValueError(f"backup {self.name}: points stay in cold storage at least {COLD_STORAGE_MIN_DAYS} days")
        if self.vault_lock_min_retention_days > self.vault_lock_max_retention_days:
            raise ValueError(f"backup {self.name}: the vault lock's minimum retention is above its maximum")
        if not self.vault_lock_min_retention_days <= self.daily_retention_days <= self.vault_lock_max_retention_days:
            raise ValueError(f"backup {self.name}: the vault lock would refuse the daily recovery points")
        if self.monthly_retention_days > self.vault_lock_max_retention_days:
            raise ValueError(f"backup {self.name}: the vault lock would refuse the monthly recovery points")
        if self.vault_lock_grace_days < VAULT_LOCK_MIN_GRACE_DAYS:
            raise ValueError(f"backup {self.name}: a compliance-mode lock has a grace period of 3 days or more")


class BackupPlan(Construct):
    """Attributes: ``vault_arn``, ``copy_vault_arn``, ``plan_id``, ``role_arn``, ``volume_tag``
    (the tag that puts an EBS volume into the plan)."""

    def __init__(self, scope: Construct, id: str, props: BackupPlanProps) -> None:
        super().__init__(scope, id)
        self.volume_tag = {BACKUP_TAG_KEY: props.name}
        primary = self._vault("vault", props.name, props, props.region, None)
        copy = self._vault(
            "copy-vault", f"{props.name}-{props.backup_region}", props, props.backup_region, props.backup_provider
        )
        self.vault_arn, self.copy_vault_arn = primary.arn, copy.arn
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-backup",
            description="AWS Backup: back up, copy and restore-test the environment's data",
            assume_role_policy=PolicyDocument(self, "trust-policy", [service_trust("backup.amazonaws.com")]).json,
        )
        for index, policy_arn in enumerate(SERVICE_ROLE_POLICIES):
            IamRolePolicyAttachment(self, f"role-policy-{index}", role=role.name, policy_arn=policy_arn)
        self.role_arn = role.arn
        daily = BackupPlanRuleLifecycle(delete_after=props.daily_retention_days)
        monthly = BackupPlanRuleLifecycle(
            cold_storage_after=props.monthly_cold_storage_after_days,
            delete_after=props.monthly_retention_days,
            # Resource types without cold storage (RDS) keep their monthly points warm instead.
            opt_in_to_archive_for_supported_resources=True,
        )
        plan = BackupPlanResource(
            self,
            "plan",
            name=props.name,
            rule=[
                self._rule("daily", props.daily_schedule, primary.name, copy.arn, daily),
                self._rule("monthly", props.monthly_schedule, primary.name, copy.arn, monthly),
            ],
        )
        self.plan_id = plan.id
        BackupSelection(
            self,
            "selection",
            name=f"{props.name}-data",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=list(props.resource_arns),
        )
        # Conditions narrow the resources: only EBS volumes, and only those with the tag.
        BackupSelection(
            self,
            "volume-selection",
            name=f"{props.name}-volumes",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=["arn:aws:ec2:*:*:volume/*"],
            condition=[
                BackupSelectionCondition(
                    string_equals=[
                        BackupSelectionConditionStringEquals(key=f"aws:ResourceTag/{BACKUP_TAG_KEY}", value=props.name)
                    ]
                )
            ],
        )
        self._restore_testing(props, primary.arn, role.arn)

    def _vault(
        self, id: str, name: str, props: BackupPlanProps, region: str, provider: AwsProvider | None
    ) -> BackupVault:
        key = KmsKey(
            self,
            f"{id}-key",
            KmsKeyProps(
                alias=f"{name}-backup",
                description=f"{name}: AWS Backup vault in {region}",
                account_id=props.account_id,
                via_services=tuple(f"{service}.{region}.amazonaws.com" for service in ("backup", "rds", "ec2", "s3")),
                provider=provider,
            ),
        )
        vault = BackupVault(
            self,
            id,
            name=name,
            kms_key_arn=key.arn,
            force_destroy=False,
            provider=provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        BackupVaultLockConfiguration(
            self,
            f"{id}-lock",
            backup_vault_name=vault.name,
            min_retention_days=props.vault_lock_min_retention_days,
            max_retention_days=props.vault_lock_max_retention_days,
            # After the grace period the lock is in compliance mode: immutable, for everyone.
            changeable_for_days=props.vault_lock_grace_days,
            provider=provider,
        )
        return vault

    @staticmethod
    def _rule(
        name: str, schedule: str, vault_name: str, copy_vault_arn: str, lifecycle: BackupPlanRuleLifecycle
    ) -> BackupPlanRule:
        return BackupPlanRule(
            rule_name=name,
            target_vault_name=vault_name,
            schedule=schedule,
            start_window=60,
            completion_window=24 * 60,
            lifecycle=lifecycle,
            copy_action=[
                BackupPlanRuleCopyAction(
                    destination_vault_arn=copy_vault_arn,
                    lifecycle=BackupPlanRuleCopyActionLifecycle(
                        cold_storage_after=lifecycle.cold_storage_after,
                        delete_after=lifecycle.delete_after,
                        opt_in_to_archive_for_supported_resources=lifecycle.opt_in_to_archive_for_supported_resources,
                    ),
                )
            ],
        )

    def _restore_testing(self, props: BackupPlanProps, vault_arn: str, role_arn: str) -> None:
        # Restore testing plan names allow letters, digits and underscores only.
        plan_name = f"{props.name.replace('-', '_')}_restore_test"
        testing = BackupRestoreTestingPlan(
            self,
            "restore-testing",
            name=plan_name,
            schedule_expression=props.restore_testing_schedule,
            recovery_point_selection=[
                BackupRestoreTestingPlanRecoveryPointSelection(
                    algorithm="LATEST_WITHIN_WINDOW",
                    include_vaults=[vault_arn],
                    recovery_point_types=["SNAPSHOT"],
                    selection_window_days=props.restore_testing_window_days,
                )
            ],
        )
        for target in props.restore_targets:
            tagged = not target.arns
            BackupRestoreTestingSelection(
                self,
                f"restore-testing-{target.resource_type.lower()}",
                name=f"{plan_name}_{target.resource_type.lower()}",
                restore_testing_plan_name=testing.name,
                protected_resource_type=target.resource_type,
                iam_role_arn=role_arn,
                protected_resource_arns=["*"] if tagged else list(target.arns),
                protected_resource_conditions=[
                    BackupRestoreTestingSelectionProtectedResourceConditions(
                        string_equals=[
                            BackupRestoreTestingSelectionProtectedResourceConditionsStringEquals(
                                key=f"aws:ResourceTag/{BACKUP_TAG_KEY}", value=props.name
                            )
                        ]
                    )
                ]
                if tagged
                else None,
                restore_metadata_overrides=dict(target.metadata) or None,
                validation_window_hours=props.restore_validation_hours,
            )
