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
from iworkz_constructs.access_log_bucket import AccessLogBucket, AccessLogBucketProps
from iworkz_constructs.account_guards import AccountGuards, AccountGuardsProps
from iworkz_constructs.audit_trail import AuditTrail, AuditTrailProps
from iworkz_constructs.bucket_replication import BucketReplication, BucketReplicationProps
from iworkz_constructs.config_recorder import CONFIG_PREFIX, ConfigRecorder, ConfigRecorderProps
from iworkz_constructs.findings_alerts import FindingsAlerts, FindingsAlertsProps
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps, Transition
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
        trail_arn = f"arn:aws:cloudtrail:{region}:{account_id}:trail/{project}-audit"
        copies = {}
        for suffix, provider in (("", None), (f"-{backup_region}", self.aws.backup)):
            in_region = backup_region if suffix else region
            key = KmsKey(
                self,
                f"audit{'-replica' if suffix else ''}-key",
                KmsKeyProps(
                    alias=f"{project}-audit{suffix}",
                    description=f"Audit trail and AWS Config history in {in_region}",
                    account_id=account_id,
                    service_principals=() if suffix else ("cloudtrail.amazonaws.com", f"logs.{region}.amazonaws.com"),
                    via_services=(f"s3.{in_region}.amazonaws.com",),
                    provider=provider,
                ),
            )
            logs = AccessLogBucket(
                self,
                f"audit{'-replica' if suffix else ''}-access-logs",
                AccessLogBucketProps(
                    f"{config.bucket}-access-logs{suffix}", account_id, config.access_log_retention_days, provider
                ),
            )
            name = f"{config.bucket}{suffix}"
            copies[suffix] = (
                key,
                SecureBucket(
                    self,
                    f"audit{'-replica' if suffix else ''}-bucket",
                    SecureBucketProps(
                        bucket_name=name,
                        kms_key_arn=key.arn,
                        access_log_bucket=logs.name,
                        transitions=AUDIT_TRANSITIONS,
                        expiration_days=config.retention_days,
                        object_lock_days=config.object_lock_days,
                        extra_policy_statements=() if suffix else _delivery_statements(name, account_id, trail_arn),
                        provider=provider,
                    ),
                ),
            )
        (self.audit_key, bucket), (replica_key, replica) = copies[""], copies[f"-{backup_region}"]
        BucketReplication(
            self,
            "audit-replication",
            BucketReplicationProps(
                role_name=f"{config.bucket}-replication",
                source=bucket,
                destination=replica,
                source_kms_key_arn=self.audit_key.arn,
                destination_kms_key_arn=replica_key.arn,
                source_region=region,
                destination_region=backup_region,
                object_lock=True,
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
            "Condition": {**trail, "StringEquals": {**trail["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}},
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
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    )
