"""The alert path of an environment: one KMS-encrypted SNS topic per severity and the forwarder.

CloudWatch alarms publish to the topic of their severity (only CloudWatch alarms of this account,
over TLS); the forwarder (runtime/lambdas/alert_forwarder) is subscribed to every topic and posts
each alert to Alertmanager's receivers, reading their webhook URLs at run time from the
operators' Secrets Manager entry. No URL is ever in Terraform's state or outputs.

The forwarder's role may read exactly that secret (and decrypt it only through Secrets Manager,
for that secret's ARN) and the tags of this environment's alarms (``<prefix>-*``: the constructs
name every alarm after its resource, which carries the environment's prefix).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from iworkz_constructs.alarm_settings import SEVERITIES, FunctionAlarms
from iworkz_constructs.alarms import AlarmActions
from iworkz_constructs.policy_document import PolicyDocument
from iworkz_constructs.python_function import PythonFunction, PythonFunctionProps


@dataclass(frozen=True)
class AlertTopicsProps:
    """Properties of :class:`AlertTopics`.

    | name | meaning | default |
    |---|---|---|
    | prefix | the environment's name prefix, e.g. ``iworkz-production`` (topic and alarm names) | required |
    | environment | the ``environment`` label of the alerts | required |
    | region / account_id | where the topics and alarms are | required |
    | kms_key_arn | key of the topics, the forwarder and its queue (CloudWatch and Lambda may use it) | required |
    | webhook_secret_name | the Secrets Manager entry of the receivers' webhook URLs | required |
    | teams | the teams with a receiver (Alertmanager's, the seed's labels) | required |
    | forwarder_alarms | settings of the forwarder's failed-deliveries alarm | :class:`FunctionAlarms` defaults |
    | provider | aws provider | the stack's default |
    """

    prefix: str
    environment: str
    region: str
    account_id: str
    kms_key_arn: str
    webhook_secret_name: str
    teams: Sequence[str]
    forwarder_alarms: FunctionAlarms = field(default_factory=FunctionAlarms)
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not self.teams:
            raise ValueError(f"alert topics {self.prefix}: give the teams that have a receiver")


class AlertTopics(Construct):
    """Attributes: ``topics`` (severity -> ``aws_sns_topic``), ``topic_arns``, ``forwarder``
    (:class:`PythonFunction`), ``actions`` (:class:`AlarmActions` of the topics)."""

    def __init__(self, scope: Construct, id: str, props: AlertTopicsProps) -> None:
        super().__init__(scope, id)
        provider = props.provider
        self.topics = {
            severity: SnsTopic(
                self,
                f"topic-{severity}",
                name=f"{props.prefix}-alerts-{severity}",
                display_name=f"{props.prefix} {severity} alerts",
                kms_master_key_id=props.kms_key_arn,
                provider=provider,
            )
            for severity in SEVERITIES
        }
        for severity, topic in self.topics.items():
            SnsTopicPolicy(
                self,
                f"topic-{severity}-policy",
                arn=topic.arn,
                policy=PolicyDocument(
                    self, f"topic-{severity}-policy-document", topic_statements(topic.arn, props), provider=provider
                ).json,
                provider=provider,
            )
        self.topic_arns = {severity: topic.arn for severity, topic in self.topics.items()}
        self.actions = AlarmActions(self.topic_arns)
        secret = f"arn:aws:secretsmanager:{props.region}:{props.account_id}:secret:{props.webhook_secret_name}-??????"
        self.forwarder = PythonFunction(
            self,
            "forwarder",
            PythonFunctionProps(
                function_name=f"{props.prefix}-alert-forwarder",
                description=f"Delivers {props.prefix}'s CloudWatch and Azure Monitor alerts to Alertmanager's receivers",
                source="alert_forwarder",
                handler="alert_forwarder.handler",
                kms_key_arn=props.kms_key_arn,
                environment={
                    "WEBHOOK_SECRET_ID": props.webhook_secret_name,
                    "ENVIRONMENT": props.environment,
                    "TEAMS": ",".join(props.teams),
                    "EXTERNAL_URL": f"https://{props.region}.console.aws.amazon.com/cloudwatch/home"
                    f"?region={props.region}#alarmsV2:",
                },
                statements=[
                    {
                        "Sid": "ReadWebhookUrls",
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": secret,
                    },
                    {
                        "Sid": "DecryptWebhookUrlsThroughSecretsManager",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": f"arn:aws:kms:{props.region}:{props.account_id}:key/*",
                        "Condition": {
                            "StringEquals": {"kms:ViaService": f"secretsmanager.{props.region}.amazonaws.com"},
                            "StringLike": {"kms:EncryptionContext:SecretARN": secret},
                        },
                    },
                    {
                        "Sid": "ReadAlarmLabels",
                        "Effect": "Allow",
                        "Action": "cloudwatch:ListTagsForResource",
                        "Resource": f"arn:aws:cloudwatch:{props.region}:{props.account_id}:alarm:{props.prefix}-*",
                    },
                ],
                alarm_actions=self.actions,
                alarms=props.forwarder_alarms,
                provider=provider,
            ),
        )
        for severity, topic in self.topics.items():
            permission = LambdaPermission(
                self,
                f"topic-{severity}-invokes-forwarder",
                statement_id=f"AlertTopic{severity.title()}",
                action="lambda:InvokeFunction",
                function_name=self.forwarder.name,
                principal="sns.amazonaws.com",
                source_arn=topic.arn,
                provider=provider,
            )
            SnsTopicSubscription(
                self,
                f"topic-{severity}-to-forwarder",
                topic_arn=topic.arn,
                protocol="lambda",
                endpoint=self.forwarder.arn,
                depends_on=[permission],
                provider=provider,
            )


def topic_statements(topic_arn: str, props: AlertTopicsProps) -> list[dict[str, object]]:
    """The account manages and publishes; CloudWatch publishes this account's alarms; TLS only."""
    account = props.account_id
    return [
        {
            "Sid": "AccountManagesAndPublishes",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": [
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
            ],
            "Resource": topic_arn,
        },
        {
            "Sid": "CloudWatchAlarmsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{props.region}:{account}:alarm:*"},
            },
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
