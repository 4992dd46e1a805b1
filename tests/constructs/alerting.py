"""Alert topics for the construct tests (what ``AlertsOutputs.alarm_actions()`` gives a stack) and
the stacks whose alarms are on the environments' alert path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from iworkz.registry import BY_COMPONENT
from iworkz_constructs.alarms import AlarmActions

TOPICS = {
    "critical": "arn:aws:sns:ap-northeast-1:123456789012:iworkz-test-alerts-critical",
    "warning": "arn:aws:sns:ap-northeast-1:123456789012:iworkz-test-alerts-warning",
}
ACTIONS = AlarmActions(TOPICS)


def environment_stacks(synthesized: Mapping[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The synthesised stacks of an environment, by name.

    Left out: the account-level stacks (``per_environment=False``). The security stack's audit
    alarms notify its findings topic, whose forwarder delivers them to the critical receivers of
    the environments (tests/test_security.py); they have no environment's topics to notify.
    """
    account_level = {spec.component for spec in BY_COMPONENT.values() if not spec.per_environment}
    return ((name, doc) for name, doc in synthesized.items() if name not in account_level)
