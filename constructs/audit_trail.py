"""The account's CloudTrail: every region, signed log files, KMS, and a log group for alerting.

The trail records the management events of every region and the S3 data events (object reads
and writes) of the buckets that hold personal data. Its log files go to a bucket the caller
creates with S3 Object Lock in COMPLIANCE mode (``SecureBucket(object_lock_days=...)``), and to a
CloudWatch log group whose metric filters raise alarms on the account's most sensitive
activity (CIS AWS Foundations Benchmark, monitoring section): root use, console sign-in without
MFA, and changes to the trail, to AWS Config and to customer-managed keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudtrail import (
    Cloudtrail,
    CloudtrailAdvancedEventSelector,
    CloudtrailAdvancedEventSelectorFieldSelector,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from iworkz.config.network import CLOUDWATCH_RETENTION_DAYS
from iworkz.config.security import AUDIT_LOG_GROUP_MIN_DAYS
from iworkz_constructs.policy_document import PolicyDocument, service_trust
from iworkz_constructs.secure_bucket import SecureBucket

ALARM_NAMESPACE = "iworkz/audit"
# Metric filters on the trail's log events (CIS AWS Foundations Benchmark, monitoring): each
# matching event raises its alarm. Changes that every deployment makes (security groups, routes)
# are left to AWS Config and Security Hub, where they would page on every apply.
TRAIL_ALARMS = {
    "root-account-usage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" }',
    "console-sign-in-without-mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
    '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "cloudtrail-changes": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
    "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "config-changes": "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) "
    "|| ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) "
    "|| ($.eventName = PutConfigurationRecorder)) }",
    "kms-key-disabled-or-deleted": "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) "
    "|| ($.eventName = ScheduleKeyDeletion)) }",
}


@dataclass(frozen=True)
class AuditTrailProps:
    """Properties of :class:`AuditTrail`.

    | name | meaning | default |
    |---|---|---|
    | name | trail name; the log group is ``/aws/cloudtrail/<name>`` | required |
    | account_id / region | the owning account (token) and the trail's home region | required |
    | bucket | the Object Lock bucket receiving the log files (its policy admits the trail) | required |
    | kms_key_arn | customer-managed key of the log files and the log group | required |
    | data_event_buckets | names of the buckets whose object reads and writes are logged | required |
    | alarm_topic_arn | SNS topic the alarms notify | required |
    | log_group_retention_days | how long the log group keeps events (a CloudWatch value, 365 or more) | 365 |
    """

    name: str
    account_id: str
    region: str
    bucket: SecureBucket
    kms_key_arn: str
    data_event_buckets: Sequence[str]
    alarm_topic_arn: str
    log_group_retention_days: int = AUDIT_LOG_GROUP_MIN_DAYS

    def __post_init__(self) -> None:
        allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= AUDIT_LOG_GROUP_MIN_DAYS]
        if self.log_group_retention_days not in allowed:
            raise ValueError(f"trail {self.name}: log_group_retention_days must be one of {allowed}")
        if not self.data_event_buckets:
            raise ValueError(f"trail {self.name}: name the buckets that hold personal data")

    @property
    def trail_arn(self) -> str:
        return f"arn:aws:cloudtrail:{self.region}:{self.account_id}:trail/{self.name}"


class AuditTrail(Construct):
    """Attributes: ``trail`` (the resource), ``trail_arn``, ``log_group_name``."""

    def __init__(self, scope: Construct, id: str, props: AuditTrailProps) -> None:
        super().__init__(scope, id)
        log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=f"/aws/cloudtrail/{props.name}",
            retention_in_days=props.log_group_retention_days,
            kms_key_id=props.kms_key_arn,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.log_group_name = log_group.name
        role = IamRole(
            self,
            "logs-role",
            name=f"{props.name}-cloudtrail-logs",
            description="CloudTrail delivers the trail's events to its log group",
            assume_role_policy=PolicyDocument(
                self,
                "logs-trust-policy",
                [
                    service_trust(
                        "cloudtrail.amazonaws.com", condition={"StringEquals": {"aws:SourceArn": props.trail_arn}}
                    )
                ],
            ).json,
        )
        IamRolePolicy(
            self,
            "logs-policy",
            role=role.id,
            name="deliver",
            policy=PolicyDocument(
                self,
                "logs-policy-document",
                [
                    {
                        "Sid": "DeliverTrailEvents",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{log_group.arn}:log-stream:*",
                    }
                ],
            ).json,
        )
        self.trail = Cloudtrail(
            self,
            "trail",
            name=props.name,
            s3_bucket_name=props.bucket.name,
            kms_key_id=props.kms_key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=f"{log_group.arn}:*",
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selector=_event_selectors(props.data_event_buckets),
            # CloudTrail checks the bucket policy when the trail is created.
            depends_on=[props.bucket.bucket_policy],
        )
        self.trail_arn = self.trail.arn
        for alarm, pattern in TRAIL_ALARMS.items():
            CloudwatchLogMetricFilter(
                self,
                f"{alarm}-filter",
                name=f"{props.name}-{alarm}",
                log_group_name=log_group.name,
                pattern=pattern,
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=alarm, namespace=ALARM_NAMESPACE, value="1"
                ),
            )
            CloudwatchMetricAlarm(
                self,
                f"{alarm}-alarm",
                alarm_name=f"{props.name}-{alarm}",
                alarm_description=f"CloudTrail: {alarm.replace('-', ' ')} (CIS AWS Foundations, monitoring)",
                namespace=ALARM_NAMESPACE,
                metric_name=alarm,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[props.alarm_topic_arn],
            )


def _event_selectors(data_event_buckets: Sequence[str]) -> list[CloudtrailAdvancedEventSelector]:
    def selector(field: str, **condition: list[str]) -> CloudtrailAdvancedEventSelectorFieldSelector:
        return CloudtrailAdvancedEventSelectorFieldSelector(field=field, **condition)

    return [
        CloudtrailAdvancedEventSelector(
            name="Management events of every region",
            field_selector=[selector("eventCategory", equal_to=["Management"])],
        ),
        CloudtrailAdvancedEventSelector(
            name="Object reads and writes of the buckets holding personal data",
            field_selector=[
                selector("eventCategory", equal_to=["Data"]),
                selector("resources.type", equal_to=["AWS::S3::Object"]),
                selector("resources.ARN", starts_with=[f"arn:aws:s3:::{name}/" for name in data_event_buckets]),
            ],
        ),
    ]
