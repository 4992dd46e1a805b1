"""AzureVnet: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz.config.dr_azure import dr_azure_subnets
from iworkz_constructs.azure_vnet import AzureVnet, AzureVnetProps
from tests.tf import new_app, one, resources, synth_stack

SUBNETS = dr_azure_subnets("10.100.0.0/16")


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> AzureVnetProps:
    values = {
        "name": "dr-vnet",
        "resource_group_name": "dr-rg",
        "location": "koreacentral",
        "address_space": "10.100.0.0/16",
        "subnets": SUBNETS,
        **overrides,
    }
    return AzureVnetProps(**values)


def test_defaults_make_four_subnets_and_deny_the_internet():
    stack = _stack()
    vnet = AzureVnet(stack, "vnet", _props())
    doc = synth_stack(stack)
    assert one(doc, "azurerm_virtual_network")["address_space"] == ["10.100.0.0/16"]
    subnets = {body["name"]: body for body in resources(doc, "azurerm_subnet").values()}
    assert set(subnets) == {
        "dr-vnet-aks-nodes",
        "dr-vnet-postgres",
        "dr-vnet-private-endpoints",
        "dr-vnet-dns-resolver",
        "GatewaySubnet",
    }
    (delegation,) = subnets["dr-vnet-dns-resolver"]["delegation"]
    assert delegation["service_delegation"]["name"] == "Microsoft.Network/dnsResolvers"
    assert subnets["GatewaySubnet"]["address_prefixes"] == [SUBNETS["gateway"]]
    assert subnets["dr-vnet-private-endpoints"]["private_endpoint_network_policies"] == "Enabled"
    assert subnets["dr-vnet-aks-nodes"]["default_outbound_access_enabled"] is False
    nsgs = {body["name"]: body for body in resources(doc, "azurerm_network_security_group").values()}
    assert len(resources(doc, "azurerm_subnet_network_security_group_association")) == 4
    # No internet ingress anywhere without the opt-in.
    for nsg in nsgs.values():
        for rule in nsg["security_rule"]:
            assert not (rule["source_address_prefix"] == "Internet" and rule["access"] == "Allow")
    assert nsgs["dr-vnet-aks-nodes-nsg"]["security_rule"] == []
    assert set(vnet.subnet_ids) == {"aks_nodes", "postgres", "private_endpoints", "gateway", "dns_resolver"}
    assert set(vnet.nsg_ids) == {"aks_nodes", "postgres", "private_endpoints", "dns_resolver"}
    dns_rules = {r["name"]: r for r in nsgs["dr-vnet-dns-resolver-nsg"]["security_rule"]}
    assert dns_rules["allow-vnet-dns"]["protocol"] == "*"
    assert dns_rules["allow-vnet-dns"]["destination_port_range"] == "53"


def test_all_options_open_https_to_the_aks_subnet_with_tags():
    stack = _stack()
    AzureVnet(stack, "vnet", _props(aks_public_ingress_ports=(443,), tags={"Project": "iWORKZ"}))
    doc = synth_stack(stack)
    nsg = next(
        b for b in resources(doc, "azurerm_network_security_group").values() if b["name"].endswith("aks-nodes-nsg")
    )
    (rule,) = nsg["security_rule"]
    assert (rule["source_address_prefix"], rule["destination_port_range"], rule["access"]) == (
        "Internet",
        "443",
        "Allow",
    )
    assert one(doc, "azurerm_virtual_network")["tags"] == {"Project": "iWORKZ"}
    suppressed = [
        entry.data
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "iworkz:suppress"
    ]
    assert suppressed and suppressed[0]["rule"] == "OPEN_INGRESS"


def test_fails_on_missing_subnet():
    with pytest.raises(ValueError, match="missing \\['gateway'\\]"):
        _props(subnets={k: v for k, v in SUBNETS.items() if k != "gateway"})


def test_fails_on_ssh_or_http_from_the_internet():
    with pytest.raises(ValueError, match="port 22"):
        _props(aks_public_ingress_ports=(22,))
    with pytest.raises(ValueError, match="port 80"):
        _props(aks_public_ingress_ports=(80,))
