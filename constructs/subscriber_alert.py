"""An Azure Monitor log alert on the DR site's logical-replication subscriber.

Azure Database for PostgreSQL has no subscriber-side lag metric: what shows a stalled
subscription is its apply worker's log (a lost connection to the publisher, a conflicting row,
a disabled subscription). The server's logs reach Log Analytics (``AzureDiagnostics``, category
``PostgreSQLLogs``); this scheduled query counts the replication errors of the window and fires
at the first one, with severity 0 (critical) to the site's action group. The window is the
database RPO: a stall the alert has not reported yet is at most that old.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.monitor_scheduled_query_rules_alert_v2 import (
    MonitorScheduledQueryRulesAlertV2,
    MonitorScheduledQueryRulesAlertV2Action,
    MonitorScheduledQueryRulesAlertV2Criteria,
    MonitorScheduledQueryRulesAlertV2CriteriaFailingPeriods,
)
from constructs import Construct

# The apply and table-sync workers' messages (PostgreSQL 16, src/backend/replication/logical).
REPLICATION_ERRORS = (
    'AzureDiagnostics\n| where ResourceProvider == "MICROSOFT.DBFORPOSTGRESQL" and Category == "PostgreSQLLogs"\n'
    '| where errorLevel_s in ("ERROR", "FATAL")\n'
    '| where Message has_any ("logical replication", "apply worker", "subscription")\n'
)


@dataclass(frozen=True)
class SubscriberAlertProps:
    """Properties of :class:`SubscriberAlert`.

    | name | meaning | default |
    |---|---|---|
    | name | the alert rule's name | required |
    | resource_group_name / location | where the rule lives | required |
    | workspace_id | the Log Analytics workspace the server logs to | required |
    | action_group_ids | the critical receivers: the site's e-mail group and the alert path | required |
    | custom_properties | properties the alert path routes by (team, severity) | none |
    | window_minutes | the window of the query (the database RPO), 5-1440 | required |
    | tags | tags | none |
    """

    name: str
    resource_group_name: str
    location: str
    workspace_id: str
    action_group_ids: Sequence[str]
    window_minutes: int
    custom_properties: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.action_group_ids:
            raise ValueError(f"{self.name}: give at least one action group (the critical receivers)")
        if not 5 <= self.window_minutes <= 1440:
            raise ValueError(f"window_minutes {self.window_minutes}: Azure log alerts take 5-1440 minutes")


class SubscriberAlert(Construct):
    """Attributes: ``rule`` (the scheduled query rule), ``name``."""

    def __init__(self, scope: Construct, id: str, props: SubscriberAlertProps) -> None:
        super().__init__(scope, id)
        self.name = props.name
        self.rule = MonitorScheduledQueryRulesAlertV2(
            self,
            "rule",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            scopes=[props.workspace_id],
            description="The DR subscriber's logical replication reports errors: the copy of RDS is falling behind",
            severity=0,
            evaluation_frequency="PT5M",
            window_duration=f"PT{props.window_minutes}M",
            criteria=[
                MonitorScheduledQueryRulesAlertV2Criteria(
                    query=REPLICATION_ERRORS,
                    time_aggregation_method="Count",
                    operator="GreaterThan",
                    threshold=0,
                    failing_periods=MonitorScheduledQueryRulesAlertV2CriteriaFailingPeriods(
                        minimum_failing_periods_to_trigger_alert=1, number_of_evaluation_periods=1
                    ),
                )
            ],
            action=MonitorScheduledQueryRulesAlertV2Action(
                action_groups=list(props.action_group_ids), custom_properties=dict(props.custom_properties) or None
            ),
            auto_mitigation_enabled=True,
            tags=dict(props.tags) or None,
        )
