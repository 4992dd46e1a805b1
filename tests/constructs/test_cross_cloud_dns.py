"""CrossCloudDns: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz_constructs.cross_cloud_dns import CrossCloudDns, CrossCloudDnsProps
from tests.tf import new_app, one, resources, synth_stack

VNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
SUBNET = f"{VNET}/subnets/dns"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> CrossCloudDnsProps:
    values = {
        "name": "dr",
        "forwarded_zones": ("privatelink.blob.core.windows.net",),
        "azure_resource_group_name": "dr-rg",
        "azure_location": "koreacentral",
        "azure_virtual_network_id": VNET,
        "azure_inbound_subnet_id": SUBNET,
        "azure_inbound_ip": "10.100.176.4",
        "aws_vpc_id": "vpc-123",
        "aws_subnet_ids": ["subnet-a", "subnet-c"],
        **overrides,
    }
    return CrossCloudDnsProps(**values)


def test_defaults_forward_a_zone_to_a_static_inbound_endpoint():
    stack = _stack()
    CrossCloudDns(stack, "dns", _props())
    doc = synth_stack(stack)
    assert one(doc, "azurerm_private_dns_resolver")["virtual_network_id"] == VNET
    inbound = one(doc, "azurerm_private_dns_resolver_inbound_endpoint")
    assert inbound["ip_configurations"] == {
        "subnet_id": SUBNET,
        "private_ip_allocation_method": "Static",
        "private_ip_address": "10.100.176.4",
    }
    endpoint = one(doc, "aws_route53_resolver_endpoint")
    assert endpoint["direction"] == "OUTBOUND"
    assert [ip["subnet_id"] for ip in endpoint["ip_address"]] == ["subnet-a", "subnet-c"]
    rule = one(doc, "aws_route53_resolver_rule")
    assert (rule["domain_name"], rule["rule_type"]) == ("privatelink.blob.core.windows.net", "FORWARD")
    assert rule["target_ip"] == [{"ip": "10.100.176.4", "port": 53}]
    assert one(doc, "aws_route53_resolver_rule_association")["vpc_id"] == "vpc-123"
    group = one(doc, "aws_security_group")
    assert group["ingress"] == []
    assert sorted(e["protocol"] for e in group["egress"]) == ["tcp", "udp"]
    assert all(e["cidr_blocks"] == ["10.100.176.4/32"] for e in group["egress"])


def test_all_options_several_zones_and_tags():
    stack = _stack()
    dns = CrossCloudDns(
        stack,
        "dns",
        _props(
            forwarded_zones=(
                "privatelink.blob.core.windows.net",
                "privatelink.vaultcore.azure.net",
                "pg.private.postgres.database.azure.com",
            ),
            aws_subnet_ids=["subnet-a", "subnet-c", "subnet-d"],
            tags={"Project": "iWORKZ"},
        ),
    )
    doc = synth_stack(stack)
    rules = resources(doc, "aws_route53_resolver_rule")
    assert len(rules) == 3 == len(resources(doc, "aws_route53_resolver_rule_association"))
    assert len({body["name"] for body in rules.values()}) == 3
    assert all(len(body["name"]) <= 64 for body in rules.values())
    assert len(one(doc, "aws_route53_resolver_endpoint")["ip_address"]) == 3
    assert one(doc, "azurerm_private_dns_resolver")["tags"] == {"Project": "iWORKZ"}
    assert set(dns.resolver_rule_ids) == {
        "privatelink.blob.core.windows.net",
        "privatelink.vaultcore.azure.net",
        "pg.private.postgres.database.azure.com",
    }


def test_fails_without_zones():
    with pytest.raises(ValueError, match="zones"):
        _props(forwarded_zones=())


def test_fails_with_one_subnet():
    with pytest.raises(ValueError, match="two subnets"):
        _props(aws_subnet_ids=["subnet-a"])


def test_fails_on_bad_inbound_ip():
    with pytest.raises(ValueError, match="IPv4"):
        _props(azure_inbound_ip="10.100.176.0/24")
