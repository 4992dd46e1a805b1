"""What keeps the Azure DR site's data and evidence: delete locks, Defender, the activity log, alerts.

- A ``CanNotDelete`` management lock on every stateful resource: ``prevent_destroy`` stops only
  Terraform, a lock stops the portal and every other client as well.
- Microsoft Defender for Cloud plans (Standard tier) for the resource types the site runs.
- The subscription's activity log in the site's Log Analytics workspace, its table kept for
  ``activity_log_total_retention_days`` (the design's 7 years; searchable for the workspace's
  retention, archived after that).
- Azure Monitor metric alerts on the DR database and the backup storage, to an action group
  that e-mails the configured receivers and, given ``alert_path``, to the environment's one
  alert path as well (routed by each alert's team and severity), so the on-call sees them in
  the same stream as the CloudWatch alarms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.log_analytics_workspace_table import LogAnalyticsWorkspaceTable
from cdktf_cdktf_provider_azurerm.management_lock import ManagementLock
from cdktf_cdktf_provider_azurerm.monitor_action_group import MonitorActionGroup, MonitorActionGroupEmailReceiver
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
)
from cdktf_cdktf_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertCriteria,
)
from cdktf_cdktf_provider_azurerm.security_center_subscription_pricing import SecurityCenterSubscriptionPricing
from constructs import Construct

from iworkz.config.dr_azure import ACTIVITY_LOG_MAX_DAYS, ACTIVITY_LOG_MIN_DAYS, DEFENDER_PLANS
from iworkz_constructs.azure_alert_path import AzureAlertPath

# The activity log's categories (a subscription's diagnostic setting takes categories, not groups).
ACTIVITY_LOG_CATEGORIES = (
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
)
# Defender plans with a sub-plan: servers plan 2 (vulnerability assessment, file integrity),
# storage's per-account plan with malware scanning.
DEFENDER_SUBPLANS = {"VirtualMachines": "P2", "StorageAccounts": "DefenderForStorageV2"}
POSTGRES_METRICS = "Microsoft.DBforPostgreSQL/flexibleServers"
STORAGE_METRICS = "Microsoft.Storage/storageAccounts"


# Azure Monitor severities 0 (critical) and 1 (error) page; 2-4 (warning to verbose) do not.
PAGING_AZURE_SEVERITIES = (0, 1)


@dataclass(frozen=True)
class MetricAlert:
    """One metric alert: the metric, its aggregation over 5 minutes, the comparison and threshold,
    and the team whose receiver it reaches on the alert path."""

    name: str
    description: str
    namespace: str
    metric: str
    aggregation: str
    operator: str
    threshold: float
    severity: int = 1
    team: str = "database"

    @property
    def path_severity(self) -> str:
        """The alert path's severity (the receivers' routing) of the Azure severity."""
        return "critical" if self.severity in PAGING_AZURE_SEVERITIES else "warning"


# The DR database: down, out of CPU or of storage; the backup storage: not available.
POSTGRES_ALERTS = (
    MetricAlert("pg-down", "DR PostgreSQL is not alive", POSTGRES_METRICS, "is_db_alive", "Minimum", "LessThan", 1, 0),
    MetricAlert("pg-cpu", "DR PostgreSQL CPU above 80%", POSTGRES_METRICS, "cpu_percent", "Average", "GreaterThan", 80),
    MetricAlert(
        "pg-storage",
        "DR PostgreSQL storage above 80%",
        POSTGRES_METRICS,
        "storage_percent",
        "Maximum",
        "GreaterThan",
        80,
    ),
)
STORAGE_ALERTS = (
    MetricAlert(
        "storage-availability",
        "DR backup storage availability below 99.9%",
        STORAGE_METRICS,
        "Availability",
        "Average",
        "LessThan",
        99.9,
        team="infrastructure",
    ),
)


@dataclass(frozen=True)
class AzureSiteProtectionProps:
    """Properties of :class:`AzureSiteProtection`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of the locks, alerts and the action group | required |
    | resource_group_name / location | where the alerts and the action group live | required |
    | subscription_id | the subscription whose activity log is exported (token) | required |
    | workspace_id | the Log Analytics workspace receiving the activity log | required |
    | locked | resource IDs by name: each gets a CanNotDelete lock | required |
    | postgres_id / storage_account_id | the resources the alerts watch | required |
    | alert_emails | the action group's e-mail receivers | required |
    | alert_path | the environment's alert path: every alert notifies it too | none |
    | defender_plans | Defender for Cloud plans (pricing resource types) | every plan of the site |
    | activity_log_total_retention_days | total retention of the AzureActivity table | 2556 |
    | tags | tags of the alerts and the action group | none |
    """

    name: str
    resource_group_name: str
    location: str
    subscription_id: str
    workspace_id: str
    locked: Mapping[str, str]
    postgres_id: str
    storage_account_id: str
    alert_emails: Sequence[str]
    alert_path: AzureAlertPath | None = None
    defender_plans: Sequence[str] = DEFENDER_PLANS
    activity_log_total_retention_days: int = 2556
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.alert_emails:
            raise ValueError(f"{self.name}: the alerts need at least one e-mail receiver")
        if not ACTIVITY_LOG_MIN_DAYS <= self.activity_log_total_retention_days <= ACTIVITY_LOG_MAX_DAYS:
            raise ValueError(
                f"{self.name}: the activity log is kept {ACTIVITY_LOG_MIN_DAYS}-{ACTIVITY_LOG_MAX_DAYS} days"
            )
        unknown = [plan for plan in self.defender_plans if plan not in DEFENDER_PLANS]
        if unknown:
            raise ValueError(f"{self.name}: unknown Defender plans {unknown}")


class AzureSiteProtection(Construct):
    """Attributes: ``action_group_id``."""

    def __init__(self, scope: Construct, id: str, props: AzureSiteProtectionProps) -> None:
        super().__init__(scope, id)
        for name, resource_id in props.locked.items():
            ManagementLock(
                self,
                f"lock-{name}",
                name=f"{props.name}-{name}-cannot-delete",
                scope=resource_id,
                lock_level="CanNotDelete",
                notes="Holds DR data or audit evidence: remove the lock deliberately before deleting",
            )
        for plan in props.defender_plans:
            SecurityCenterSubscriptionPricing(
                self,
                f"defender-{plan.lower()}",
                tier="Standard",
                resource_type=plan,
                subplan=DEFENDER_SUBPLANS.get(plan),
            )
        MonitorDiagnosticSetting(
            self,
            "activity-log",
            name=f"{props.name}-activity-log",
            target_resource_id=f"/subscriptions/{props.subscription_id}",
            log_analytics_workspace_id=props.workspace_id,
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category=c) for c in ACTIVITY_LOG_CATEGORIES],
        )
        LogAnalyticsWorkspaceTable(
            self,
            "activity-log-table",
            name="AzureActivity",
            workspace_id=props.workspace_id,
            total_retention_in_days=props.activity_log_total_retention_days,
        )
        action_group = MonitorActionGroup(
            self,
            "action-group",
            name=f"{props.name}-critical",
            resource_group_name=props.resource_group_name,
            short_name="iworkz-dr",
            email_receiver=[
                MonitorActionGroupEmailReceiver(
                    name=f"receiver-{index}", email_address=email, use_common_alert_schema=True
                )
                for index, email in enumerate(props.alert_emails)
            ],
            tags=dict(props.tags),
        )
        self.action_group_id = action_group.id
        for scope_id, alerts in ((props.postgres_id, POSTGRES_ALERTS), (props.storage_account_id, STORAGE_ALERTS)):
            for alert in alerts:
                MonitorMetricAlert(
                    self,
                    f"alert-{alert.name}",
                    name=f"{props.name}-{alert.name}",
                    resource_group_name=props.resource_group_name,
                    scopes=[scope_id],
                    description=alert.description,
                    severity=alert.severity,
                    frequency="PT1M",
                    window_size="PT5M",
                    criteria=[
                        MonitorMetricAlertCriteria(
                            metric_namespace=alert.namespace,
                            metric_name=alert.metric,
                            aggregation=alert.aggregation,
                            operator=alert.operator,
                            threshold=alert.threshold,
                        )
                    ],
                    action=[
                        MonitorMetricAlertAction(action_group_id=action_group.id),
                        *([props.alert_path.action(alert.team, alert.path_severity)] if props.alert_path else []),
                    ],
                    tags=dict(props.tags),
                )
