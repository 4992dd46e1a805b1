"""Delivers CloudWatch alarms and Azure Monitor alerts to Alertmanager's receivers, as Alertmanager does.

One alert path: the on-call sees the same stream whether Prometheus, CloudWatch or Azure Monitor
noticed the problem. This function is subscribed to the alert topics (one per severity) and
sits behind the DR site's secure webhook; it

- turns a CloudWatch alarm (SNS message) or an Azure Monitor alert (common alert schema) into
  an Alertmanager alert: labels ``alertname``, ``severity``, ``team``, ``environment``,
  ``source``; annotations ``summary`` and ``description``; ``status`` firing or resolved;
- routes it like Alertmanager's routes (iworkz/monitoring_values.py): a critical alert goes to
  the ``critical`` receiver and to its team's, any other to its team's, a team without a
  receiver to ``default``;
- posts Alertmanager's webhook payload (version 4) to each receiver's URL, read at run time
  from the operators' Secrets Manager entry ``<prefix>/monitoring/alertmanager-webhooks``
  (the one Alertmanager reads): no URL is in code, configuration, Terraform state or output.

An alarm's team and severity are its ``Team`` and ``Severity`` tags (ListTagsForResource). An
Azure alert carries them as the action's webhook properties; its caller is checked: API Gateway
has verified the Microsoft Entra token (issuer, audience, signature, expiry), this function
requires the Azure Monitor action groups application and the app role the DR site granted it.

A failed delivery raises: SNS invokes asynchronously, so Lambda retries and finally parks the
event in the function's dead-letter queue; the webhook caller gets 503 and retries.
Runs on AWS Lambda's Python runtime (botocore is part of it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CRITICAL_RECEIVER = "critical"
DEFAULT_RECEIVER = "default"
SEVERITIES = ("critical", "warning")
# The Microsoft Entra application Azure Monitor action groups call secure webhooks as, and the
# app role the DR site's application grants it (Azure Monitor documentation, "secure webhook").
AZURE_ACTION_GROUPS_APP_ID = "461e8683-5575-4561-ac7f-899cc907d62a"
SECURE_WEBHOOK_ROLE = "ActionGroupsSecureWebhook"
# Azure severities Sev0 (critical) .. Sev4 (verbose): the first two page.
AZURE_CRITICAL = ("Sev0", "Sev1")
NEVER = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert
SECRET_CACHE_SECONDS = 300
POST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    """One alert in Alertmanager's webhook form."""

    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str
    generator_url: str
    fingerprint: str

    def as_webhook_alert(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": self.starts_at,
            "endsAt": self.ends_at,
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }


def receivers(labels: Mapping[str, str], teams: Iterable[str]) -> list[str]:
    """Alertmanager's routes: critical also to the critical receiver; then the team's, or default."""
    team = labels.get("team", "")
    owner = team if team in set(teams) else DEFAULT_RECEIVER
    return [CRITICAL_RECEIVER, owner] if labels.get("severity") == "critical" else [owner]


def webhook_payload(receiver: str, alert: Alert, external_url: str) -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4) for one alert, as its group of one."""
    group = {key: alert.labels[key] for key in ("alertname", "severity", "team") if key in alert.labels}
    return {
        "version": "4",
        "groupKey": "{}:" + json.dumps(group, sort_keys=True),
        "truncatedAlerts": 0,
        "status": alert.status,
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": dict(alert.labels),
        "commonAnnotations": dict(alert.annotations),
        "externalURL": external_url,
        "alerts": [alert.as_webhook_alert()],
    }


def _timestamp(value: str) -> str:
    """CloudWatch's ``2026-12-01T15:04:05.123+0000`` or Azure's ISO 8601 as RFC 3339 in UTC."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fingerprint(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def cloudwatch_alert(
    message: Mapping[str, Any], tags: Mapping[str, str], environment: str, topic_severity: str
) -> Alert | None:
    """A CloudWatch alarm's state change as an alert; None for INSUFFICIENT_DATA (no alert)."""
    state = message.get("NewStateValue")
    if state not in ("ALARM", "OK"):
        return None
    arn = str(message["AlarmArn"])
    region = arn.split(":")[3]
    name = str(message["AlarmName"])
    changed = _timestamp(str(message["StateChangeTime"]))
    tagged = tags.get("Severity", "")
    severity = tagged if tagged in SEVERITIES else topic_severity
    console = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{urllib.parse.quote(name)}"
    return Alert(
        status="firing" if state == "ALARM" else "resolved",
        labels={
            "alertname": name,
            "severity": severity,
            "team": tags.get("Team", ""),
            "environment": environment,
            "source": "cloudwatch",
        },
        annotations={
            "summary": str(message.get("AlarmDescription") or name),
            "description": str(message.get("NewStateReason") or ""),
        },
        starts_at=changed,
        ends_at=NEVER if state == "ALARM" else changed,
        generator_url=console,
        fingerprint=_fingerprint(arn),
    )


