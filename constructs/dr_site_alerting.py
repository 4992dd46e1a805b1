"""The DR site's alerting: the alert path to the environment's receivers, the site's protection
(locks, Defender, activity log, the database and storage alerts) and the subscriber's
replication-error alert, wired to each other.

A builder, not a construct: its resources belong to the caller's scope (ids ``alert-path``,
``protection``, ``subscriber-alert``), so the addresses the dr-azure stack has had stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from iworkz_constructs.azure_alert_path import AzureAlertPath, AzureAlertPathProps, alert_action
from iworkz_constructs.azure_site_protection import AzureSiteProtection, AzureSiteProtectionProps
from iworkz_constructs.subscriber_alert import SubscriberAlert, SubscriberAlertProps

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from iworkz.config.dr_azure import DrAzureConfig
    from iworkz.contracts import AlertsOutputs


@dataclass(frozen=True)
class SiteAlerting:
    """What :func:`site_alerting` built."""

    alert_path: AzureAlertPath
    protection: AzureSiteProtection
    subscriber_alert: SubscriberAlert


def site_alerting(
    scope: Construct,
    *,
    name: str,
    resource_group_name: str,
    tenant_id: str,
    subscription_id: str,
    workspace_id: str,
    locked: Mapping[str, str],
    alerts: AlertsOutputs,
    config: DrAzureConfig,
    tags: Mapping[str, str],
    aws_provider: AwsProvider,
) -> SiteAlerting:
    """The alert path first (every alert of the site notifies it), then what alerts on it.

    ``locked``: resource ids under a delete lock; its ``postgres`` and ``backup-storage`` entries
    are also the resources the protection's alerts watch.
    """
    alert_path = AzureAlertPath(
        scope,
        "alert-path",
        AzureAlertPathProps(
            name=name,
            resource_group_name=resource_group_name,
            tenant_id=tenant_id,
            forwarder_function_name=alerts.forwarder_function_name,
            forwarder_invoke_arn=alerts.forwarder_invoke_arn,
            teams=alerts.teams,
            kms_key_arn=alerts.kms_key_arn,
            tags=tags,
            aws_provider=aws_provider,
        ),
    )
    protection = AzureSiteProtection(
        scope,
        "protection",
        AzureSiteProtectionProps(
            name=name,
            resource_group_name=resource_group_name,
            location=config.location,
            subscription_id=subscription_id,
            workspace_id=workspace_id,
            locked=locked,
            postgres_id=locked["postgres"],
            storage_account_id=locked["backup-storage"],
            alert_emails=tuple(config.alert_emails),
            alert_path=alert_path,
            defender_plans=tuple(config.defender_plans),
            activity_log_total_retention_days=config.activity_log_total_retention_days,
            tags=tags,
        ),
    )
    route = alert_action(alert_path.action_group_id, alerts.teams, "database", "critical")
    subscriber_alert = SubscriberAlert(
        scope,
        "subscriber-alert",
        SubscriberAlertProps(
            name=f"{name}-replication-errors",
            resource_group_name=resource_group_name,
            location=config.location,
            workspace_id=workspace_id,
            action_group_ids=(protection.action_group_id, route["action_group_id"]),
            custom_properties=route["webhook_properties"],
            window_minutes=config.recovery.database_rpo_minutes,
            tags=tags,
        ),
    )
    return SiteAlerting(alert_path, protection, subscriber_alert)
