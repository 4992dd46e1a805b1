"""`alerts-<environment>`: one alert path for what Prometheus cannot see (the platform design, 12.1 and 12.5).

CloudWatch alarms of every managed resource (created by the resources' own constructs in the
network, eks, data and dr-azure stacks) notify the SNS topic of their severity here; the
forwarder delivers each alert to the receivers Alertmanager uses, so the on-call sees one
stream. This stack deploys first in an environment (it reads nothing), so that every stack
with resources can name the topics; the webhook URLs are read at run time from the Secrets
Manager entry the monitoring stack creates and the operators fill.
"""

from __future__ import annotations

from iworkz.contracts import AlertsOutputs
from iworkz_constructs.alert_topics import AlertTopics, AlertTopicsProps
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from stacks.base import IworkzStack


class AlertsStack(IworkzStack):
    """The alert topics and their forwarder (:class:`AlertTopics`); publishes :class:`AlertsOutputs`."""

    def build(self) -> AlertsOutputs:
        context = self.context
        prefix = context.prefix
        region, account_id = self.aws.region, self.aws.account_id
        configured = AlertsOutputs.configured(context)
        key = KmsKey(
            self,
            "alerts-key",
            KmsKeyProps(
                alias=f"{prefix}-alerts",
                description=f"{prefix}: alert topics, their delivery functions, logs and dead-letter queues",
                account_id=account_id,
                # CloudWatch publishes alarms to the encrypted topics; the functions' logs are encrypted.
                service_principals=("cloudwatch.amazonaws.com", f"logs.{region}.amazonaws.com"),
                via_services=tuple(f"{service}.{region}.amazonaws.com" for service in ("sns", "sqs", "lambda")),
            ),
        )
        self.alert_topics = AlertTopics(
            self,
            "alert-topics",
            AlertTopicsProps(
                prefix=prefix,
                environment=str(context.environment_name),
                region=region,
                account_id=account_id,
                kms_key_arn=key.arn,
                webhook_secret_name=configured["webhook_secret_name"],
                teams=configured["teams"],
                forwarder_alarms=context.env.alarms.settings("functions"),
            ),
        )
        self.alarm_dashboard()
        forwarder = self.alert_topics.forwarder
        return AlertsOutputs.of(
            context,
            topic_arns=self.alert_topics.topic_arns,
            kms_key_arn=key.arn,
            forwarder_function_name=forwarder.name,
            forwarder_invoke_arn=forwarder.invoke_arn,
        )