def azure_alert(body: Mapping[str, Any], environment: str) -> Alert:
    """An Azure Monitor alert (common alert schema) as an alert."""
    if body.get("schemaId") != "azureMonitorCommonAlertSchema":
        raise ValueError("not an Azure Monitor common alert schema payload")
    data = body["data"]
    essentials = data["essentials"]
    custom = data.get("customProperties") or {}
    severity = custom.get("severity") if custom.get("severity") in SEVERITIES else None
    severity = severity or ("critical" if essentials.get("severity") in AZURE_CRITICAL else "warning")
    fired = essentials.get("monitorCondition") == "Fired"
    started = _timestamp(str(essentials["firedDateTime"]))
    alert_id = str(essentials["alertId"])
    targets = essentials.get("alertTargetIDs") or []
    return Alert(
        status="firing" if fired else "resolved",
        labels={
            "alertname": str(essentials.get("alertRule", "azure-monitor-alert")),
            "severity": severity,
            "team": str(custom.get("team", "")),
            "environment": environment,
            "source": "azure-monitor",
            **({"resource": str(targets[0]).rsplit("/", 1)[-1]} if targets else {}),
        },
        annotations={
            "summary": str(essentials.get("description") or essentials.get("alertRule", "")),
            "description": f"{essentials.get('monitoringService', '')} {essentials.get('signalType', '')} alert "
            f"{essentials.get('severity', '')} on {', '.join(map(str, targets))}".strip(),
        },
        starts_at=started,
        ends_at=NEVER if fired else _timestamp(str(essentials.get("resolvedDateTime") or essentials["firedDateTime"])),
        generator_url="https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/AlertDetails.ReactView/alertId/"
        + urllib.parse.quote(alert_id, safe=""),
        fingerprint=_fingerprint(alert_id),
    )


def caller_is_azure_monitor(claims: Mapping[str, Any]) -> bool:
    """The token (verified by API Gateway) is the action groups application's, with the app role."""
    caller = claims.get("azp") or claims.get("appid")
    roles = claims.get("roles") or []
    if isinstance(roles, str):  # API Gateway flattens list claims into "[a b]"
        roles = roles.strip("[]").replace(",", " ").split()
    return caller == AZURE_ACTION_GROUPS_APP_ID and SECURE_WEBHOOK_ROLE in roles


