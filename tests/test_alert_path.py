"""One alert path: KMS-encrypted SNS topics per severity, subscribed by the forwarder, which reads
the receivers' URLs at run time from the secret Alertmanager reads; the DR site's Azure Monitor
alerts reach the same forwarder through a secure webhook. No URL is in state or output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from iworkz.config import Settings
from iworkz.contracts import AlertsOutputs, DrAzureOutputs
from iworkz.registry import BY_COMPONENT
from iworkz_constructs.alarm_settings import SEVERITIES
from iworkz_constructs.azure_alert_path import ACTION_GROUPS_APP_ID, SECURE_WEBHOOK_ROLE
from tests.constructs.alerting import environment_stacks
from tests.tf import one, outputs, policy_json, resources

StackJson = dict[str, Any]
ENVIRONMENTS = ("production", "staging", "dev")
_REF = re.compile(r"^\$\{(?P<type>[a-z0-9_]+)\.(?P<id>[\w-]+)\.(?P<attribute>[a-z_]+)\}$")


def _ref(value: str) -> tuple[str, str, str]:
    match = _REF.match(value)
    assert match, value
    return match["type"], match["id"], match["attribute"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_one_encrypted_topic_per_severity_subscribed_by_the_forwarder(
    stack: Callable[[str], StackJson], environment: str
) -> None:
    doc = stack(f"alerts-{environment}")
    topics = resources(doc, "aws_sns_topic")
    assert sorted(t["name"] for t in topics.values()) == [
        f"iworkz-{environment}-alerts-{s}" for s in sorted(SEVERITIES)
    ]
    (function_id,) = resources(doc, "aws_lambda_function")
    subscriptions = resources(doc, "aws_sns_topic_subscription").values()
    permissions = resources(doc, "aws_lambda_permission").values()
    keys = resources(doc, "aws_kms_key")
    for logical, topic in topics.items():
        kind, key, _ = _ref(topic["kms_master_key_id"])
        assert kind == "aws_kms_key" and key in keys
        statements = policy_json(doc, keys[key]["policy"])["Statement"]
        cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
        assert cloudwatch and "kms:GenerateDataKey*" in cloudwatch[0]["Action"]
        arn = f"${{aws_sns_topic.{logical}.arn}}"
        (subscription,) = [s for s in subscriptions if s["topic_arn"] == arn]
        assert subscription["protocol"] == "lambda"
        assert subscription["endpoint"] == f"${{aws_lambda_function.{function_id}.arn}}"
        (permission,) = [p for p in permissions if p["source_arn"] == arn]
        assert permission["principal"] == "sns.amazonaws.com" and permission["action"] == "lambda:InvokeFunction"
        # Only this account's CloudWatch alarms may publish, and only over TLS.
        (policy,) = [p for p in resources(doc, "aws_sns_topic_policy").values() if p["arn"] == arn]
        statements = policy_json(doc, policy["policy"])["Statement"]
        by_sid = {s["Sid"]: s for s in statements}
        assert by_sid["CloudWatchAlarmsOfThisAccount"]["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
            "arn:aws:cloudwatch:ap-northeast-1:"
        )
        assert by_sid["TlsOnly"]["Effect"] == "Deny"


def test_the_forwarder_reads_the_secret_alertmanager_reads_and_nothing_else(
    stack: Callable[[str], StackJson], stack_construct: Callable[[str], Any], settings: Settings
) -> None:
    doc = stack("alerts-production")
    function = one(doc, "aws_lambda_function")
    variables = function["environment"]["variables"]
    contract = AlertsOutputs.configured(stack_construct("alerts-production").context)
    assert variables["WEBHOOK_SECRET_ID"] == contract["webhook_secret_name"]
    assert variables["TEAMS"].split(",") == settings.environments["production"].monitoring.alert_teams
    # The monitoring stack creates exactly that secret (empty: the operators fill it) for Alertmanager.
    monitoring = stack("monitoring-production")
    (secret_id,) = [k for k, s in resources(monitoring, "aws_secretsmanager_secret").items() if "webhook" in s["name"]]
    assert resources(monitoring, "aws_secretsmanager_secret")[secret_id]["name"] == contract["webhook_secret_name"]
    versions = resources(monitoring, "aws_secretsmanager_secret_version").values()
    assert not any(secret_id in json.dumps(version) for version in versions)  # no value from Terraform
    role = one(doc, "aws_iam_role_policy")
    statements = {s["Sid"]: s for s in policy_json(doc, role["policy"])["Statement"]}
    read = statements["ReadWebhookUrls"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert read["Resource"].endswith(f":secret:{contract['webhook_secret_name']}-??????")
    decrypt = statements["DecryptWebhookUrlsThroughSecretsManager"]["Condition"]
    assert decrypt["StringEquals"]["kms:ViaService"] == "secretsmanager.ap-northeast-1.amazonaws.com"
    assert decrypt["StringLike"]["kms:EncryptionContext:SecretARN"] == read["Resource"]
    assert statements["ReadAlarmLabels"]["Resource"].endswith(":alarm:iworkz-production-*")
    assert function["kms_key_arn"].startswith("${aws_kms_key.") and function["tracing_config"]["mode"] == "Active"
    assert function["dead_letter_config"]["target_arn"].startswith("${aws_sqs_queue.")


def test_no_receiver_url_reaches_terraform(synthesized: dict[str, StackJson]) -> None:
    """Deliveries go through the forwarder only: nothing holds a webhook URL, so state cannot."""
    for name, doc in synthesized.items():
        assert {s["protocol"] for s in resources(doc, "aws_sns_topic_subscription").values()} <= {"lambda"}, name
        assert not resources(doc, "aws_cloudwatch_event_api_destination"), name
        for output in outputs(doc).values():
            value = output["value"]
            assert not (isinstance(value, str) and re.match(r"^https?://", value) and "svc:" not in value), name
        for group in resources(doc, "azurerm_monitor_action_group").values():
            assert all(r["service_uri"].startswith("${") for r in group.get("webhook_receiver", [])), name
        for function in resources(doc, "aws_lambda_function").values():
            variables = (function.get("environment") or {}).get("variables", {})
            urls = {k: v for k, v in variables.items() if "://" in v}
            assert all(".console.aws.amazon.com/" in url for url in urls.values()), (name, urls)


def test_every_alarm_name_starts_with_the_prefix_the_forwarder_may_read(synthesized: dict[str, StackJson]) -> None:
    for name, doc in environment_stacks(synthesized):
        for alarm in resources(doc, "aws_cloudwatch_metric_alarm").values():
            environment = name.rsplit("-", 1)[-1]
            assert alarm["alarm_name"].startswith(f"iworkz-{environment}-"), (name, alarm["alarm_name"])


def test_every_stack_with_alarms_deploys_after_the_alerts_stack(synthesized: dict[str, StackJson]) -> None:
    for name, doc in environment_stacks(synthesized):
        if resources(doc, "aws_cloudwatch_metric_alarm") and not name.startswith("alerts-"):
            component = name.rsplit("-", 1)[0]
            assert "alerts" in BY_COMPONENT[component].depends_on, name


def _alert_path_group(doc: StackJson) -> tuple[str, dict[str, Any]]:
    """The action group with the secure webhook (the site's other group e-mails its receivers)."""
    ((logical, group),) = [
        (k, g) for k, g in resources(doc, "azurerm_monitor_action_group").items() if g.get("webhook_receiver")
    ]
    return logical, group


def test_azure_monitor_alerts_join_through_the_secure_webhook(stack: Callable[[str], StackJson]) -> None:
    doc = stack("dr-azure-production")
    _, group = _alert_path_group(doc)
    (receiver,) = group["webhook_receiver"]
    assert receiver["use_common_alert_schema"] is True
    # The URL is the API's own endpoint (an attribute), never a receiver's URL.
    assert receiver["service_uri"].startswith("${aws_apigatewayv2_api.") and receiver["service_uri"].endswith(
        "/azure-monitor"
    )
    application_id = next(iter(resources(doc, "azuread_application")))
    assert receiver["aad_auth"]["object_id"] == f"${{azuread_application.{application_id}.object_id}}"
    application = resources(doc, "azuread_application")[application_id]
    assert application["api"]["requested_access_token_version"] == 2
    (role,) = application["app_role"]
    assert role["value"] == SECURE_WEBHOOK_ROLE and role["allowed_member_types"] == ["Application"]
    assignment = one(doc, "azuread_app_role_assignment")
    assert assignment["app_role_id"] == role["id"]
    (caller,) = doc["data"]["azuread_service_principal"].values()
    assert caller["client_id"] == ACTION_GROUPS_APP_ID
    authorizer = one(doc, "aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_type"] == "JWT"
    assert authorizer["jwt_configuration"]["issuer"].startswith("https://login.microsoftonline.com/")
    assert authorizer["jwt_configuration"]["audience"] == [f"${{azuread_application.{application_id}.client_id}}"]
    route = one(doc, "aws_apigatewayv2_route")
    assert route["authorization_type"] == "JWT" and route["route_key"] == "POST /azure-monitor"
    integration = one(doc, "aws_apigatewayv2_integration")
    assert (
        integration["integration_uri"]
        == "${data.terraform_remote_state.alerts-production.outputs.forwarder_invoke_arn}"
    )
    (permission,) = resources(doc, "aws_lambda_permission").values()
    assert permission["source_arn"].endswith("/*/POST/azure-monitor")
    assert permission["function_name"].endswith("outputs.forwarder_function_name}")
    assert one(doc, "aws_apigatewayv2_stage")["access_log_settings"]["destination_arn"].startswith(
        "${aws_cloudwatch_log_group."
    )


def test_every_azure_monitor_alert_of_the_dr_site_is_on_the_alert_path(
    stack: Callable[[str], StackJson], settings: Settings
) -> None:
    doc = stack("dr-azure-production")
    logical, _ = _alert_path_group(doc)
    alerts = resources(doc, "azurerm_monitor_metric_alert")
    assert alerts
    teams = settings.environments["production"].monitoring.alert_teams
    for name, alert in alerts.items():
        (on_path,) = [
            a for a in alert["action"] if a["action_group_id"] == f"${{azurerm_monitor_action_group.{logical}.id}}"
        ]
        properties = on_path["webhook_properties"]
        assert properties["team"] in teams and properties["severity"] in SEVERITIES, name
        # Azure severities 0 and 1 page, as a CloudWatch alarm of the critical topic does.
        assert (properties["severity"] == "critical") == (alert["severity"] <= 1), name
    (log_alert,) = resources(doc, "azurerm_monitor_scheduled_query_rules_alert_v2").values()
    assert f"${{azurerm_monitor_action_group.{logical}.id}}" in log_alert["action"]["action_groups"]
    assert log_alert["action"]["custom_properties"] == {"team": "database", "severity": "critical"}
    routed = {a["name"]: a["action"][-1]["webhook_properties"] for a in alerts.values()}
    assert routed["iworkz-production-dr-pg-down"] == {"team": "database", "severity": "critical"}
    assert routed["iworkz-production-dr-storage-availability"]["team"] == "infrastructure"


def test_the_dr_contract_offers_the_action_group_to_other_alerts(stack_construct: Callable[[str], Any]) -> None:
    outputs_ = stack_construct("dr-azure-production").outputs
    assert isinstance(outputs_, DrAzureOutputs)
    action = outputs_.alert_action("database", "critical")
    assert action == {
        "action_group_id": outputs_.alert_action_group_id,
        "webhook_properties": {"team": "database", "severity": "critical"},
    }
    with pytest.raises(ValueError, match="no alert receiver"):
        outputs_.alert_action("marketing", "critical")
    with pytest.raises(ValueError, match="severity"):
        outputs_.alert_action("database", "page")
    assert "alert_action_group_id" in DrAzureOutputs.output_names()
