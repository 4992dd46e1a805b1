"""Vpc: all defaults, all options, bad props."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.vpc import Vpc, VpcProps
from tests.constructs.alerting import ACTIONS
from tests.tf import new_app, one, resources, synth_stack

ZONES = ("ap-northeast-1a", "ap-northeast-1c")
BASE: dict[str, Any] = {
    "name": "test",
    "cidr_block": "10.20.0.0/16",
    "availability_zones": ZONES,
    "public_subnet_cidrs": ("10.20.0.0/24", "10.20.1.0/24"),
    "private_subnet_cidrs": ("10.20.10.0/24", "10.20.11.0/24"),
    "database_subnet_cidrs": ("10.20.20.0/24", "10.20.21.0/24"),
    "account_id": "123456789012",
    "region": "ap-northeast-1",
    "alarm_actions": ACTIONS,
}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _ref(logical_id: str, text: str) -> bool:
    return re.search(rf"\$\{{[a-z0-9_]+\.{re.escape(logical_id)}\.", text) is not None


def _tier(doc: dict[str, Any], tier: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources(doc, "aws_subnet").items() if v["tags"]["Tier"] == tier}


def test_defaults_are_secure_and_highly_available():
    stack = _stack()
    vpc = Vpc(stack, "vpc", VpcProps(**BASE))
    doc = synth_stack(stack)

    network = one(doc, "aws_vpc")
    assert network["cidr_block"] == "10.20.0.0/16"
    assert network["enable_dns_hostnames"] is True and network["enable_dns_support"] is True
    assert not any(k.startswith("kubernetes.io") for k in network["tags"])

    subnets = resources(doc, "aws_subnet")
    assert len(subnets) == 6
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    assert sorted(s["cidr_block"] for s in _tier(doc, "private").values()) == ["10.20.10.0/24", "10.20.11.0/24"]
    for subnet in subnets.values():
        assert not any(k.startswith(("kubernetes.io", "karpenter")) for k in subnet["tags"])

    # one NAT per zone, each in the public subnet of its zone
    nats = resources(doc, "aws_nat_gateway")
    assert len(nats) == 2 and len(resources(doc, "aws_eip")) == 2
    public_zone = {k: v["availability_zone"] for k, v in _tier(doc, "public").items()}
    assert sorted(public_zone[k] for nat in nats.values() for k in public_zone if _ref(k, nat["subnet_id"])) == list(
        ZONES
    )

    # routes: public -> IGW, private -> NAT, database none
    routes = list(resources(doc, "aws_route").values())
    assert len(routes) == 4
    assert sum("gateway_id" in r for r in routes) == 2 and sum("nat_gateway_id" in r for r in routes) == 2
    assert len(resources(doc, "aws_route_table")) == 6

    assert one(doc, "aws_default_security_group")["ingress"] == []
    acl = one(doc, "aws_default_network_acl")
    assert {(r["protocol"], r["from_port"]) for r in acl["ingress"] if r["cidr_block"] == "0.0.0.0/0"} == {
        ("tcp", 80),
        ("tcp", 443),
        ("tcp", 1024),
        ("udp", 1024),
    }

    flow_log = one(doc, "aws_flow_log")
    assert flow_log["traffic_type"] == "ALL" and flow_log["max_aggregation_interval"] == 60
    group = one(doc, "aws_cloudwatch_log_group")
    assert group["retention_in_days"] == 365 and group["lifecycle"]["prevent_destroy"] is True
    assert one(doc, "aws_kms_key")["lifecycle"]["prevent_destroy"] is True

    # S3 gateway endpoint only; no interface endpoints, so no security group
    (endpoint,) = resources(doc, "aws_vpc_endpoint").values()
    assert endpoint["vpc_endpoint_type"] == "Gateway" and len(endpoint["route_table_ids"]) == 4
    assert not resources(doc, "aws_security_group")
    assert vpc.endpoints.security_group_id is None

    assert one(doc, "aws_db_subnet_group")["name"] == "test-database"
    assert one(doc, "aws_elasticache_subnet_group")["name"] == "test-cache"

    # typed attributes
    assert vpc.vpc_cidr == "10.20.0.0/16" and vpc.availability_zones == list(ZONES)
    assert vpc.private_subnet_cidrs == ["10.20.10.0/24", "10.20.11.0/24"]
    for attribute in ("public", "private", "database"):
        assert len(getattr(vpc, f"{attribute}_subnet_ids")) == 2
        assert len(getattr(vpc, f"{attribute}_route_table_ids")) == 2
    assert len(vpc.nat_gateway_ids) == 2 and len(vpc.nat_public_ips) == 2


def test_all_options():
    stack = _stack()
    vpc = Vpc(
        stack,
        "vpc",
        VpcProps(
            **BASE,
            single_nat_gateway=True,
            cluster_name="iworkz-test",
            karpenter_discovery=True,
            flow_log_retention_days=731,
            gateway_endpoints=("s3", "dynamodb"),
            interface_endpoints=("ecr.api", "sts"),
            public_ingress_tcp_ports=(443,),
            prevent_destroy=False,
            tags={"Team": "platform"},
        ),
    )
    doc = synth_stack(stack)

    network = one(doc, "aws_vpc")
    assert network["tags"]["kubernetes.io/cluster/iworkz-test"] == "shared"
    assert network["tags"]["Team"] == "platform"
    for subnet in _tier(doc, "public").values():
        assert subnet["tags"]["kubernetes.io/role/elb"] == "1"
        assert "karpenter.sh/discovery" not in subnet["tags"]
    for subnet in _tier(doc, "private").values():
        assert subnet["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet["tags"]["karpenter.sh/discovery"] == "iworkz-test"
        assert subnet["tags"]["kubernetes.io/cluster/iworkz-test"] == "shared"
    for subnet in _tier(doc, "database").values():
        assert subnet["tags"]["kubernetes.io/cluster/iworkz-test"] == "shared"
        assert not any(k.startswith("kubernetes.io/role/") for k in subnet["tags"])

    # a single NAT in the first zone serves both private route tables
    (nat_key,) = resources(doc, "aws_nat_gateway")
    assert len(resources(doc, "aws_eip")) == 1
    nat_routes = [r for r in resources(doc, "aws_route").values() if "nat_gateway_id" in r]
    assert len(nat_routes) == 2 and all(_ref(nat_key, r["nat_gateway_id"]) for r in nat_routes)
    assert len(vpc.nat_gateway_ids) == 1

    acl = one(doc, "aws_default_network_acl")
    assert [(r["protocol"], r["from_port"]) for r in acl["ingress"] if r["cidr_block"] == "0.0.0.0/0"] == [
        ("tcp", 443),
        ("tcp", 1024),
        ("udp", 1024),
    ]

    assert one(doc, "aws_cloudwatch_log_group")["retention_in_days"] == 731
    assert "lifecycle" not in one(doc, "aws_cloudwatch_log_group") or not one(doc, "aws_cloudwatch_log_group")[
        "lifecycle"
    ].get("prevent_destroy")

    endpoints = resources(doc, "aws_vpc_endpoint").values()
    assert sorted(e["service_name"] for e in endpoints) == [
        "com.amazonaws.ap-northeast-1.dynamodb",
        "com.amazonaws.ap-northeast-1.ecr.api",
        "com.amazonaws.ap-northeast-1.s3",
        "com.amazonaws.ap-northeast-1.sts",
    ]
    interface = [e for e in endpoints if e["vpc_endpoint_type"] == "Interface"]
    assert all(e["private_dns_enabled"] is True and len(e["subnet_ids"]) == 2 for e in interface)
    rule = one(doc, "aws_vpc_security_group_ingress_rule")
    assert (rule["cidr_ipv4"], rule["from_port"], rule["to_port"]) == ("10.20.0.0/16", 443, 443)
    assert vpc.endpoints.security_group_id is not None
    assert sorted(vpc.endpoints.interface) == ["ecr.api", "sts"]
    assert sorted(vpc.endpoints.gateway) == ["dynamodb", "s3"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"availability_zones": ()}, "at least one zone", id="no-zones"),
        pytest.param(
            {"availability_zones": ("ap-northeast-1a", "ap-northeast-1a")}, "list a zone twice", id="zone-twice"
        ),
        pytest.param(
            {"private_subnet_cidrs": ("10.20.10.0/24",)}, "1 CIDRs for 2 availability zones", id="count-mismatch"
        ),
        pytest.param(
            {"database_subnet_cidrs": ("10.20.20.0/24", "10.30.0.0/24")},
            "10.30.0.0/24 lies outside the VPC CIDR",
            id="outside-vpc",
        ),
        pytest.param(
            {"database_subnet_cidrs": ("10.20.20.0/24", "10.20.10.128/25")},
            "10.20.10.128/25 overlaps private subnet 10.20.10.0/24",
            id="overlap",
        ),
        pytest.param(
            {"karpenter_discovery": True}, "karpenter_discovery needs cluster_name", id="karpenter-no-cluster"
        ),
        pytest.param({"public_ingress_tcp_ports": (22, 8443)}, "8443 is not a service port", id="high-port"),
        pytest.param({"public_ingress_tcp_ports": tuple(range(1, 12))}, "at most 10 ports", id="too-many-ports"),
        pytest.param({"cidr_block": "10.20.0.0/33"}, "does not appear to be an IPv4 or IPv6 network", id="bad-cidr"),
    ],
)
def test_fails_on_bad_props(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        VpcProps(**{**BASE, **change})


def test_fails_on_flow_log_retention_below_a_year():
    stack = _stack()
    with pytest.raises(ValueError, match="retention_days must be one of"):
        Vpc(stack, "vpc", VpcProps(**BASE, flow_log_retention_days=90))


def test_fails_on_unknown_gateway_endpoint():
    stack = _stack()
    with pytest.raises(ValueError, match=r"only .* have gateway endpoints"):
        Vpc(stack, "vpc", VpcProps(**BASE, gateway_endpoints=("sts",)))