def post_json(url: str, payload: Mapping[str, Any]) -> None:
    """POSTs the payload; raises for a failed delivery (HTTP error or no answer)."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise RuntimeError(f"receiver answered {response.status}")


@dataclass
class Forwarder:
    """Delivery with its clients (botocore ``secretsmanager`` and ``cloudwatch``) and settings."""

    secrets: Any
    cloudwatch: Any
    secret_id: str
    environment: str
    teams: tuple[str, ...]
    external_url: str = ""
    post: Callable[[str, Mapping[str, Any]], None] = post_json
    clock: Callable[[], float] = time.monotonic
    _urls: dict[str, str] = field(default_factory=dict)
    _loaded_at: float | None = None

    def webhook_urls(self) -> dict[str, str]:
        now = self.clock()
        if self._loaded_at is None or now - self._loaded_at > SECRET_CACHE_SECONDS:
            value = self.secrets.get_secret_value(SecretId=self.secret_id)["SecretString"]
            urls = json.loads(value)
            if not isinstance(urls, dict):
                raise ValueError(f"{self.secret_id} must hold a JSON object: receiver -> webhook URL")
            self._urls, self._loaded_at = {str(k): str(v) for k, v in urls.items() if v}, now
        return self._urls

    def deliver(self, alert: Alert) -> list[str]:
        """Posts the alert to its receivers; returns their names (never their URLs)."""
        urls = self.webhook_urls()
        delivered = []
        for receiver in receivers(alert.labels, self.teams):
            name = receiver if receiver in urls else DEFAULT_RECEIVER
            if name not in urls:
                raise LookupError(f"{self.secret_id} has no URL for {receiver!r} nor for {DEFAULT_RECEIVER!r}")
            if name in delivered:
                continue
            self.post(urls[name], webhook_payload(name, alert, self.external_url))
            delivered.append(name)
        return delivered

    def alarm_tags(self, alarm_arn: str) -> dict[str, str]:
        tags = self.cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn)["Tags"]
        return {tag["Key"]: tag["Value"] for tag in tags}

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if "Records" in event:
            return self._sns(event["Records"])
        if "requestContext" in event:
            return self._webhook(event)
        raise ValueError("the event is neither an SNS notification nor an HTTP request")

    def _sns(self, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        delivered = []
        for record in records:
            notification = record["Sns"]
            topic_severity = str(notification["TopicArn"]).rsplit("-", 1)[-1]
            message = json.loads(notification["Message"])
            alert = cloudwatch_alert(
                message, self.alarm_tags(str(message["AlarmArn"])), self.environment, topic_severity
            )
            if alert is not None:
                delivered.append({"alert": alert.labels["alertname"], "receivers": self.deliver(alert)})
        _log({"delivered": delivered})
        return {"delivered": delivered}

    def _webhook(self, event: Mapping[str, Any]) -> dict[str, Any]:
        claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt", {}).get("claims", {})
        if not caller_is_azure_monitor(claims):
            _log({"refused": "caller is not the Azure Monitor action groups application with its app role"})
            return {"statusCode": 403, "body": "forbidden"}
        try:
            body = event.get("body") or ""
            if event.get("isBase64Encoded"):
                body = base64.b64decode(body).decode()
            alert = azure_alert(json.loads(body), self.environment)
        except (ValueError, KeyError, TypeError) as error:
            _log({"refused": f"malformed alert: {error}"})
            return {"statusCode": 400, "body": "not a common alert schema payload"}
        try:
            names = self.deliver(alert)
        except Exception as error:  # the caller retries
            _log({"failed": alert.labels["alertname"], "error": type(error).__name__})
            return {"statusCode": 503, "body": "delivery failed"}
        _log({"delivered": [{"alert": alert.labels["alertname"], "receivers": names}]})
        return {"statusCode": 202, "body": "delivered"}


def _log(entry: Mapping[str, Any]) -> None:
    print(json.dumps(entry, sort_keys=True))


_FORWARDER: Forwarder | None = None


def forwarder_from_environment() -> Forwarder:
    import botocore.session

    session = botocore.session.get_session()
    region = os.environ["AWS_REGION"]
    return Forwarder(
        secrets=session.create_client("secretsmanager", region_name=region),
        cloudwatch=session.create_client("cloudwatch", region_name=region),
        secret_id=os.environ["WEBHOOK_SECRET_ID"],
        environment=os.environ["ENVIRONMENT"],
        teams=tuple(filter(None, os.environ["TEAMS"].split(","))),
        external_url=os.environ.get("EXTERNAL_URL", ""),
    )


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    global _FORWARDER
    if _FORWARDER is None:
        _FORWARDER = forwarder_from_environment()
    return _FORWARDER.handle(event)
