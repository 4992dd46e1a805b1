"""AzureKeyVault and rotating_key: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz_constructs.azure_key_vault import AzureKeyVault, AzureKeyVaultProps, rotating_key
from tests.tf import new_app, one, resources, synth_stack

SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/pe"
VNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> AzureKeyVaultProps:
    values = {
        "name": "dr-kv",
        "resource_group_name": "dr-rg",
        "location": "koreacentral",
        "tenant_id": "tenant",
        "private_endpoint_subnet_id": SUBNET,
        "virtual_network_id": VNET,
        **overrides,
    }
    return AzureKeyVaultProps(**values)


def test_defaults_are_private_purge_protected_and_rbac():
    stack = _stack()
    AzureKeyVault(stack, "kv", _props())
    doc = synth_stack(stack)
    vault = one(doc, "azurerm_key_vault")
    assert vault["purge_protection_enabled"] is True
    assert vault["rbac_authorization_enabled"] is True
    assert vault["soft_delete_retention_days"] == 90
    assert vault["sku_name"] == "premium"
    assert vault["public_network_access_enabled"] is False
    assert vault["network_acls"] == {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": []}
    assert vault["lifecycle"]["prevent_destroy"] is True
    endpoint = one(doc, "azurerm_private_endpoint")
    assert endpoint["private_service_connection"]["subresource_names"] == ["vault"]
    assert endpoint["subnet_id"] == SUBNET
    assert one(doc, "azurerm_private_dns_zone")["name"] == "privatelink.vaultcore.azure.net"
    assert one(doc, "azurerm_private_dns_zone_virtual_network_link")["virtual_network_id"] == VNET
    assert resources(doc, "azurerm_role_assignment") == {}
    assert resources(doc, "azurerm_monitor_diagnostic_setting") == {}


def test_all_options_firewall_officers_logs_and_a_rotating_key():
    stack = _stack()
    vault = AzureKeyVault(
        stack,
        "kv",
        _props(
            allowed_ip_ranges=("203.0.113.0/24",),
            crypto_officer_principal_ids=("principal-1",),
            soft_delete_retention_days=30,
            log_analytics_workspace_id="workspace",
            prevent_destroy=False,
            tags={"Project": "iWORKZ"},
        ),
    )
    rotating_key(stack, "key", name="cmk", key_vault_id=vault.vault_id, depends_on=vault.access)
    doc = synth_stack(stack)
    body = one(doc, "azurerm_key_vault")
    assert body["public_network_access_enabled"] is True
    assert body["network_acls"]["ip_rules"] == ["203.0.113.0/24"]
    assert body["soft_delete_retention_days"] == 30
    assert body["tags"] == {"Project": "iWORKZ"}
    assignment = one(doc, "azurerm_role_assignment")
    assert (assignment["role_definition_name"], assignment["principal_id"]) == (
        "Key Vault Crypto Officer",
        "principal-1",
    )
    assert one(doc, "azurerm_monitor_diagnostic_setting")["enabled_log"] == [{"category_group": "audit"}]
    key = one(doc, "azurerm_key_vault_key")
    assert key["key_type"] == "RSA-HSM" and key["key_opts"] == ["wrapKey", "unwrapKey"]
    assert key["rotation_policy"]["automatic"]["time_before_expiry"] == "P30D"
    assert key["rotation_policy"]["expire_after"] == "P365D"
    assert key["depends_on"] == [f"azurerm_role_assignment.{next(iter(resources(doc, 'azurerm_role_assignment')))}"]


def test_fails_on_long_name():
    with pytest.raises(ValueError, match="3-24"):
        _props(name="a-very-long-key-vault-name-indeed")


def test_fails_on_open_firewall():
    with pytest.raises(ValueError, match="/0"):
        _props(allowed_ip_ranges=("0.0.0.0/0",))


def test_fails_on_short_soft_delete():
    with pytest.raises(ValueError, match="7-90"):
        _props(soft_delete_retention_days=3)
