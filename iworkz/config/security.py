"""Security section of ``config/common.yaml``: the account's audit trail, threat detection and
compliance checks (the ``security`` stack, once per account).

The platform design (chapter 12.1) names the frameworks ISO 27001, SOC 2 Type II, GDPR and
JIS Q 15001, CloudTrail as the audit log, and the log retention of 30 days hot, 1 year warm and
7 years cold. Every control is on by default; one goes off only with a reason
(:mod:`iworkz.config.controls`). The catalogues below were checked on 2026-12-01 against the AWS
documentation (GuardDuty ``DetectorFeatureConfiguration``, Security Hub standards, AWS Config
managed rules).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from iworkz.config.base import Model, rule_error
from iworkz.config.controls import ControlList, check_controls
from iworkz.config.network import CLOUDWATCH_RETENTION_DAYS

# The design's 7 years cold (chapter 12.1), in days as the log tiers count them (7 x 365).
AUDIT_RETENTION_MIN_DAYS = 2555
# The trail's CloudWatch log group is the searchable tier: the design's 1 year warm.
AUDIT_LOG_GROUP_MIN_DAYS = 365

# GuardDuty protection plans (detector features). EKS_RUNTIME_MONITORING is the older, EKS-only
# form of RUNTIME_MONITORING; GuardDuty refuses both together, so only the current one is known.
GUARDDUTY_FEATURES = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "RUNTIME_MONITORING",
    "LAMBDA_NETWORK_LOGS",
)
# RUNTIME_MONITORING: GuardDuty manages its security agent as an EKS add-on (and on EC2 and
# Fargate), so no node of the cluster runs without it.
RUNTIME_AGENT_MANAGEMENT = ("EKS_ADDON_MANAGEMENT", "EC2_AGENT_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT")

# Security Hub standards: <name>/v/<version>, the regional ARN is
# arn:aws:securityhub:<region>::standards/<name>/v/<version>. CIS 1.2.0 (a global "ruleset" ARN)
# is superseded by 3.0.0.
SECURITY_HUB_STANDARDS = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
    "cis-aws-foundations-benchmark/v/1.4.0",
    "nist-800-53/v/5.0.0",
    "nist-800-171/v/2.0.0",
    "pci-dss/v/4.0.1",
    "aws-resource-tagging-standard/v/1.0.0",
)
DEFAULT_SECURITY_HUB_STANDARDS = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
)

ISO_27001 = "ISO 27001"
SOC_2 = "SOC 2 Type II"
GDPR = "GDPR"
JIS_Q_15001 = "JIS Q 15001"
FRAMEWORKS = (ISO_27001, SOC_2, GDPR, JIS_Q_15001)
_ALL = FRAMEWORKS
_PRIVACY = (ISO_27001, GDPR, JIS_Q_15001)  # protection of personal data (GDPR art. 32, JIS Q 15001 A.3.4.3)

# AWS Config managed rules (source identifiers) and the frameworks each one gives evidence for.
# ISO 27001 Annex A 8.15/8.16 (logging, monitoring), 8.13 (backup), 8.24 (cryptography), 5.15-5.18
# (access control); SOC 2 CC6 (logical access), CC7 (system operations), A1 (availability); GDPR
# art. 32 (security of processing); JIS Q 15001 A.3.4.3 (safety management of personal information).
CONFIG_RULES: dict[str, tuple[str, ...]] = {
    "CLOUD_TRAIL_ENABLED": _ALL,
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": _ALL,
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": _ALL,
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED": _ALL,
    "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED": (ISO_27001, SOC_2),
    "CLOUDTRAIL_S3_DATAEVENTS_ENABLED": _PRIVACY,
    "GUARDDUTY_ENABLED_CENTRALIZED": (ISO_27001, SOC_2, GDPR),
    "SECURITYHUB_ENABLED": (ISO_27001, SOC_2),
    "IAM_PASSWORD_POLICY": _ALL,
    "ROOT_ACCOUNT_MFA_ENABLED": _ALL,
    "IAM_ROOT_ACCESS_KEY_CHECK": _ALL,
    "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS": _ALL,
    "ACCESS_KEYS_ROTATED": (ISO_27001, SOC_2),
    "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS": (ISO_27001, SOC_2),
    "CMK_BACKING_KEY_ROTATION_ENABLED": _ALL,
    "KMS_CMK_NOT_SCHEDULED_FOR_DELETION": (ISO_27001, SOC_2),
    "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC": _ALL,
    "S3_BUCKET_PUBLIC_READ_PROHIBITED": _ALL,
    "S3_BUCKET_PUBLIC_WRITE_PROHIBITED": _ALL,
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": _ALL,
    "S3_DEFAULT_ENCRYPTION_KMS": _PRIVACY,
    "S3_BUCKET_SSL_REQUESTS_ONLY": _ALL,
    "S3_BUCKET_VERSIONING_ENABLED": (ISO_27001, SOC_2),
    "S3_BUCKET_LOGGING_ENABLED": (ISO_27001, SOC_2),
    "S3_BUCKET_REPLICATION_ENABLED": (ISO_27001, SOC_2),
    "EC2_EBS_ENCRYPTION_BY_DEFAULT": _ALL,
    "ENCRYPTED_VOLUMES": _ALL,
    "RDS_STORAGE_ENCRYPTED": _ALL,
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK": _ALL,
    "RDS_SNAPSHOTS_PUBLIC_PROHIBITED": _ALL,
    "RDS_INSTANCE_DELETION_PROTECTION_ENABLED": (ISO_27001, SOC_2),
    "RDS_MULTI_AZ_SUPPORT": (SOC_2,),
    "DB_INSTANCE_BACKUP_ENABLED": (ISO_27001, SOC_2),
    "RDS_IN_BACKUP_PLAN": (ISO_27001, SOC_2, GDPR),
    "EBS_IN_BACKUP_PLAN": (ISO_27001, SOC_2),
    "BACKUP_RECOVERY_POINT_ENCRYPTED": _PRIVACY,
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": (ISO_27001, SOC_2),
    "ELASTICACHE_REDIS_CLUSTER_AUTOMATIC_BACKUP_CHECK": (ISO_27001, SOC_2),
    "OPENSEARCH_ENCRYPTED_AT_REST": _PRIVACY,
    "OPENSEARCH_NODE_TO_NODE_ENCRYPTION_CHECK": _PRIVACY,
    "EKS_SECRETS_ENCRYPTED": _PRIVACY,
    "SECRETSMANAGER_USING_CMK": _PRIVACY,
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": _PRIVACY,
    "VPC_FLOW_LOGS_ENABLED": (ISO_27001, SOC_2),
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED": (ISO_27001, SOC_2),
    "INCOMING_SSH_DISABLED": (ISO_27001, SOC_2),
}


def _audit_retention(value: int) -> int:
    if value < AUDIT_RETENTION_MIN_DAYS:
        raise rule_error(
            f"audit logs are kept at least {AUDIT_RETENTION_MIN_DAYS} days (the platform design, chapter 12.1: "
            "7 years cold)",
            f"set {AUDIT_RETENTION_MIN_DAYS} or more",
        )
    return value


def _log_group_retention(value: int) -> int:
    allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= AUDIT_LOG_GROUP_MIN_DAYS]
    if value not in allowed:
        raise rule_error(
            f"the trail's log group stays searchable at least {AUDIT_LOG_GROUP_MIN_DAYS} days (the design's 1 year "
            f"warm), in a period CloudWatch Logs accepts ({', '.join(map(str, allowed))})",
            "use 365 or a longer period from that list",
        )
    return value


AuditRetention = Annotated[int, AfterValidator(_audit_retention)]


class AuditTrailConfig(Model):
    """CloudTrail: every region, management events and the data events of the data buckets."""

    # Globally unique names: a second account sets its own (README: a second account).
    bucket: str = Field("iworkz-audit-logs", pattern=r"^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$")
    retention_days: AuditRetention = AUDIT_RETENTION_MIN_DAYS
    # S3 Object Lock in COMPLIANCE mode: not even the root user can delete or shorten a log
    # version before it ends; it must cover the whole retention.
    object_lock_days: AuditRetention = AUDIT_RETENTION_MIN_DAYS
    log_group_retention_days: Annotated[int, AfterValidator(_log_group_retention)] = AUDIT_LOG_GROUP_MIN_DAYS
    access_log_retention_days: int = Field(365, ge=90)

    @model_validator(mode="after")
    def _lock_covers_retention(self) -> AuditTrailConfig:
        if self.object_lock_days < self.retention_days:
            raise rule_error(
                f"the Object Lock period must cover the audit retention ({self.retention_days} days): a shorter lock "
                "lets log versions be deleted before their retention ends",
                f"set object_lock_days: {self.retention_days} or more",
                field="object_lock_days",
                value=self.object_lock_days,
            )
        return self


class FindingsConfig(Model):
    """Where high and critical findings go: the ``critical`` receivers of Alertmanager."""

    # The environments whose Alertmanager webhook secret (<prefix>/monitoring/alertmanager-webhooks)
    # names the receivers: the account's findings reach the same people as their critical alerts.
    environments: list[str] = Field(default_factory=lambda: ["production"], min_length=1)
    receiver: str = Field("critical", pattern=r"^[a-z0-9][a-z0-9-]*$")


class PasswordPolicyConfig(Model):
    """The account's IAM password policy (CIS AWS Foundations 3.0.0, 1.8 and 1.9)."""

    minimum_length: int = Field(14, ge=14, le=128)
    reuse_prevention: int = Field(24, ge=24, le=24)
    max_age_days: int = Field(90, ge=1, le=365)


