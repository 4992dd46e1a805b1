"""`security`: the account's audit trail, threat detection, compliance checks and guards.

Once per account (like ``state``): CloudTrail of every region into a bucket with S3 Object Lock
in COMPLIANCE mode for the design's 7 years (the platform design, chapter 12.1), replicated to
the backup region; GuardDuty with its protection plans; Security Hub with its standards; AWS
Config recording every resource with the managed rules behind the frameworks of chapter 12.1;
IAM Access Analyzer, the account's S3 public access block, EBS encryption by default and the
password policy; high and critical findings to the critical alert receivers. What it covers of
the environments (the data buckets of every configured environment, the webhook secrets of the
configured ones) comes from the configuration, whichever environments a synth selects.
"""

from __future__ import annotations

from iworkz.config.data import data_bucket_name, replica_bucket_name
from iworkz.context import environment_prefix
from iworkz.contracts import SecurityOutputs
from iworkz.policy import suppress, waive
from iworkz.policy.rules import BACKUP_COVERAGE
from iworkz_constructs.account_guards import AccountGuards, AccountGuardsProps
from iworkz_constructs.audit_trail import AuditTrail, AuditTrailProps
from iworkz_constructs.bucket_replication import ReplicatedBucketProps, replicated_bucket
from iworkz_constructs.config_recorder import CONFIG_PREFIX, ConfigRecorder, ConfigRecorderProps
from iworkz_constructs.findings_alerts import FindingsAlerts, FindingsAlertsProps
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.secure_bucket import AccessLogBucket, AccessLogBucketProps, SecureBucket, Transition
from iworkz_constructs.threat_detection import ThreatDetection, ThreatDetectionProps
from stacks.base import IworkzStack

# The design's log tiers (chapter 12.1): 30 days hot, then warm until a year, then cold.
AUDIT_TRANSITIONS = (Transition(30, "STANDARD_IA"), Transition(365, "GLACIER"))


