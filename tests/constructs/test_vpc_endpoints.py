"""VpcEndpoints: all defaults, all options, bad props."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from tests.tf import new_app, one, policy_json, resources, synth_stack

BASE: dict[str, Any] = {
    "name": "test",
    "vpc_id": "vpc-0123",
    "region": "ap-northeast-1",
    "allowed_cidrs": ("10.20.0.0/16",),
}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def test_defaults_give_an_s3_gateway_endpoint():
    stack = _stack()
    endpoints = VpcEndpoints(stack, "endpoints", VpcEndpointsProps(**BASE, gateway_route_table_ids=("rtb-1", "rtb-2")))
    doc = synth_stack(stack)
    endpoint = one(doc, "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.ap-northeast-1.s3"
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert endpoint["route_table_ids"] == ["rtb-1", "rtb-2"]
    assert not resources(doc, "aws_security_group")
    assert list(endpoints.gateway) == ["s3"] and endpoints.interface == {}
    assert endpoints.security_group_id is None


STATEMENT = {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity", "Resource": "*"}


def test_interface_endpoints_take_policies():
    stack = _stack()
    endpoints = VpcEndpoints(
        stack,
        "endpoints",
        VpcEndpointsProps(
            **{**BASE, "gateway_endpoints": ()},
            interface_endpoints=("sts", "logs"),
            interface_subnet_ids=("subnet-1",),
            policies={"sts": [STATEMENT]},
        ),
    )
    doc = synth_stack(stack)
    by_service = {e["service_name"].rsplit(".", 1)[1]: e for e in resources(doc, "aws_vpc_endpoint").values()}
    assert policy_json(doc, by_service["sts"]["policy"])["Statement"] == [STATEMENT]
    assert "policy" not in by_service["logs"]
    assert list(endpoints.policies) == ["sts"]


def test_all_options():
    stack = _stack()
    endpoints = VpcEndpoints(
        stack,
        "endpoints",
        VpcEndpointsProps(
            name="test",
            vpc_id="vpc-0123",
            region="ap-northeast-3",
            allowed_cidrs=("10.20.0.0/16", "10.100.0.0/16"),
            gateway_endpoints=("s3", "dynamodb"),
            gateway_route_table_ids=("rtb-1",),
            interface_endpoints=("ecr.api", "ecr.dkr"),
            interface_subnet_ids=("subnet-1", "subnet-2"),
            private_dns=False,
        ),
    )
    doc = synth_stack(stack)
    interface = [e for e in resources(doc, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"]
    assert sorted(e["service_name"] for e in interface) == [
        "com.amazonaws.ap-northeast-3.ecr.api",
        "com.amazonaws.ap-northeast-3.ecr.dkr",
    ]
    (group_id,) = resources(doc, "aws_security_group")
    for endpoint in interface:
        assert endpoint["private_dns_enabled"] is False
        assert endpoint["subnet_ids"] == ["subnet-1", "subnet-2"]
        assert len(endpoint["security_group_ids"]) == 1 and group_id in endpoint["security_group_ids"][0]
    rules = sorted(resources(doc, "aws_vpc_security_group_ingress_rule").values(), key=lambda r: r["cidr_ipv4"])
    assert [(r["cidr_ipv4"], r["ip_protocol"], r["from_port"], r["to_port"]) for r in rules] == [
        ("10.100.0.0/16", "tcp", 443, 443),
        ("10.20.0.0/16", "tcp", 443, 443),
    ]
    assert all(r["description"] for r in rules)
    assert not resources(doc, "aws_vpc_security_group_egress_rule")
    assert sorted(endpoints.gateway) == ["dynamodb", "s3"]
    assert sorted(endpoints.interface) == ["ecr.api", "ecr.dkr"]
    assert endpoints.security_group_id is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"gateway_endpoints": ("sts",)}, "have gateway endpoints", id="not-a-gateway-service"),
        pytest.param({"gateway_endpoints": ("s3",)}, "need gateway_route_table_ids", id="gateway-without-tables"),
        pytest.param(
            {"gateway_endpoints": (), "interface_endpoints": ("sts",)},
            "need interface_subnet_ids",
            id="interface-without-subnets",
        ),
        pytest.param(
            {"gateway_endpoints": (), "interface_endpoints": ("sts", "sts"), "interface_subnet_ids": ("s-1",)},
            "list a service twice",
            id="duplicate-service",
        ),
        pytest.param(
            {"gateway_endpoints": (), "interface_endpoints": ("com.amazonaws.x/y",), "interface_subnet_ids": ("s-1",)},
            "give the service suffix",
            id="malformed-service",
        ),
        pytest.param(
            {"gateway_endpoints": (), "allowed_cidrs": ("0.0.0.0/0",)},
            "is not a private range",
            id="open-to-the-world",
        ),
        pytest.param(
            {
                "gateway_endpoints": (),
                "allowed_cidrs": (),
                "interface_endpoints": ("sts",),
                "interface_subnet_ids": ("s-1",),
            },
            "need allowed_cidrs",
            id="interface-without-cidrs",
        ),
        pytest.param(
            {
                "gateway_endpoints": (),
                "interface_endpoints": ("sts",),
                "interface_subnet_ids": ("s-1",),
                "policies": {"logs": [STATEMENT]},
            },
            "only interface endpoints",
            id="policy-for-an-endpoint-not-made",
        ),
        pytest.param(
            {
                "gateway_endpoints": (),
                "interface_endpoints": ("sts",),
                "interface_subnet_ids": ("s-1",),
                "policies": {"sts": []},
            },
            "hold no statement",
            id="empty-policy",
        ),
    ],
)
def test_fails_on_bad_props(change, message):
    with pytest.raises(ValueError, match=message):
        VpcEndpointsProps(**{**BASE, **change})
