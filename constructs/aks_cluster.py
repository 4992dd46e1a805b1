"""An AKS cluster locked down by default: Entra ID + Azure RBAC, no local accounts, CNI overlay, policy, logs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.disk_encryption_set import DiskEncryptionSet, DiskEncryptionSetIdentity
from cdktf_cdktf_provider_azurerm.kubernetes_cluster import (
    KubernetesCluster,
    KubernetesClusterApiServerAccessProfile,
    KubernetesClusterAzureActiveDirectoryRoleBasedAccessControl,
    KubernetesClusterDefaultNodePool,
    KubernetesClusterDefaultNodePoolUpgradeSettings,
    KubernetesClusterIdentity,
    KubernetesClusterKeyVaultSecretsProvider,
    KubernetesClusterMaintenanceWindowAutoUpgrade,
    KubernetesClusterMaintenanceWindowNodeOs,
    KubernetesClusterNetworkProfile,
    KubernetesClusterOmsAgent,
    KubernetesClusterWorkloadAutoscalerProfile,
)
from cdktf_cdktf_provider_azurerm.kubernetes_cluster_node_pool import (
    KubernetesClusterNodePool,
    KubernetesClusterNodePoolUpgradeSettings,
)
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from iworkz_constructs.azure_key_vault import ENCRYPTION_USER_ROLE

ZONES = ("1", "2", "3")
# Control-plane logs sent to Log Analytics (audit first).
CONTROL_PLANE_LOGS = (
    "kube-audit-admin",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)
CLUSTER_ADMIN_ROLE = "Azure Kubernetes Service RBAC Cluster Admin"
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")


class PoolSize(Protocol):
    """What sizes a node pool (``dr_azure.aks_*_pool`` of the configuration)."""

    @property
    def vm_size(self) -> str: ...
    @property
    def min_count(self) -> int: ...
    @property
    def max_count(self) -> int: ...
    @property
    def max_pods(self) -> int: ...
    @property
    def os_disk_size_gb(self) -> int: ...


@dataclass(frozen=True)
class AksNodePoolSpec:
    """One node pool: autoscaled between ``min_count`` and ``max_count`` over ``zones``.

    | name | meaning | default |
    |---|---|---|
    | name | pool name (lowercase letters and digits, at most 12) | required |
    | vm_size | VM size, e.g. ``Standard_D4ds_v5`` (needs a cache/temp disk for ephemeral OS disks) | required |
    | min_count / max_count | autoscaling bounds | required |
    | max_pods | pods per node | 110 |
    | os_disk_size_gb | OS disk size (fits the VM's temp disk when ephemeral) | 128 |
    | zones | availability zones | 1, 2, 3 |
    | labels | node labels | none |
    | taints | node taints (``key=value:Effect``) | none |
    """

    name: str
    vm_size: str
    min_count: int
    max_count: int
    max_pods: int = 110
    os_disk_size_gb: int = 128
    zones: Sequence[str] = ZONES
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[str] = ()

    @classmethod
    def sized(cls, name: str, size: PoolSize, labels: Mapping[str, str]) -> AksNodePoolSpec:
        """A pool of ``name`` at ``size`` (a node pool section of the configuration)."""
        return cls(
            name=name,
            vm_size=size.vm_size,
            min_count=size.min_count,
            max_count=size.max_count,
            max_pods=size.max_pods,
            os_disk_size_gb=size.os_disk_size_gb,
            labels=labels,
        )

    def __post_init__(self) -> None:
        if not _POOL_NAME.match(self.name):
            raise ValueError(f"node pool name {self.name!r}: 1-12 lowercase letters and digits, starting with a letter")
        if not 0 <= self.min_count <= self.max_count:
            raise ValueError(
                f"node pool {self.name}: need 0 <= min_count <= max_count, got {self.min_count}..{self.max_count}"
            )
        if self.max_pods < 50:
            raise ValueError(f"node pool {self.name}: max_pods {self.max_pods} is below 50")


@dataclass(frozen=True)
class AksClusterProps:
    """Properties of :class:`AksCluster`.

    | name | meaning | default |
    |---|---|---|
    | name | cluster name | required |
    | resource_group_name | the cluster's resource group | required |
    | location | Azure region | required |
    | kubernetes_version | minor (``1.34``) or patch version | required |
    | node_subnet_id | VNet subnet of the nodes (the cluster identity gets Network Contributor on it) | required |
    | tenant_id | Microsoft Entra tenant for Azure RBAC | required |
    | log_analytics_workspace_id | Container Insights and control-plane logs | required |
    | system_pool | the system pool (only critical add-ons), min_count >= 1 | required |
    | user_pool | a user pool for workloads | none |
    | authorized_ip_ranges | API server allow-list; required unless private_cluster | none |
    | private_cluster | API server on a private endpoint only | False |
    | admin_group_object_ids | Entra groups made cluster admins (Azure RBAC role assignment) | none |
    | network_policy | ``cilium`` (with the Cilium data plane) or ``azure`` | cilium |
    | pod_cidr / service_cidr | overlay pod range and service range (not routed; keep them off routed ranges) | required |
    | automatic_upgrade_channel | ``patch`` or ``stable`` | patch |
    | node_os_upgrade_channel | ``NodeImage`` or ``SecurityPatch`` | NodeImage |
    | sku_tier | ``Standard`` (uptime SLA) or ``Premium`` | Standard |
    | host_encryption | encrypt temp/cache disks on the host (subscription feature EncryptionAtHost) | True |
    | disk_encryption_key_id | versionless Key Vault key ID: node and volume disks use it (disk encryption set) | required unless opted out |
    | disk_encryption_key_vault_id | the Key Vault of that key (the disk encryption set gets access to it) | with the key |
    | platform_key_reason | opt-out of the customer-managed disk key, with the reason | none |
    | node_resource_group | name of the AKS-managed node resource group | ``<name>-nodes`` |
    | tags | tags | none |
    """

    name: str
    resource_group_name: str
    location: str
    kubernetes_version: str
    node_subnet_id: str
    tenant_id: str
    log_analytics_workspace_id: str
    system_pool: AksNodePoolSpec
    pod_cidr: str
    service_cidr: str
    user_pool: AksNodePoolSpec | None = None
    authorized_ip_ranges: Sequence[str] = ()
    private_cluster: bool = False
    admin_group_object_ids: Sequence[str] = ()
    network_policy: Literal["cilium", "azure"] = "cilium"
    automatic_upgrade_channel: Literal["patch", "stable"] = "patch"
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch"] = "NodeImage"
    sku_tier: Literal["Standard", "Premium"] = "Standard"
    host_encryption: bool = True
    disk_encryption_key_id: str | None = None
    disk_encryption_key_vault_id: str | None = None
    platform_key_reason: str | None = None
    node_resource_group: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.private_cluster and not self.authorized_ip_ranges:
            raise ValueError(f"AKS {self.name}: a public API server needs authorized_ip_ranges (or private_cluster)")
        if any(cidr.endswith("/0") for cidr in self.authorized_ip_ranges):
            raise ValueError(f"AKS {self.name}: authorized_ip_ranges must not contain /0")
        if self.system_pool.min_count < 1:
            raise ValueError(f"AKS {self.name}: the system pool needs min_count >= 1")
        if (self.disk_encryption_key_id is None) == (self.platform_key_reason is None):
            raise ValueError(f"AKS {self.name}: give disk_encryption_key_id, or platform_key_reason to opt out")
        if (self.disk_encryption_key_id is None) != (self.disk_encryption_key_vault_id is None):
            raise ValueError(f"AKS {self.name}: disk_encryption_key_id needs disk_encryption_key_vault_id")
        if self.user_pool is not None and self.user_pool.name == self.system_pool.name:
            raise ValueError(f"AKS {self.name}: the user pool needs a name other than {self.system_pool.name!r}")


class AksCluster(Construct):
    """AKS with a user-assigned identity, Entra ID + Azure RBAC, no local accounts, Azure CNI overlay.

    Attributes: ``cluster``, ``cluster_id``, ``cluster_name``, ``identity_principal_id``,
    ``kubelet_identity_object_id``, ``oidc_issuer_url``, ``host``, ``cluster_ca_certificate``, ``user_pool`` (or None).
    """

    def __init__(self, scope: Construct, id: str, props: AksClusterProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        identity = UserAssignedIdentity(
            self,
            "identity",
            name=f"{props.name}-identity",
            resource_group_name=props.resource_group_name,
            location=props.location,
            tags=tags,
        )
        # With its own subnet, the cluster identity joins nodes and load balancers to it.
        subnet_access = RoleAssignment(
            self,
            "identity-network-contributor",
            scope=props.node_subnet_id,
            role_definition_name="Network Contributor",
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
        )
        prerequisites = [subnet_access]
        disk_encryption_set_id = None
        if props.disk_encryption_key_id is not None and props.disk_encryption_key_vault_id is not None:
            disk_encryption = DiskEncryptionSet(
                self,
                "disk-encryption",
                name=f"{props.name}-des",
                resource_group_name=props.resource_group_name,
                location=props.location,
                key_vault_key_id=props.disk_encryption_key_id,
                auto_key_rotation_enabled=True,
                identity=DiskEncryptionSetIdentity(type="SystemAssigned"),
                tags=tags,
            )
            disk_encryption_set_id = disk_encryption.id
            prerequisites.append(
                RoleAssignment(
                    self,
                    "disk-encryption-key-user",
                    scope=props.disk_encryption_key_vault_id,
                    role_definition_name=ENCRYPTION_USER_ROLE,
                    principal_id=disk_encryption.identity.principal_id,
                    principal_type="ServicePrincipal",
                )
            )
            # The cluster identity reads the disk encryption set when it creates node disks.
            prerequisites.append(
                RoleAssignment(
                    self,
                    "identity-disk-encryption-reader",
                    scope=disk_encryption.id,
                    role_definition_name="Reader",
                    principal_id=identity.principal_id,
                    principal_type="ServicePrincipal",
                )
            )
        system = props.system_pool
        # Early Sunday mornings in Korea (02:00 and 06:00 KST), four hours each.
        window: dict[str, Any] = {
            "frequency": "Weekly",
            "interval": 1,
            "duration": 4,
            "day_of_week": "Sunday",
            "utc_offset": "+09:00",
        }
        self.cluster = KubernetesCluster(
            self,
            "cluster",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            dns_prefix=props.name,
            kubernetes_version=props.kubernetes_version,
            sku_tier=props.sku_tier,
            disk_encryption_set_id=disk_encryption_set_id,
            node_resource_group=props.node_resource_group or f"{props.name}-nodes",
            identity=KubernetesClusterIdentity(type="UserAssigned", identity_ids=[identity.id]),
            azure_active_directory_role_based_access_control=(
                KubernetesClusterAzureActiveDirectoryRoleBasedAccessControl(
                    azure_rbac_enabled=True,
                    tenant_id=props.tenant_id,
                    admin_group_object_ids=list(props.admin_group_object_ids) or None,
                )
            ),
            role_based_access_control_enabled=True,
            local_account_disabled=True,
            oidc_issuer_enabled=True,
            workload_identity_enabled=True,
            private_cluster_enabled=props.private_cluster,
            private_cluster_public_fqdn_enabled=False if props.private_cluster else None,
            api_server_access_profile=(
                None
                if props.private_cluster
                else KubernetesClusterApiServerAccessProfile(authorized_ip_ranges=list(props.authorized_ip_ranges))
            ),
            network_profile=KubernetesClusterNetworkProfile(
                network_plugin="azure",
                network_plugin_mode="overlay",
                network_policy=props.network_policy,
                network_data_plane="cilium" if props.network_policy == "cilium" else "azure",
                pod_cidr=props.pod_cidr,
                service_cidr=props.service_cidr,
                dns_service_ip=_dns_service_ip(props.service_cidr),
                load_balancer_sku="standard",
                outbound_type="loadBalancer",
            ),
            default_node_pool=KubernetesClusterDefaultNodePool(
                name=system.name,
                vm_size=system.vm_size,
                vnet_subnet_id=props.node_subnet_id,
                zones=list(system.zones),
                auto_scaling_enabled=True,
                min_count=system.min_count,
                max_count=system.max_count,
                max_pods=system.max_pods,
                only_critical_addons_enabled=True,
                os_sku="AzureLinux",
                os_disk_type="Ephemeral",
                os_disk_size_gb=system.os_disk_size_gb,
                host_encryption_enabled=props.host_encryption,
                node_public_ip_enabled=False,
                node_labels=dict(system.labels) or None,
                temporary_name_for_rotation=f"{system.name[:8]}tmp",
                upgrade_settings=KubernetesClusterDefaultNodePoolUpgradeSettings(max_surge="33%"),
                tags=tags,
            ),
            oms_agent=KubernetesClusterOmsAgent(
                log_analytics_workspace_id=props.log_analytics_workspace_id,
                msi_auth_for_monitoring_enabled=True,
            ),
            azure_policy_enabled=True,
            key_vault_secrets_provider=KubernetesClusterKeyVaultSecretsProvider(
                secret_rotation_enabled=True,
                secret_rotation_interval="2m",
            ),
            workload_autoscaler_profile=KubernetesClusterWorkloadAutoscalerProfile(keda_enabled=True),
            image_cleaner_enabled=True,
            image_cleaner_interval_hours=48,
            run_command_enabled=False,
            automatic_upgrade_channel=props.automatic_upgrade_channel,
            node_os_upgrade_channel=props.node_os_upgrade_channel,
            maintenance_window_auto_upgrade=KubernetesClusterMaintenanceWindowAutoUpgrade(**window, start_time="02:00"),
            maintenance_window_node_os=KubernetesClusterMaintenanceWindowNodeOs(**window, start_time="06:00"),
            tags=tags,
            depends_on=prerequisites,
            # The autoscaler owns the node counts. kubernetes_version stays managed: a minor
            # version ("1.34") lets the upgrade channel apply patches without a diff.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["default_node_pool[0].node_count"]),
        )
        self.cluster_id = self.cluster.id
        self.cluster_name = self.cluster.name
        self.identity_principal_id = identity.principal_id
        self.kubelet_identity_object_id = self.cluster.kubelet_identity.object_id
        self.oidc_issuer_url = self.cluster.oidc_issuer_url
        # Entra-only (no local accounts): these locate the API server; a token is still needed.
        self.host = self.cluster.kube_config.get(0).host
        self.cluster_ca_certificate = self.cluster.kube_config.get(0).cluster_ca_certificate

        self.user_pool: KubernetesClusterNodePool | None = None
        if props.user_pool is not None:
            pool = props.user_pool
            self.user_pool = KubernetesClusterNodePool(
                self,
                "user-pool",
                name=pool.name,
                kubernetes_cluster_id=self.cluster.id,
                mode="User",
                vm_size=pool.vm_size,
                vnet_subnet_id=props.node_subnet_id,
                zones=list(pool.zones),
                auto_scaling_enabled=True,
                min_count=pool.min_count,
                max_count=pool.max_count,
                max_pods=pool.max_pods,
                os_sku="AzureLinux",
                os_disk_type="Ephemeral",
                os_disk_size_gb=pool.os_disk_size_gb,
                host_encryption_enabled=props.host_encryption,
                node_public_ip_enabled=False,
                node_labels=dict(pool.labels) or None,
                node_taints=list(pool.taints) or None,
                temporary_name_for_rotation=f"{pool.name[:8]}tmp",
                upgrade_settings=KubernetesClusterNodePoolUpgradeSettings(max_surge="33%"),
                tags=tags,
                lifecycle=TerraformResourceLifecycle(ignore_changes=["node_count", "orchestrator_version"]),
            )

        for index, group in enumerate(props.admin_group_object_ids):
            RoleAssignment(
                self,
                f"admin-{index}",
                scope=self.cluster.id,
                role_definition_name=CLUSTER_ADMIN_ROLE,
                principal_id=group,
                principal_type="Group",
            )

        MonitorDiagnosticSetting(
            self,
            "diagnostics",
            name=f"{props.name}-to-log-analytics",
            target_resource_id=self.cluster.id,
            log_analytics_workspace_id=props.log_analytics_workspace_id,
            log_analytics_destination_type="Dedicated",
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category=category) for category in CONTROL_PLANE_LOGS],
            enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
        )


def _dns_service_ip(service_cidr: str) -> str:
    """The cluster DNS service address: the 10th address of the service range (AKS convention)."""
    return str(ipaddress.ip_network(service_cidr)[10])
