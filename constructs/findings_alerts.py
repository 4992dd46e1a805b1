"""High and critical security findings to the platform's critical alert receivers.

EventBridge routes GuardDuty findings of severity 7 or more and Security Hub findings labelled
HIGH or CRITICAL (new and active; GuardDuty's own copies in Security Hub are left out, they
arrive directly) to an encrypted SNS topic; the audit trail's alarms publish to it too. A small
Lambda function (runtime/findings_forwarder/) subscribed to the topic posts each message in
Alertmanager's webhook format to the ``critical`` receiver URLs, which it reads at run time from
the Secrets Manager secrets the operators fill. The topic's ARN is published (SecurityOutputs)
for any other subscriber.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.policy_document import PolicyDocument, service_trust

FORWARDER_DIR = Path(__file__).resolve().parents[1] / "runtime" / "findings_forwarder"
FORWARDER_HANDLER = "forwarder.handler"
RUNTIME = "python3.13"
# GuardDuty severities: 7.0-8.9 high, 9.0-10.0 critical.
GUARDDUTY_HIGH = 7
EVENT_PATTERNS = {
    "guardduty": {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", GUARDDUTY_HIGH]}]},
    },
    "security-hub": {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {
            "findings": {
                "Severity": {"Label": ["HIGH", "CRITICAL"]},
                "Workflow": {"Status": ["NEW"]},
                "RecordState": ["ACTIVE"],
                "ProductName": [{"anything-but": ["GuardDuty"]}],
            }
        },
    },
}


@dataclass(frozen=True)
class FindingsAlertsProps:
    """Properties of :class:`FindingsAlerts`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of the topic, rules, function and key | required |
    | account_id / region | the owning account (token) and the region | required |
    | webhook_secrets | names of the Secrets Manager secrets holding the receivers' URLs | required |
    | receiver | the key of the URL in each secret (Alertmanager's receiver name) | ``critical`` |
    | log_retention_days | the forwarder's log group | 365 |
    """

    name: str
    account_id: str
    region: str
    webhook_secrets: Sequence[str]
    receiver: str = "critical"
    log_retention_days: int = 365

    def __post_init__(self) -> None:
        if not self.webhook_secrets:
            raise ValueError(f"findings {self.name}: name at least one webhook secret (the receivers)")
        if any("," in secret for secret in self.webhook_secrets):
            raise ValueError(f"findings {self.name}: secret names contain no comma")


class FindingsAlerts(Construct):
    """Attributes: ``topic_arn``, ``kms_key_arn``, ``forwarder_arn``."""

    def __init__(self, scope: Construct, id: str, props: FindingsAlertsProps) -> None:
        super().__init__(scope, id)
        region = props.region
        key = KmsKey(
            self,
            "key",
            KmsKeyProps(
                alias=f"{props.name}-findings",
                description=f"{props.name}: security findings topic, its forwarder and dead-letter queue",
                account_id=props.account_id,
                # EventBridge and CloudWatch alarms publish into the encrypted topic.
                service_principals=("events.amazonaws.com", "cloudwatch.amazonaws.com", f"logs.{region}.amazonaws.com"),
                via_services=tuple(f"{service}.{region}.amazonaws.com" for service in ("sns", "sqs", "lambda")),
            ),
        )
        self.kms_key_arn = key.arn
        topic = SnsTopic(self, "topic", name=f"{props.name}-security-findings", kms_master_key_id=key.arn)
        self.topic_arn = topic.arn
        rules = {
            source: CloudwatchEventRule(
                self,
                f"{source}-rule",
                name=f"{props.name}-{source}-findings",
                description=f"High and critical {source} findings to the security findings topic",
                event_pattern=json.dumps(pattern, sort_keys=True),
            )
            for source, pattern in EVENT_PATTERNS.items()
        }
        for source, rule in rules.items():
            CloudwatchEventTarget(self, f"{source}-target", rule=rule.name, arn=topic.arn)
        SnsTopicPolicy(
            self,
            "topic-policy",
            arn=topic.arn,
            policy=PolicyDocument(self, "topic-policy-document", _topic_policy(props, topic.arn, rules)).json,
        )
        self.forwarder_arn = self._forwarder(props, key.arn, topic.arn)

    def _forwarder(self, props: FindingsAlertsProps, key_arn: str, topic_arn: str) -> str:
        name = f"{props.name}-findings-forwarder"
        log_group = CloudwatchLogGroup(
            self,
            "forwarder-logs",
            name=f"/aws/lambda/{name}",
            retention_in_days=props.log_retention_days,
            kms_key_id=key_arn,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        dead_letters = SqsQueue(
            self,
            "dead-letters",
            name=f"{name}-dead-letters",
            kms_master_key_id=key_arn,
            message_retention_seconds=14 * 24 * 3600,
        )
        role = IamRole(
            self,
            "forwarder-role",
            name=name,
            description="Forwards security findings to the critical alert receivers",
            assume_role_policy=PolicyDocument(self, "forwarder-trust", [service_trust("lambda.amazonaws.com")]).json,
        )
        IamRolePolicy(
            self,
            "forwarder-policy",
            role=role.id,
            name="forward",
            policy=PolicyDocument(
                self, "forwarder-policy-document", _forwarder_policy(props, log_group.arn, dead_letters.arn, key_arn)
            ).json,
        )
        code = TerraformAsset(
            self,
            "forwarder-code",
            path=str(FORWARDER_DIR),
            type=AssetType.ARCHIVE,
            # The hash of the sources alone: a __pycache__ left by the tests changes nothing.
            asset_hash=source_hash(FORWARDER_DIR),
        )
        function = LambdaFunction(
            self,
            "forwarder",
            function_name=name,
            description="Security findings to the critical Alertmanager receivers",
            role=role.arn,
            runtime=RUNTIME,
            handler=FORWARDER_HANDLER,
            filename=code.path,
            source_code_hash=code.asset_hash,
            timeout=30,
            memory_size=128,
            # A handful of findings at a time; the limit keeps a flood from exhausting the account's concurrency.
            reserved_concurrent_executions=5,
            environment=LambdaFunctionEnvironment(
                variables={"WEBHOOK_SECRETS": ",".join(props.webhook_secrets), "RECEIVER": props.receiver}
            ),
            kms_key_arn=key_arn,
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=dead_letters.arn),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=log_group.name),
        )
        permission = LambdaPermission(
            self,
            "forwarder-invoke",
            statement_id="SecurityFindingsTopic",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="sns.amazonaws.com",
            source_arn=topic_arn,
        )
        SnsTopicSubscription(
            self,
            "forwarder-subscription",
            topic_arn=topic_arn,
            protocol="lambda",
            endpoint=function.arn,
            depends_on=[permission],
        )
        return function.arn


def source_hash(folder: Path) -> str:
    """SHA-256 over the folder's Python sources (names and contents), in name order."""
    digest = hashlib.sha256()
    for source in sorted(folder.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _topic_policy(props: FindingsAlertsProps, topic_arn: str, rules: dict[str, CloudwatchEventRule]) -> list[dict]:
    return [
        {
            "Sid": "EventBridgePublishesFindings",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": [rule.arn for rule in rules.values()]}},
        },
        {
            "Sid": "AlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{props.region}:{props.account_id}:alarm:*"}
            },
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]


def _forwarder_policy(props: FindingsAlertsProps, log_group_arn: str, queue_arn: str, key_arn: str) -> list[dict]:
    secret_arns = [
        f"arn:aws:secretsmanager:{props.region}:{props.account_id}:secret:{secret}-??????"
        for secret in props.webhook_secrets
    ]
    return [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
        {
            "Sid": "ReadReceiverUrls",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arns,
        },
        {
            # The secrets' keys belong to their environments' data stacks: decrypt only through
            # Secrets Manager, and only for these secrets.
            "Sid": "DecryptReceiverUrls",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": f"arn:aws:kms:{props.region}:{props.account_id}:key/*",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{props.region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:SecretARN": secret_arns},
            },
        },
        {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
        {
            "Sid": "EncryptDeadLetters",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{props.region}.amazonaws.com"}},
        },
        {
            "Sid": "Traces",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
