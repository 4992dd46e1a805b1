"""Alert topics for the construct tests: what ``AlertsOutputs.alarm_actions()`` gives a stack."""

from __future__ import annotations

from iworkz_constructs.alarms import AlarmActions

TOPICS = {
    "critical": "arn:aws:sns:ap-northeast-1:123456789012:iworkz-test-alerts-critical",
    "warning": "arn:aws:sns:ap-northeast-1:123456789012:iworkz-test-alerts-warning",
}
ACTIONS = AlarmActions(TOPICS)