class SecurityConfig(Model):
    """The ``security`` stack: audit trail, GuardDuty, Security Hub, AWS Config and account guards."""

    frameworks: list[str] = Field(default_factory=lambda: list(FRAMEWORKS))
    guardduty_features: list[str] = Field(default_factory=lambda: list(GUARDDUTY_FEATURES))
    security_hub_standards: list[str] = Field(default_factory=lambda: list(DEFAULT_SECURITY_HUB_STANDARDS))
    config_rules: list[str] = Field(default_factory=lambda: list(CONFIG_RULES))
    audit_trail: AuditTrailConfig = AuditTrailConfig()
    findings: FindingsConfig = FindingsConfig()
    password_policy: PasswordPolicyConfig = PasswordPolicyConfig()
    # "<field>.<item>": reason, for each default control left out of its list (synth report).
    disabled: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _controls(self) -> SecurityConfig:
        wanted_rules = [rule for rule, backs in CONFIG_RULES.items() if set(backs) & set(self.frameworks)]
        check_controls(
            (
                ControlList("frameworks", "compliance framework", FRAMEWORKS, FRAMEWORKS),
                ControlList("guardduty_features", "GuardDuty feature", GUARDDUTY_FEATURES, GUARDDUTY_FEATURES),
                ControlList(
                    "security_hub_standards",
                    "Security Hub standard",
                    SECURITY_HUB_STANDARDS,
                    DEFAULT_SECURITY_HUB_STANDARDS,
                ),
                ControlList("config_rules", "AWS Config managed rule", tuple(CONFIG_RULES), wanted_rules),
            ),
            {
                "frameworks": self.frameworks,
                "guardduty_features": self.guardduty_features,
                "security_hub_standards": self.security_hub_standards,
                "config_rules": self.config_rules,
            },
            self.disabled,
        )
        return self