class SecurityStack(IworkzStack):
    """Publishes :class:`SecurityOutputs` (the findings topic for other subscribers)."""

    def build(self) -> SecurityOutputs:
        context = self.context
        config = context.common.security
        project = context.common.project
        region, backup_region = self.aws.region, self.aws.backup_region
        account_id = self.aws.account_id
        for control, reason in config.disabled.items():
            waive(self, control, reason)

        findings = FindingsAlerts(
            self,
            "findings",
            FindingsAlertsProps(
                name=project,
                account_id=account_id,
                region=region,
                webhook_secrets=[
                    f"{environment_prefix(project, name)}/monitoring/alertmanager-webhooks"
                    for name in config.findings.environments
                ],
                receiver=config.findings.receiver,
            ),
        )
        audit_bucket = self._audit_bucket(account_id, region, backup_region)
        trail = AuditTrail(
            self,
            "audit-trail",
            AuditTrailProps(
                name=f"{project}-audit",
                account_id=account_id,
                region=region,
                bucket=audit_bucket,
                kms_key_arn=self.audit_key.arn,
                data_event_buckets=self._personal_data_buckets(),
                alarm_topic_arn=findings.topic_arn,
                log_group_retention_days=config.audit_trail.log_group_retention_days,
            ),
        )
        ThreatDetection(
            self,
            "threat-detection",
            ThreatDetectionProps(
                region=region,
                guardduty_features=tuple(config.guardduty_features),
                security_hub_standards=tuple(config.security_hub_standards),
            ),
        )
        ConfigRecorder(
            self,
            "config",
            ConfigRecorderProps(
                name=project,
                account_id=account_id,
                region=region,
                bucket_name=audit_bucket.name,
                bucket_arn=audit_bucket.arn,
                kms_key_arn=self.audit_key.arn,
                rules=tuple(config.config_rules),
            ),
        )
        password = config.password_policy
        AccountGuards(
            self,
            "account-guards",
            AccountGuardsProps(
                name=project,
                minimum_password_length=password.minimum_length,
                password_reuse_prevention=password.reuse_prevention,
                max_password_age_days=password.max_age_days,
            ),
        )
        return SecurityOutputs(
            findings_topic_arn=findings.topic_arn,
            findings_kms_key_arn=findings.kms_key_arn,
            audit_bucket=audit_bucket.name,
            trail_arn=trail.trail_arn,
            audit_log_group=trail.log_group_name,
        )

    def _personal_data_buckets(self) -> list[str]:
        """The application buckets of every configured environment (documents, backups: personal
        data of job seekers) and their replicas."""
        project = self.context.common.project
        return [
            name
            for environment, env in sorted(self.context.settings.every_environment.items())
            for bucket in env.data.buckets
            for name in (
                data_bucket_name(environment_prefix(project, environment), bucket),
                replica_bucket_name(environment_prefix(project, environment), bucket, env.aws.backup_region),
            )
        ]

    def _audit_bucket(self, account_id: str, region: str, backup_region: str) -> SecureBucket:
        """The trail's and AWS Config's bucket (Object Lock, COMPLIANCE) and its replica in the backup region."""
        config = self.context.common.security.audit_trail
        project = self.context.common.project
        keys, logs = [], []
        for replica in (False, True):
            in_region = backup_region if replica else region
            provider = self.aws.backup if replica else None
            keys.append(
                KmsKey(
                    self,
                    f"audit{'-replica' if replica else ''}-key",
                    KmsKeyProps(
                        alias=f"{project}-audit" + (f"-{backup_region}" if replica else ""),
                        description=f"Audit trail and AWS Config history in {in_region}",
                        account_id=account_id,
                        # CloudTrail encrypts the log files, CloudWatch Logs the trail's log group.
                        service_principals=()
                        if replica
                        else ("cloudtrail.amazonaws.com", f"logs.{region}.amazonaws.com"),
                        via_services=(f"s3.{in_region}.amazonaws.com",),
                        provider=provider,
                    ),
                )
            )
            logs.append(
                AccessLogBucket(
                    self,
                    f"audit{'-replica' if replica else ''}-access-logs",
                    AccessLogBucketProps(
                        bucket_name=f"{config.bucket}-access-logs" + (f"-{backup_region}" if replica else ""),
                        account_id=account_id,
                        retention_days=config.access_log_retention_days,
                        provider=provider,
                    ),
                )
            )
        self.audit_key = keys[0]
        bucket, _ = replicated_bucket(
            self,
            "audit",
            ReplicatedBucketProps(
                bucket_name=config.bucket,
                role_name=f"{config.bucket}-replication",
                kms_key_arn=keys[0].arn,
                replica_kms_key_arn=keys[1].arn,
                access_log_bucket=logs[0].name,
                replica_access_log_bucket=logs[1].name,
                region=region,
                replica_region=backup_region,
                replica_provider=self.aws.backup,
                transitions=AUDIT_TRANSITIONS,
                expiration_days=config.retention_days,
                object_lock_days=config.object_lock_days,
                extra_policy_statements=_delivery_statements(
                    config.bucket, account_id, f"arn:aws:cloudtrail:{region}:{account_id}:trail/{project}-audit"
                ),
            ),
        )
        suppress(
            bucket.bucket,
            BACKUP_COVERAGE,
            "audit logs under COMPLIANCE-mode Object Lock for their whole retention and replicated to the backup "
            "region: no one can delete them, a backup would add nothing",
        )
        return bucket


def _delivery_statements(bucket: str, account_id: str, trail_arn: str) -> tuple[dict, ...]:
    """CloudTrail (this trail only) and AWS Config (this account only) write into the audit bucket."""
    arn = f"arn:aws:s3:::{bucket}"
    trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    account = {"StringEquals": {"aws:SourceAccount": account_id}}
    return (
        {
            "Sid": "CloudTrailChecksAcl",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": arn,
            "Condition": trail,
        },
        {
            "Sid": "CloudTrailWrites",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/AWSLogs/{account_id}/*",
            "Condition": {
                **trail,
                "StringEquals": {**trail["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
            },
        },
        {
            "Sid": "ConfigChecksBucket",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": arn,
            "Condition": account,
        },
        {
            "Sid": "ConfigWrites",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/Config/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"}
            },
        },
    )
