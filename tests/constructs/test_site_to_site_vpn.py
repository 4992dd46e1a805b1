"""SiteToSiteVpn: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz_constructs.site_to_site_vpn import SiteToSiteVpn, SiteToSiteVpnProps
from tests.tf import new_app, one, resources, synth_stack

GATEWAY_SUBNET = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/GatewaySubnet"
)


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> SiteToSiteVpnProps:
    values = {
        "name": "dr",
        "aws_vpc_id": "vpc-123",
        "aws_vpc_cidr": "10.0.0.0/16",
        "aws_route_table_ids": ["rtb-1", "rtb-2"],
        "azure_resource_group_name": "dr-rg",
        "azure_location": "koreacentral",
        "azure_gateway_subnet_id": GATEWAY_SUBNET,
        "azure_vnet_cidr": "10.100.0.0/16",
        **overrides,
    }
    return SiteToSiteVpnProps(**values)


def test_defaults_link_both_clouds_with_aws_generated_keys():
    stack = _stack()
    SiteToSiteVpn(stack, "vpn", _props())
    doc = synth_stack(stack)
    assert one(doc, "aws_vpn_gateway")["vpc_id"] == "vpc-123"
    assert sorted(b["route_table_id"] for b in resources(doc, "aws_vpn_gateway_route_propagation").values()) == [
        "rtb-1",
        "rtb-2",
    ]
    public_ip_id = next(iter(resources(doc, "azurerm_public_ip")))
    customer = one(doc, "aws_customer_gateway")
    assert customer["ip_address"] == f"${{azurerm_public_ip.{public_ip_id}.ip_address}}"
    assert customer["bgp_asn"] == "65000"
    connection_id = next(iter(resources(doc, "aws_vpn_connection")))
    connection = resources(doc, "aws_vpn_connection")[connection_id]
    assert connection["static_routes_only"] is True
    assert connection["tunnel1_ike_versions"] == ["ikev2"] == connection["tunnel2_ike_versions"]
    assert connection["tunnel1_phase2_encryption_algorithms"] == ["AES256"]
    assert connection["tunnel2_phase1_integrity_algorithms"] == ["SHA2-256"]
    assert connection["tunnel1_phase2_dh_group_numbers"] == [14]
    assert connection["tunnel1_log_options"]["cloudwatch_log_options"]["log_enabled"] is True
    assert one(doc, "aws_vpn_connection_route")["destination_cidr_block"] == "10.100.0.0/16"
    log_group = one(doc, "aws_cloudwatch_log_group")
    assert log_group["retention_in_days"] == 365 and "kms_key_id" not in log_group
    assert log_group["lifecycle"] == {"prevent_destroy": True}
    gateway = one(doc, "azurerm_virtual_network_gateway")
    assert (gateway["sku"], gateway["vpn_type"], gateway["type"]) == ("VpnGw2AZ", "RouteBased", "Vpn")
    assert gateway["ip_configuration"][0]["subnet_id"] == GATEWAY_SUBNET
    public_ip = one(doc, "azurerm_public_ip")
    assert (public_ip["sku"], public_ip["allocation_method"], public_ip["zones"]) == (
        "Standard",
        "Static",
        ["1", "2", "3"],
    )
    locals_ = resources(doc, "azurerm_local_network_gateway")
    assert len(locals_) == 2
    assert resources(doc, "azurerm_monitor_diagnostic_setting") == {}
    for number in (1, 2):
        local_id = next(k for k, b in locals_.items() if b["name"] == f"dr-aws-tunnel{number}")
        assert locals_[local_id]["address_space"] == ["10.0.0.0/16"]
        assert locals_[local_id]["gateway_address"] == f"${{aws_vpn_connection.{connection_id}.tunnel{number}_address}}"
        azure = next(
            b
            for b in resources(doc, "azurerm_virtual_network_gateway_connection").values()
            if b["local_network_gateway_id"] == f"${{azurerm_local_network_gateway.{local_id}.id}}"
        )
        assert azure["shared_key"] == f"${{aws_vpn_connection.{connection_id}.tunnel{number}_preshared_key}}"
        assert azure["connection_protocol"] == "IKEv2"
        assert azure["ipsec_policy"]["dh_group"] == "DHGroup14"


def test_all_options():
    stack = _stack()
    SiteToSiteVpn(
        stack,
        "vpn",
        _props(
            gateway_sku="VpnGw3AZ",
            customer_gateway_bgp_asn=65010,
            tunnel_log_retention_days=731,
            tunnel_log_kms_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/logs",
            azure_log_analytics_workspace_id="workspace",
            tags={"Project": "iWORKZ"},
        ),
    )
    doc = synth_stack(stack)
    assert one(doc, "azurerm_virtual_network_gateway")["sku"] == "VpnGw3AZ"
    assert one(doc, "aws_customer_gateway")["bgp_asn"] == "65010"
    log_group = one(doc, "aws_cloudwatch_log_group")
    assert log_group["retention_in_days"] == 731
    assert log_group["kms_key_id"] == "arn:aws:kms:ap-northeast-1:123456789012:key/logs"
    assert one(doc, "azurerm_public_ip")["tags"] == {"Project": "iWORKZ"}
    diagnostics = one(doc, "azurerm_monitor_diagnostic_setting")
    gateway_id = next(iter(resources(doc, "azurerm_virtual_network_gateway")))
    assert diagnostics["target_resource_id"] == f"${{azurerm_virtual_network_gateway.{gateway_id}.id}}"
    assert diagnostics["log_analytics_workspace_id"] == "workspace"


def test_fails_on_non_zone_redundant_sku():
    with pytest.raises(ValueError, match="zone-redundant"):
        _props(gateway_sku="VpnGw2")


def test_fails_without_route_tables():
    with pytest.raises(ValueError, match="route tables"):
        _props(aws_route_table_ids=[])


def test_fails_on_bad_asn():
    with pytest.raises(ValueError, match="asn"):
        _props(customer_gateway_bgp_asn=0)
