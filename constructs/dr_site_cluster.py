"""The DR site's failover cluster: AKS with its OS disks under a rotating key of the site's Key
Vault, and the public address of its standby gateway (the Azure origin of the edge's failover pool).

A builder, not a construct: its resources belong to the caller's scope (ids ``aks-disk-key``,
``aks``, ``ingress-address``), so the addresses the dr-azure stack has had stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from iworkz_constructs.aks_cluster import AksCluster, AksClusterProps, AksNodePoolSpec
from iworkz_constructs.azure_ingress_address import AzureIngressAddress, AzureIngressAddressProps
from iworkz_constructs.azure_key_vault import AzureKeyVault, rotating_key

if TYPE_CHECKING:
    from iworkz.config.dr_azure import DrAzureConfig


@dataclass(frozen=True)
class SiteCluster:
    """What :func:`site_cluster` built."""

    aks: AksCluster
    ingress: AzureIngressAddress


def site_cluster(
    scope: Construct,
    *,
    name: str,
    config: DrAzureConfig,
    resource_group_name: str,
    tenant_id: str,
    node_subnet_id: str,
    key_vault: AzureKeyVault,
    log_analytics_workspace_id: str,
    tags: Mapping[str, str],
) -> SiteCluster:
    """``<name>-aks`` (a system pool and the failover pool) and ``<name>-ingress-ip``."""
    disk_key = rotating_key(
        scope,
        "aks-disk-key",
        name=f"{name}-aks-disks",
        key_vault_id=key_vault.vault_id,
        depends_on=key_vault.access,
        tags=tags,
    )
    aks = AksCluster(
        scope,
        "aks",
        AksClusterProps(
            name=f"{name}-aks",
            resource_group_name=resource_group_name,
            location=config.location,
            kubernetes_version=config.kubernetes_version,
            node_subnet_id=node_subnet_id,
            tenant_id=tenant_id,
            log_analytics_workspace_id=log_analytics_workspace_id,
            system_pool=AksNodePoolSpec.sized("system", config.aks_system_pool, {"NodeGroup": "system"}),
            user_pool=AksNodePoolSpec.sized("failover", config.aks_user_pool, {"NodeGroup": "general", "Site": "dr"}),
            pod_cidr=config.aks_pod_cidr,
            service_cidr=config.aks_service_cidr,
            authorized_ip_ranges=tuple(config.aks_authorized_ip_ranges),
            private_cluster=config.aks_private_cluster,
            admin_group_object_ids=tuple(config.aks_admin_group_object_ids),
            network_policy=config.aks_network_policy,
            automatic_upgrade_channel=config.aks_automatic_upgrade_channel,
            node_os_upgrade_channel=config.aks_node_os_upgrade_channel,
            sku_tier="Standard",
            disk_encryption_key_id=disk_key.versionless_id,
            disk_encryption_key_vault_id=key_vault.vault_id,
            tags=tags,
        ),
    )
    ingress = AzureIngressAddress(
        scope,
        "ingress-address",
        AzureIngressAddressProps(
            name=f"{name}-ingress-ip",
            resource_group_name=resource_group_name,
            location=config.location,
            domain_name_label=name,
            cluster_principal_id=aks.identity_principal_id,
            tags=tags,
        ),
    )
    return SiteCluster(aks, ingress)
