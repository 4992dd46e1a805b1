"""AzureBackupStorage: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz_constructs.azure_backup_storage import AzureBackupStorage, AzureBackupStorageProps
from tests.tf import new_app, one, resources, synth_stack

SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/pe"
VNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/dr-kv"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> AzureBackupStorageProps:
    values = {
        "account_name": "drbackup",
        "resource_group_name": "dr-rg",
        "location": "koreacentral",
        "paired_location": "koreasouth",
        "private_endpoint_subnet_id": SUBNET,
        "virtual_network_id": VNET,
        "key_vault_id": VAULT,
        **overrides,
    }
    return AzureBackupStorageProps(**values)


def test_defaults_geo_redundant_private_immutable_with_customer_key():
    stack = _stack()
    AzureBackupStorage(stack, "backup", _props())
    doc = synth_stack(stack)
    account = one(doc, "azurerm_storage_account")
    assert account["account_replication_type"] == "GZRS"
    assert account["min_tls_version"] == "TLS1_2"
    assert account["allow_nested_items_to_be_public"] is False
    assert account["shared_access_key_enabled"] is False
    assert account["public_network_access_enabled"] is False
    assert account["infrastructure_encryption_enabled"] is True
    assert account["local_user_enabled"] is False
    assert account["network_rules"] == {"default_action": "Deny", "bypass": ["AzureServices"]}
    blob = account["blob_properties"]
    assert blob["versioning_enabled"] is True and blob["change_feed_enabled"] is True
    assert blob["delete_retention_policy"]["days"] == 30
    assert blob["container_delete_retention_policy"]["days"] == 30
    assert account["lifecycle"]["prevent_destroy"] is True
    (postcondition,) = account["lifecycle"]["postcondition"]
    assert '"koreasouth"' in postcondition["condition"]
    key_id = next(iter(resources(doc, "azurerm_key_vault_key")))
    assert account["customer_managed_key"]["key_vault_key_id"] == f"${{azurerm_key_vault_key.{key_id}.versionless_id}}"
    assignment = one(doc, "azurerm_role_assignment")
    assert assignment["role_definition_name"] == "Key Vault Crypto Service Encryption User"
    assert assignment["scope"] == VAULT
    assert account["depends_on"] == [f"azurerm_role_assignment.{next(iter(resources(doc, 'azurerm_role_assignment')))}"]
    container = one(doc, "azurerm_storage_container")
    assert container["name"] == "backups" and container["container_access_type"] == "private"
    assert container["lifecycle"]["prevent_destroy"] is True
    policy = one(doc, "azurerm_storage_container_immutability_policy")
    assert policy["immutability_period_in_days"] == 30
    assert policy["locked"] is False
    endpoint = one(doc, "azurerm_private_endpoint")
    assert endpoint["private_service_connection"]["subresource_names"] == ["blob"]
    assert endpoint["subnet_id"] == SUBNET
    assert one(doc, "azurerm_private_dns_zone")["name"] == "privatelink.blob.core.windows.net"
    assert one(doc, "azurerm_private_dns_zone_virtual_network_link")["virtual_network_id"] == VNET


def test_all_options():
    stack = _stack()
    AzureBackupStorage(
        stack,
        "backup",
        _props(
            key_vault_id=None,
            microsoft_managed_key_reason="test account without a Key Vault",
            replication_type="RAGZRS",
            container_name="rds-exports",
            immutability_days=365,
            lock_immutability=True,
            soft_delete_days=90,
            log_analytics_workspace_id="workspace",
            prevent_destroy=False,
            tags={"Project": "iWORKZ"},
        ),
    )
    doc = synth_stack(stack)
    account = one(doc, "azurerm_storage_account")
    assert account["account_replication_type"] == "RAGZRS"
    assert "customer_managed_key" not in account
    assert resources(doc, "azurerm_key_vault_key") == {}
    assert account["blob_properties"]["delete_retention_policy"]["days"] == 90
    assert account["lifecycle"]["prevent_destroy"] is False
    assert account["tags"] == {"Project": "iWORKZ"}
    assert one(doc, "azurerm_storage_container")["name"] == "rds-exports"
    policy = one(doc, "azurerm_storage_container_immutability_policy")
    assert (policy["immutability_period_in_days"], policy["locked"]) == (365, True)
    diagnostics = one(doc, "azurerm_monitor_diagnostic_setting")
    assert diagnostics["target_resource_id"].endswith("/blobServices/default")


def test_fails_on_bad_account_name():
    with pytest.raises(ValueError, match="lowercase"):
        _props(account_name="DR-Backup")


def test_fails_without_key_or_opt_out():
    with pytest.raises(ValueError, match="microsoft_managed_key_reason"):
        _props(key_vault_id=None)


def test_fails_on_local_redundancy():
    with pytest.raises(ValueError, match="replication"):
        _props(replication_type="LRS")


def test_fails_on_short_soft_delete():
    with pytest.raises(ValueError, match="7-365"):
        _props(soft_delete_days=1)
