"""Azure Database for PostgreSQL flexible server: private, zone-redundant, geo-backed-up, Entra ID only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server import (
    PostgresqlFlexibleServer,
    PostgresqlFlexibleServerAuthentication,
    PostgresqlFlexibleServerHighAvailability,
    PostgresqlFlexibleServerMaintenanceWindow,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server_active_directory_administrator import (
    PostgresqlFlexibleServerActiveDirectoryAdministrator,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server_configuration import (
    PostgresqlFlexibleServerConfiguration,
)
from constructs import Construct

from iworkz_constructs.azure_private_link import linked_private_dns_zone

SUPPORTED_VERSIONS = ("16",)
MIN_BACKUP_RETENTION_DAYS = 7
# A VNet-integrated (delegated subnet) flexible server needs a private DNS zone whose name ends
# in postgres.database.azure.com; Microsoft's current guidance is "<name>.private.postgres...":
# "privatelink.postgres.database.azure.com" is the zone of Private Link endpoints, not of
# delegated-subnet servers, and must not be reused for them.
PRIVATE_DNS_SUFFIX = "private.postgres.database.azure.com"


@dataclass(frozen=True)
class LogicalReplication:
    """Server settings for a logical-replication subscriber (and a publisher on failback).

    | name | meaning | default |
    |---|---|---|
    | max_replication_slots | replication slots (publisher side on failback) | 10 |
    | max_wal_senders | WAL sender processes | 10 |
    | max_worker_processes | background workers in total | 16 |
    | max_logical_replication_workers | apply + table-sync workers (subscriber side) | 8 |
    | max_sync_workers_per_subscription | parallel initial table copies per subscription | 4 |
    """

    max_replication_slots: int = 10
    max_wal_senders: int = 10
    max_worker_processes: int = 16
    max_logical_replication_workers: int = 8
    max_sync_workers_per_subscription: int = 4

    def __post_init__(self) -> None:
        if self.max_logical_replication_workers >= self.max_worker_processes:
            raise ValueError("max_logical_replication_workers must be below max_worker_processes")
        if self.max_sync_workers_per_subscription > self.max_logical_replication_workers:
            raise ValueError("max_sync_workers_per_subscription must not exceed max_logical_replication_workers")


@dataclass(frozen=True)
class PostgresAdmin:
    """The Microsoft Entra principal administering the server (no password exists)."""

    object_id: str
    principal_name: str
    principal_type: Literal["Group", "User", "ServicePrincipal"] = "Group"


@dataclass(frozen=True)
class AzurePostgresProps:
    """Properties of :class:`AzurePostgres`.

    | name | meaning | default |
    |---|---|---|
    | name | server name (globally unique DNS label) | required |
    | resource_group_name | resource group | required |
    | location | Azure region | required |
    | delegated_subnet_id | subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers | required |
    | virtual_network_id | VNet the private DNS zone is linked to | required |
    | tenant_id | Microsoft Entra tenant | required |
    | admin | Entra administrator (password authentication is off) | required |
    | version | PostgreSQL major version | 16 |
    | sku_name | compute SKU (GP_/MO_ for high availability) | GP_Standard_D4ds_v5 |
    | storage_mb | storage size (grows automatically) | 131072 |
    | zone_redundant | zone-redundant HA (primary zone 1, standby zone 2) | True |
    | backup_retention_days | point-in-time restore window, 7-35 | 14 |
    | geo_redundant_backup | copy backups to the paired region | True |
    | replication | logical-replication settings | LogicalReplication() |
    | log_analytics_workspace_id | diagnostic logs destination | none |
    | prevent_destroy | refuse to destroy the server in Terraform | True |
    | tags | tags | none |
    """

    name: str
    resource_group_name: str
    location: str
    delegated_subnet_id: str
    virtual_network_id: str
    tenant_id: str
    admin: PostgresAdmin
    version: str = "16"
    sku_name: str = "GP_Standard_D4ds_v5"
    storage_mb: int = 131072
    zone_redundant: bool = True
    backup_retention_days: int = 14
    geo_redundant_backup: bool = True
    replication: LogicalReplication = LogicalReplication()
    log_analytics_workspace_id: str | None = None
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.version not in SUPPORTED_VERSIONS:
            raise ValueError(f"PostgreSQL {self.name}: version {self.version!r} is not one of {SUPPORTED_VERSIONS}")
        if not MIN_BACKUP_RETENTION_DAYS <= self.backup_retention_days <= 35:
            raise ValueError(
                f"PostgreSQL {self.name}: backup_retention_days must be 7-35, got {self.backup_retention_days}"
            )
        if self.zone_redundant and self.sku_name.startswith("B_"):
            raise ValueError(f"PostgreSQL {self.name}: burstable SKUs do not support high availability")


class AzurePostgres(Construct):
    """Flexible server in a delegated subnet with its private DNS zone; TLS 1.2+, Entra ID authentication only.

    Attributes: ``server``, ``server_id``, ``server_name``, ``fqdn``, ``private_dns_zone_id``,
    ``private_dns_zone_name``.
    """

    def __init__(self, scope: Construct, id: str, props: AzurePostgresProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        self.private_dns_zone_name = f"{props.name}.{PRIVATE_DNS_SUFFIX}"
        zone, link = linked_private_dns_zone(
            self,
            zone_name=self.private_dns_zone_name,
            link_name=f"{props.name}-vnet",
            resource_group_name=props.resource_group_name,
            virtual_network_id=props.virtual_network_id,
            tags=tags,
        )
        self.server = PostgresqlFlexibleServer(
            self,
            "server",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            version=props.version,
            sku_name=props.sku_name,
            storage_mb=props.storage_mb,
            auto_grow_enabled=True,
            zone="1",
            high_availability=(
                PostgresqlFlexibleServerHighAvailability(mode="ZoneRedundant", standby_availability_zone="2")
                if props.zone_redundant
                else None
            ),
            backup_retention_days=props.backup_retention_days,
            geo_redundant_backup_enabled=props.geo_redundant_backup,
            delegated_subnet_id=props.delegated_subnet_id,
            private_dns_zone_id=zone.id,
            public_network_access_enabled=False,
            authentication=PostgresqlFlexibleServerAuthentication(
                active_directory_auth_enabled=True,
                password_auth_enabled=False,
                tenant_id=props.tenant_id,
            ),
            # 04:00 KST on Sundays.
            maintenance_window=PostgresqlFlexibleServerMaintenanceWindow(day_of_week=0, start_hour=19, start_minute=0),
            tags=tags,
            depends_on=[link],
            # After an HA failover the primary and standby zones swap: do not swap them back.
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=props.prevent_destroy,
                ignore_changes=["zone", "high_availability[0].standby_availability_zone"],
            ),
        )
        self.server_id = self.server.id
        self.server_name = self.server.name
        self.fqdn = self.server.fqdn
        self.private_dns_zone_id = zone.id

        PostgresqlFlexibleServerActiveDirectoryAdministrator(
            self,
            "entra-admin",
            server_name=self.server.name,
            resource_group_name=props.resource_group_name,
            tenant_id=props.tenant_id,
            object_id=props.admin.object_id,
            principal_name=props.admin.principal_name,
            principal_type=props.admin.principal_type,
        )

        replication = props.replication
        settings = {
            "require_secure_transport": "on",
            "ssl_min_protocol_version": "TLSv1.2",
            # Logical decoding: the server publishes changes back to RDS on failback.
            "wal_level": "logical",
            "max_replication_slots": str(replication.max_replication_slots),
            "max_wal_senders": str(replication.max_wal_senders),
            "max_worker_processes": str(replication.max_worker_processes),
            "max_logical_replication_workers": str(replication.max_logical_replication_workers),
            "max_sync_workers_per_subscription": str(replication.max_sync_workers_per_subscription),
            "log_connections": "on",
            "log_disconnections": "on",
            "log_checkpoints": "on",
            "connection_throttle.enable": "on",
        }
        previous: PostgresqlFlexibleServerConfiguration | None = None
        for name, value in settings.items():
            # One at a time: the server rejects concurrent configuration updates.
            previous = PostgresqlFlexibleServerConfiguration(
                self,
                f"config-{name.replace('_', '-').replace('.', '-')}",
                server_id=self.server.id,
                name=name,
                value=value,
                depends_on=[previous] if previous is not None else None,
            )

        if props.log_analytics_workspace_id is not None:
            MonitorDiagnosticSetting(
                self,
                "diagnostics",
                name=f"{props.name}-to-log-analytics",
                target_resource_id=self.server.id,
                log_analytics_workspace_id=props.log_analytics_workspace_id,
                enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="allLogs")],
                enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
            )
