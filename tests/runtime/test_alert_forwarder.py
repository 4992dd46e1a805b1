"""runtime/lambdas/alert_forwarder: CloudWatch alarms and Azure Monitor alerts reach Alertmanager's
receivers, in Alertmanager's webhook format, routed like Alertmanager's routes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import alert_forwarder
import botocore.session
import pytest
from botocore.stub import Stubber

from iworkz import monitoring_values
from iworkz.config.monitoring import SEED_ALERT_TEAMS
from tests.runtime.conftest import LAMBDAS_DIR

ALARM_ARN = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:iworkz-production-postgres-free-storage"
SECRET_ID = "iworkz-production/monitoring/alertmanager-webhooks"
TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:iworkz-production-alerts-critical"


def _alarm(state: str = "ALARM", **changes: Any) -> dict[str, Any]:
    return {
        "AlarmName": "iworkz-production-postgres-free-storage",
        "AlarmDescription": "PostgreSQL iworkz-production-postgres: less than 10 GB of storage free",
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [9.1E9] was less than the threshold (1.0E10).",
        "StateChangeTime": "2026-12-01T15:04:05.123+0000",
        "Region": "Asia Pacific (Tokyo)",
        "AlarmArn": ALARM_ARN,
        "OldStateValue": "OK",
        "Trigger": {"MetricName": "FreeStorageSpace", "Namespace": "AWS/RDS"},
        **changes,
    }


def _sns(message: dict[str, Any], topic: str = TOPIC) -> dict[str, Any]:
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"TopicArn": topic, "Message": json.dumps(message)}}]}


@dataclass
class Receivers:
    """Local webhook receivers: one URL per receiver name, the POSTs received, the names answering 500."""

    urls: dict[str, str]
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.posts]


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    received = Receivers({})

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            name = self.path.strip("/")
            received.posts.append((name, json.loads(self.rfile.read(length))))
            self.send_response(500 if name in received.failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    names = monitoring_values.receiver_names(SEED_ALERT_TEAMS)
    received.urls = {name: f"http://127.0.0.1:{server.server_port}/{name}" for name in names}
    yield received
    server.shutdown()


def _forwarder(urls: dict[str, str], tags: dict[str, str] | None) -> tuple[alert_forwarder.Forwarder, list[Stubber]]:
    session = botocore.session.get_session()
    secrets = session.create_client("secretsmanager", region_name="ap-northeast-1")
    cloudwatch = session.create_client("cloudwatch", region_name="ap-northeast-1")
    secrets_stub, cloudwatch_stub = Stubber(secrets), Stubber(cloudwatch)
    secrets_stub.add_response("get_secret_value", {"SecretString": json.dumps(urls)}, {"SecretId": SECRET_ID})
    if tags is not None:
        cloudwatch_stub.add_response(
            "list_tags_for_resource",
            {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]},
            {"ResourceARN": ALARM_ARN},
        )
    secrets_stub.activate()
    cloudwatch_stub.activate()
    forwarder = alert_forwarder.Forwarder(
        secrets=secrets,
        cloudwatch=cloudwatch,
        secret_id=SECRET_ID,
        environment="production",
        teams=SEED_ALERT_TEAMS,
        external_url="https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#alarmsV2:",
    )
    return forwarder, [secrets_stub, cloudwatch_stub]


def test_a_critical_alarm_reaches_the_critical_and_the_team_receiver_in_alertmanager_format(receivers) -> None:
    forwarder, stubs = _forwarder(receivers.urls, {"Team": "database", "Severity": "critical"})
    result = forwarder.handle(_sns(_alarm()))
    assert result == {
        "delivered": [{"alert": "iworkz-production-postgres-free-storage", "receivers": ["critical", "database"]}]
    }
    assert receivers.names == ["critical", "database"]
    payload = receivers.posts[0][1]
    # Alertmanager's webhook payload, version 4 (what the receivers already parse).
    assert set(payload) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert payload["version"] == "4" and payload["status"] == "firing" and payload["receiver"] == "critical"
    (alert,) = payload["alerts"]
    assert alert["labels"] == {
        "alertname": "iworkz-production-postgres-free-storage",
        "severity": "critical",
        "team": "database",
        "environment": "production",
        "source": "cloudwatch",
    }
    assert alert["annotations"]["summary"].startswith("PostgreSQL iworkz-production-postgres: less than 10 GB")
    assert alert["startsAt"] == "2026-12-01T15:04:05.123000Z" and alert["endsAt"] == alert_forwarder.NEVER
    assert alert["generatorURL"].startswith("https://ap-northeast-1.console.aws.amazon.com/cloudwatch/")
    for stub in stubs:
        stub.assert_no_pending_responses()


def test_the_same_alarm_clearing_is_resolved_with_its_fingerprint(receivers) -> None:
    forwarder, _ = _forwarder(receivers.urls, {"Team": "database", "Severity": "critical"})
    forwarder.handle(_sns(_alarm()))
    fired = receivers.posts[0][1]["alerts"][0]
    resolved = alert_forwarder.cloudwatch_alert(_alarm("OK"), {"Team": "database"}, "production", "critical")
    assert resolved is not None
    assert resolved.status == "resolved" and resolved.ends_at == "2026-12-01T15:04:05.123000Z"
    assert resolved.fingerprint == fired["fingerprint"]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical", "team": "database"}, ["critical", "database"]),
        ({"severity": "warning", "team": "infrastructure"}, ["infrastructure"]),
        ({"severity": "warning", "team": "unknown-team"}, ["default"]),
        ({"severity": "critical"}, ["critical", "default"]),
    ],
)
def test_routes_are_alertmanagers(labels, expected) -> None:
    assert alert_forwarder.receivers(labels, SEED_ALERT_TEAMS) == expected
    # The same routes as the Alertmanager configuration the monitoring stack writes.
    routes = monitoring_values.alertmanager_config(list(SEED_ALERT_TEAMS))["route"]["routes"]
    critical = next(r for r in routes if r.get("receiver") == monitoring_values.CRITICAL_RECEIVER)
    assert critical["continue"] is True and critical["matchers"] == ['severity = "critical"']
    assert alert_forwarder.CRITICAL_RECEIVER == monitoring_values.CRITICAL_RECEIVER
    assert alert_forwarder.DEFAULT_RECEIVER == monitoring_values.DEFAULT_RECEIVER


def test_without_a_severity_tag_the_topic_decides_and_insufficient_data_is_no_alert() -> None:
    alert = alert_forwarder.cloudwatch_alert(_alarm(), {}, "production", "warning")
    assert alert is not None and alert.labels["severity"] == "warning" and alert.labels["team"] == ""
    assert alert_forwarder.cloudwatch_alert(_alarm("INSUFFICIENT_DATA"), {}, "production", "warning") is None


def test_a_receiver_without_a_url_falls_back_to_default_and_a_failed_post_raises(receivers) -> None:
    without_database = {name: url for name, url in receivers.urls.items() if name != "database"}
    forwarder, _ = _forwarder(without_database, {"Team": "database", "Severity": "warning"})
    forwarder.handle(_sns(_alarm()))
    assert receivers.names == ["default"]
    receivers.failing.add("critical")
    forwarder, _ = _forwarder(receivers.urls, {"Team": "database", "Severity": "critical"})
    with pytest.raises(Exception, match="500"):
        forwarder.handle(_sns(_alarm()))  # Lambda retries, then the dead-letter queue keeps the event


AZURE_ALERT = {
    "schemaId": "azureMonitorCommonAlertSchema",
    "data": {
        "essentials": {
            "alertId": "/subscriptions/0000/providers/Microsoft.AlertsManagement/alerts/1234",
            "alertRule": "iworkz-production-dr-pg-cpu",
            "severity": "Sev1",
            "signalType": "Metric",
            "monitorCondition": "Fired",
            "monitoringService": "Platform",
            "alertTargetIDs": [
                "/subscriptions/0000/resourcegroups/iworkz-production-dr-rg/providers/"
                "microsoft.dbforpostgresql/flexibleservers/iworkz-production-dr-pg"
            ],
            "firedDateTime": "2026-12-01T15:04:05.1234567Z",
            "description": "DR PostgreSQL CPU above 90 %",
        },
        "alertContext": {},
        "customProperties": {"team": "database", "severity": "critical"},
    },
}
AZURE_CLAIMS = {
    "aud": "11111111-2222-3333-4444-555555555555",
    "iss": "https://login.microsoftonline.com/tenant/v2.0",
    "azp": alert_forwarder.AZURE_ACTION_GROUPS_APP_ID,
    "roles": "[ActionGroupsSecureWebhook]",
}


def _webhook(claims: dict[str, Any], body: Any = AZURE_ALERT) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /azure-monitor",
        "requestContext": {"http": {"method": "POST"}, "authorizer": {"jwt": {"claims": claims}}},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def test_an_azure_monitor_alert_from_the_action_groups_application_is_delivered(receivers) -> None:
    forwarder, _ = _forwarder(receivers.urls, None)
    assert forwarder.handle(_webhook(AZURE_CLAIMS))["statusCode"] == 202
    assert receivers.names == ["critical", "database"]
    (alert,) = receivers.posts[0][1]["alerts"]
    assert alert["labels"] == {
        "alertname": "iworkz-production-dr-pg-cpu",
        "severity": "critical",
        "team": "database",
        "environment": "production",
        "source": "azure-monitor",
        "resource": "iworkz-production-dr-pg",
    }
    assert alert["startsAt"] == "2026-12-01T15:04:05.123456Z"
    assert alert["generatorURL"].startswith("https://portal.azure.com/")


@pytest.mark.parametrize(
    "claims",
    [
        {**AZURE_CLAIMS, "azp": "00000000-0000-0000-0000-000000000000"},  # another application
        {**AZURE_CLAIMS, "roles": "[SomethingElse]"},  # without the app role
        {key: value for key, value in AZURE_CLAIMS.items() if key != "roles"},
        {},
    ],
    ids=["other-application", "other-role", "no-role", "no-token"],
)
def test_other_callers_are_refused(receivers, claims) -> None:
    forwarder, _ = _forwarder(receivers.urls, None)
    assert forwarder.handle(_webhook(claims))["statusCode"] == 403
    assert receivers.posts == []


def test_a_malformed_alert_is_a_bad_request_and_v1_tokens_name_the_caller_appid(receivers) -> None:
    forwarder, _ = _forwarder(receivers.urls, None)
    assert forwarder.handle(_webhook(AZURE_CLAIMS, {"schemaId": "other"}))["statusCode"] == 400
    v1 = {**AZURE_CLAIMS, "appid": AZURE_CLAIMS["azp"], "roles": ["ActionGroupsSecureWebhook"]}
    del v1["azp"]
    assert alert_forwarder.caller_is_azure_monitor(v1)


def test_an_unfilled_secret_fails_instead_of_dropping_alerts() -> None:
    session = botocore.session.get_session()
    secrets = session.create_client("secretsmanager", region_name="ap-northeast-1")
    stub = Stubber(secrets)
    stub.add_client_error("get_secret_value", "ResourceNotFoundException", expected_params={"SecretId": SECRET_ID})
    stub.activate()
    forwarder = alert_forwarder.Forwarder(secrets, None, SECRET_ID, "production", SEED_ALERT_TEAMS)
    alert = alert_forwarder.cloudwatch_alert(_alarm(), {"Team": "database"}, "production", "critical")
    assert alert is not None
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        forwarder.deliver(alert)


def test_the_package_is_one_module_using_only_the_lambda_runtime() -> None:
    folder = LAMBDAS_DIR / "alert_forwarder"
    assert sorted(p.name for p in folder.glob("*.py")) == ["alert_forwarder.py"]
    source = (folder / "alert_forwarder.py").read_text()
    imports = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    standard = {"__future__", "base64", "collections", "dataclasses", "datetime", "hashlib", "json", "os", "time"}
    assert imports <= standard | {"typing", "urllib", "botocore"}  # botocore: part of Lambda's Python runtime
