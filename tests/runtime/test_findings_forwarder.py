"""runtime/findings_forwarder/forwarder.py: findings and alarms to the critical receivers, in
Alertmanager's webhook format, with the URLs read from Secrets Manager (a botocore client
answered by botocore's Stubber) and posted to a local receiver."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from tests.runtime.conftest import RUNTIME_DIR

SECRET = "iworkz-production/monitoring/alertmanager-webhooks"


def _load() -> Any:
    # Loaded from its file without writing __pycache__ into the Lambda's source folder.
    spec = importlib.util.spec_from_file_location("forwarder", RUNTIME_DIR / "findings_forwarder" / "forwarder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


forwarder = _load()

GUARDDUTY_EVENT = {
    "detail-type": "GuardDuty Finding",
    "source": "aws.guardduty",
    "time": "2026-12-01T00:00:00Z",
    "detail": {
        "id": "finding-1",
        "type": "CryptoCurrency:Runtime/BitcoinTool.B",
        "severity": 8.0,
        "title": "A container queried a Bitcoin pool",
        "description": "EKS pod backend-api-1 ...",
        "accountId": "111122223333",
        "region": "ap-northeast-1",
        "updatedAt": "2026-12-01T00:01:00Z",
    },
}
SECURITY_HUB_EVENT = {
    "detail-type": "Security Hub Findings - Imported",
    "source": "aws.securityhub",
    "time": "2026-12-01T00:00:00Z",
    "detail": {
        "findings": [
            {
                "Id": "arn:aws:securityhub:...:finding/1",
                "GeneratorId": "security-control/S3.8",
                "ProductName": "Security Hub",
                "Title": "S3 general purpose buckets should block public access",
                "Description": "...",
                "Severity": {"Label": "CRITICAL"},
                "AwsAccountId": "111122223333",
                "Region": "ap-northeast-1",
                "UpdatedAt": "2026-12-01T00:02:00Z",
            }
        ]
    },
}
ALARM = {
    "AlarmName": "iworkz-audit-root-account-usage",
    "AlarmDescription": "CloudTrail: root account usage",
    "AWSAccountId": "111122223333",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed",
    "StateChangeTime": "2026-12-01T00:03:00.000+0000",
    "AlarmArn": "arn:aws:cloudwatch:ap-northeast-1:111122223333:alarm:iworkz-audit-root-account-usage",
}


def _sns(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"Sns": {"Message": json.dumps(m)}} for m in messages]}


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on the loopback address that records what it receives."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/critical", received
    finally:
        server.shutdown()


def _secrets(url: str | None) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "secretsmanager", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    value = {"critical": url, "default": "http://127.0.0.1:9/not-this-one"} if url else {"default": "http://x"}
    stubber.add_response(
        "get_secret_value",
        {"Name": SECRET, "SecretString": json.dumps(value)},
        {"SecretId": SECRET},
    )
    stubber.activate()
    return client, stubber


def test_findings_and_alarms_reach_the_critical_receiver_in_alertmanager_format(receiver, monkeypatch):
    url, received = receiver
    monkeypatch.setenv("WEBHOOK_SECRETS", SECRET)
    monkeypatch.setenv("RECEIVER", "critical")
    client, stubber = _secrets(url)
    sent = forwarder.handler(_sns(GUARDDUTY_EVENT, SECURITY_HUB_EVENT, ALARM), None, secrets=client)
    stubber.assert_no_pending_responses()
    assert sent == 3
    [payload] = received
    assert payload["version"] == "4" and payload["receiver"] == "critical" and payload["status"] == "firing"
    guardduty, hub, alarm = payload["alerts"]
    assert guardduty["labels"] == {
        "alertname": "GuardDutyFinding",
        "severity": "critical",
        "finding_severity": "HIGH",
        "finding_type": "CryptoCurrency:Runtime/BitcoinTool.B",
        "source": "guardduty",
        "account": "111122223333",
        "region": "ap-northeast-1",
    }
    assert guardduty["annotations"]["summary"] == "A container queried a Bitcoin pool"
    assert guardduty["startsAt"] == "2026-12-01T00:01:00Z" and guardduty["endsAt"] == forwarder.NEVER
    assert hub["labels"]["finding_severity"] == "CRITICAL" and hub["labels"]["finding_type"] == "security-control/S3.8"
    assert alarm["labels"]["alertname"] == "AuditTrailAlarm" and alarm["labels"]["alarm"] == ALARM["AlarmName"]
    assert payload["commonLabels"] == {"severity": "critical", "account": "111122223333"}


def test_an_alarm_back_to_ok_resolves_its_alert():
    [alert] = forwarder.to_alerts({**ALARM, "NewStateValue": "OK"})
    assert alert["status"] == "resolved" and alert["endsAt"] == ALARM["StateChangeTime"]


def test_a_secret_without_the_receiver_fails_loudly_so_lambda_retries(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRETS", SECRET)
    monkeypatch.setenv("RECEIVER", "critical")
    client, _ = _secrets(None)
    with pytest.raises(KeyError, match="no 'critical' key"):
        forwarder.handler(_sns(GUARDDUTY_EVENT), None, secrets=client, post=lambda url, payload: None)


def test_an_unknown_message_is_refused():
    with pytest.raises(ValueError, match="not a finding or an alarm"):
        forwarder.to_alerts({"hello": "world"})


def test_the_lambda_sources_are_exactly_the_forwarder():
    assert sorted(p.name for p in (RUNTIME_DIR / "findings_forwarder").glob("*.py")) == ["forwarder.py"]
    assert not (Path(RUNTIME_DIR) / "findings_forwarder" / "__init__.py").exists()
