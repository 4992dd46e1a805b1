"""AksCluster: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz_constructs.aks_cluster import AksCluster, AksClusterProps, AksNodePoolSpec
from tests.tf import new_app, one, resources, synth_stack

SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/aks"
KEY = "https://dr-kv.vault.azure.net/keys/aks-disks"
VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/dr-kv"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> AksClusterProps:
    values = {
        "name": "dr-aks",
        "resource_group_name": "dr-rg",
        "location": "koreacentral",
        "kubernetes_version": "1.34",
        "node_subnet_id": SUBNET,
        "tenant_id": "tenant",
        "log_analytics_workspace_id": "workspace",
        "system_pool": AksNodePoolSpec(name="system", vm_size="Standard_D4ds_v5", min_count=3, max_count=6),
        "pod_cidr": "192.168.0.0/16",
        "service_cidr": "172.16.0.0/16",
        "authorized_ip_ranges": ("203.0.113.0/24",),
        "disk_encryption_key_id": KEY,
        "disk_encryption_key_vault_id": VAULT,
        **overrides,
    }
    return AksClusterProps(**values)


def test_defaults_lock_the_cluster_down():
    stack = _stack()
    AksCluster(stack, "aks", _props())
    doc = synth_stack(stack)
    cluster = one(doc, "azurerm_kubernetes_cluster")
    assert cluster["identity"]["type"] == "UserAssigned"
    assert cluster["azure_active_directory_role_based_access_control"]["azure_rbac_enabled"] is True
    assert cluster["azure_active_directory_role_based_access_control"]["tenant_id"] == "tenant"
    assert cluster["local_account_disabled"] is True
    assert cluster["private_cluster_enabled"] is False
    assert cluster["api_server_access_profile"] == {"authorized_ip_ranges": ["203.0.113.0/24"]}
    network = cluster["network_profile"]
    assert (network["network_plugin"], network["network_plugin_mode"], network["network_policy"]) == (
        "azure",
        "overlay",
        "cilium",
    )
    assert network["dns_service_ip"] == "172.16.0.10"
    pool = cluster["default_node_pool"]
    assert pool["zones"] == ["1", "2", "3"]
    assert pool["auto_scaling_enabled"] is True and pool["only_critical_addons_enabled"] is True
    assert pool["vnet_subnet_id"] == SUBNET
    assert pool["max_pods"] == 110
    assert cluster["oms_agent"] == {"log_analytics_workspace_id": "workspace", "msi_auth_for_monitoring_enabled": True}
    assert cluster["azure_policy_enabled"] is True
    assert cluster["key_vault_secrets_provider"]["secret_rotation_enabled"] is True
    assert cluster["automatic_upgrade_channel"] == "patch"
    assert cluster["node_os_upgrade_channel"] == "NodeImage"
    assert cluster["sku_tier"] == "Standard"
    assert cluster["kubernetes_version"] == "1.34"
    assert cluster["run_command_enabled"] is False
    # Node counts belong to the autoscaler; the Kubernetes version stays under Terraform.
    assert cluster["lifecycle"]["ignore_changes"] == ["default_node_pool[0].node_count"]
    assert one(doc, "azurerm_disk_encryption_set")["key_vault_key_id"] == KEY
    roles = {body["role_definition_name"]: body for body in resources(doc, "azurerm_role_assignment").values()}
    assert set(roles) == {"Network Contributor", "Key Vault Crypto Service Encryption User", "Reader"}
    assert roles["Network Contributor"]["scope"] == SUBNET
    assert roles["Key Vault Crypto Service Encryption User"]["scope"] == VAULT
    assert len(cluster["depends_on"]) == 3
    assert resources(doc, "azurerm_kubernetes_cluster_node_pool") == {}
    assert len(one(doc, "azurerm_monitor_diagnostic_setting")["enabled_log"]) >= 5


def test_all_options_private_azure_policy_user_pool_admins_platform_key():
    stack = _stack()
    aks = AksCluster(
        stack,
        "aks",
        _props(
            private_cluster=True,
            authorized_ip_ranges=(),
            network_policy="azure",
            automatic_upgrade_channel="stable",
            node_os_upgrade_channel="SecurityPatch",
            sku_tier="Premium",
            host_encryption=False,
            admin_group_object_ids=("group-1", "group-2"),
            user_pool=AksNodePoolSpec(
                name="failover",
                vm_size="Standard_D8ds_v5",
                min_count=0,
                max_count=20,
                labels={"Site": "dr"},
                taints=("dr=true:NoSchedule",),
            ),
            disk_encryption_key_id=None,
            disk_encryption_key_vault_id=None,
            platform_key_reason="test cluster without a Key Vault",
            node_resource_group="dr-aks-nodes-rg",
            tags={"Project": "iWORKZ"},
        ),
    )
    doc = synth_stack(stack)
    cluster = one(doc, "azurerm_kubernetes_cluster")
    assert cluster["private_cluster_enabled"] is True
    assert "api_server_access_profile" not in cluster
    assert cluster["network_profile"]["network_policy"] == "azure"
    assert cluster["network_profile"]["network_data_plane"] == "azure"
    assert cluster["automatic_upgrade_channel"] == "stable"
    assert cluster["node_os_upgrade_channel"] == "SecurityPatch"
    assert cluster["sku_tier"] == "Premium"
    assert cluster["default_node_pool"]["host_encryption_enabled"] is False
    assert cluster["node_resource_group"] == "dr-aks-nodes-rg"
    assert "disk_encryption_set_id" not in cluster
    assert resources(doc, "azurerm_disk_encryption_set") == {}
    assert cluster["azure_active_directory_role_based_access_control"]["admin_group_object_ids"] == [
        "group-1",
        "group-2",
    ]
    admins = [b for b in resources(doc, "azurerm_role_assignment").values() if b["principal_type"] == "Group"]
    assert sorted(b["principal_id"] for b in admins) == ["group-1", "group-2"]
    assert {b["role_definition_name"] for b in admins} == {"Azure Kubernetes Service RBAC Cluster Admin"}
    pool = one(doc, "azurerm_kubernetes_cluster_node_pool")
    assert (pool["mode"], pool["min_count"], pool["max_count"]) == ("User", 0, 20)
    assert pool["node_labels"] == {"Site": "dr"} and pool["node_taints"] == ["dr=true:NoSchedule"]
    assert aks.user_pool is not None
    assert cluster["tags"] == {"Project": "iWORKZ"}


def test_fails_on_public_api_without_allow_list():
    with pytest.raises(ValueError, match="authorized_ip_ranges"):
        _props(authorized_ip_ranges=())


def test_fails_on_api_open_to_the_internet():
    with pytest.raises(ValueError, match="/0"):
        _props(authorized_ip_ranges=("0.0.0.0/0",))


def test_fails_on_system_pool_that_scales_to_zero():
    with pytest.raises(ValueError, match="min_count >= 1"):
        _props(system_pool=AksNodePoolSpec(name="system", vm_size="Standard_D4ds_v5", min_count=0, max_count=3))


def test_fails_without_disk_key_or_opt_out():
    with pytest.raises(ValueError, match="platform_key_reason"):
        _props(disk_encryption_key_id=None, disk_encryption_key_vault_id=None)


def test_fails_on_bad_pools():
    with pytest.raises(ValueError, match="min_count <= max_count"):
        AksNodePoolSpec(name="pool", vm_size="Standard_D4ds_v5", min_count=5, max_count=2)
    with pytest.raises(ValueError, match="lowercase"):
        AksNodePoolSpec(name="Failover-Pool", vm_size="Standard_D4ds_v5", min_count=0, max_count=2)
    with pytest.raises(ValueError, match="below 50"):
        AksNodePoolSpec(name="pool", vm_size="Standard_D4ds_v5", min_count=0, max_count=2, max_pods=30)
    with pytest.raises(ValueError, match="other than"):
        _props(user_pool=AksNodePoolSpec(name="system", vm_size="Standard_D4ds_v5", min_count=0, max_count=2))
