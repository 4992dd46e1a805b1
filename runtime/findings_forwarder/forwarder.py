"""AWS Lambda: forwards the security findings topic to the critical Alertmanager receivers.

The topic carries three kinds of messages: GuardDuty findings and Security Hub findings (as
EventBridge delivers them) and CloudWatch alarm notifications (the audit trail's alarms). Each
becomes an alert in Alertmanager's webhook format (version 4), so that whatever sits behind the
``critical`` receiver handles it like any other critical alert. The webhook URLs are read at
run time from the Secrets Manager secrets the operators fill (``WEBHOOK_SECRETS``, comma
separated; key ``RECEIVER``): no URL is ever in the function's code, configuration or state.

Standard library only, plus boto3 from the Lambda runtime (imported when the function runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any

TIMEOUT_S = 10
NEVER = "0001-01-01T00:00:00Z"
Post = Callable[[str, Mapping[str, Any]], None]


def handler(event: Mapping[str, Any], context: object, secrets: Any = None, post: Post | None = None) -> int:
    """Sends every message of the SNS event to every webhook; returns how many alerts were sent.

    An unreachable webhook raises: Lambda retries the event, then puts it into the dead-letter queue.
    """
    receiver = os.environ["RECEIVER"]
    urls = webhook_urls(secrets or _secrets_client(), os.environ["WEBHOOK_SECRETS"].split(","), receiver)
    alerts = [alert for record in event["Records"] for alert in to_alerts(json.loads(record["Sns"]["Message"]))]
    if alerts:
        payload = webhook_payload(alerts, receiver)
        for url in urls:
            (post or _post)(url, payload)
    return len(alerts)


def webhook_urls(secrets: Any, secret_ids: Iterable[str], receiver: str) -> list[str]:
    """The ``receiver`` URL of each secret (a JSON object with one key per receiver)."""
    urls = []
    for secret_id in secret_ids:
        value = json.loads(secrets.get_secret_value(SecretId=secret_id.strip())["SecretString"])
        if not isinstance(value, dict) or not value.get(receiver):
            raise KeyError(f"{secret_id}: no {receiver!r} key (the operators fill one URL per receiver)")
        urls.append(str(value[receiver]))
    return urls


def to_alerts(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Alertmanager alerts for one message of the topic."""
    if message.get("detail-type") == "GuardDuty Finding":
        detail = message["detail"]
        severity = float(detail["severity"])
        return [
            _alert(
                "GuardDutyFinding",
                {
                    "finding_severity": "CRITICAL" if severity >= 9 else "HIGH",
                    "finding_type": detail["type"],
                    "source": "guardduty",
                    "account": detail["accountId"],
                    "region": detail["region"],
                },
                detail["title"],
                detail.get("description", ""),
                detail.get("updatedAt") or message["time"],
                detail["id"],
            )
        ]
    if message.get("detail-type") == "Security Hub Findings - Imported":
        return [
            _alert(
                "SecurityHubFinding",
                {
                    "finding_severity": finding["Severity"]["Label"],
                    "finding_type": finding.get("GeneratorId", ""),
                    "source": finding.get("ProductName", "Security Hub"),
                    "account": finding["AwsAccountId"],
                    "region": finding["Region"],
                },
                finding["Title"],
                finding.get("Description", ""),
                finding.get("UpdatedAt") or message["time"],
                finding["Id"],
            )
            for finding in message["detail"]["findings"]
        ]
    if "AlarmName" in message:
        alert = _alert(
            "AuditTrailAlarm",
            {"alarm": message["AlarmName"], "source": "cloudtrail", "account": message["AWSAccountId"]},
            message.get("AlarmDescription") or message["AlarmName"],
            message.get("NewStateReason", ""),
            message["StateChangeTime"],
            message["AlarmArn"],
        )
        if message.get("NewStateValue") != "ALARM":
            alert["status"] = "resolved"
            alert["endsAt"] = message["StateChangeTime"]
        return [alert]
    raise ValueError(f"not a finding or an alarm: {sorted(message)[:8]}")


def _alert(
    name: str, labels: Mapping[str, str], summary: str, description: str, since: str, identity: str
) -> dict[str, Any]:
    all_labels = {"alertname": name, "severity": "critical", **labels}
    return {
        "status": "firing",
        "labels": all_labels,
        "annotations": {"summary": summary, "description": description},
        "startsAt": since,
        "endsAt": NEVER,
        "generatorURL": "",
        "fingerprint": hashlib.sha256(identity.encode()).hexdigest()[:16],
    }


def webhook_payload(alerts: list[dict[str, Any]], receiver: str) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) for one group of alerts."""
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    return {
        "version": "4",
        "groupKey": f"{{}}:{{alertname={common.get('alertname', 'SecurityFinding')!r}}}",
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": {"alertname": common.get("alertname", "SecurityFinding")},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": alerts,
    }


def _post(url: str, payload: Mapping[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        response.read()


def _secrets_client() -> Any:
    import boto3  # type: ignore[import-not-found]  # the Lambda runtime's

    return boto3.client("secretsmanager")
