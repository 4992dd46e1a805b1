"""The DR site's data services: the PostgreSQL flexible server that subscribes to the RDS primary
(Entra ID administrator, password login only for the standby application's role) and the
standby application's cache (empty after a failover: nothing in it must survive).

A builder, not a construct: its resources belong to the caller's scope (ids ``postgres``,
``redis`` and the administrator's), so the addresses the dr-azure stack has had stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from iworkz_constructs.azure_postgres import AzurePostgres, AzurePostgresProps, entra_admin
from iworkz_constructs.azure_redis import AzureRedis, AzureRedisProps
from iworkz_constructs.azure_vnet import AzureVnet

if TYPE_CHECKING:
    from iworkz.config.dr_azure import DrAzureConfig

# The administrator login of password authentication (its password is never known).
PASSWORD_ADMIN_LOGIN = "iworkz_password_admin"


@dataclass(frozen=True)
class SiteData:
    """What :func:`site_data` built."""

    postgres: AzurePostgres
    redis: AzureRedis


def site_data(
    scope: Construct,
    *,
    name: str,
    config: DrAzureConfig,
    resource_group_name: str,
    tenant_id: str,
    vnet: AzureVnet,
    log_analytics_workspace_id: str,
    tags: Mapping[str, str],
) -> SiteData:
    """``<name>-pg`` in the VNet's delegated subnet and ``<name>-redis`` behind a private endpoint."""
    postgres = AzurePostgres(
        scope,
        "postgres",
        AzurePostgresProps(
            name=f"{name}-pg",
            resource_group_name=resource_group_name,
            location=config.location,
            delegated_subnet_id=vnet.postgres_subnet_id,
            virtual_network_id=vnet.vnet_id,
            tenant_id=tenant_id,
            admin=entra_admin(
                scope,
                config.postgres_admin,
                name=f"{name}-pg-admin",
                resource_group_name=resource_group_name,
                location=config.location,
                tags=tags,
            ),
            # The standby application signs in with its role's password (the replication Job sets it).
            password_login=PASSWORD_ADMIN_LOGIN,
            sku_name=config.postgres_sku_name,
            storage_mb=config.postgres_storage_mb,
            zone_redundant=config.postgres_zone_redundant,
            backup_retention_days=config.postgres_backup_retention_days,
            geo_redundant_backup=True,
            log_analytics_workspace_id=log_analytics_workspace_id,
            tags=tags,
        ),
    )
    redis = AzureRedis(
        scope,
        "redis",
        AzureRedisProps(
            name=f"{name}-redis",
            resource_group_name=resource_group_name,
            location=config.location,
            private_endpoint_subnet_id=vnet.private_endpoints_subnet_id,
            virtual_network_id=vnet.vnet_id,
            sku_name=config.cache_sku_name,
            capacity=config.cache_capacity,
            tags=tags,
        ),
    )
    return SiteData(postgres, redis)
