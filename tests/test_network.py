"""network-<environment>: the seed's three-AZ VPC, checked on the synthesised JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from iworkz.cli import main
from iworkz.config import ConfigError, load_settings
from tests.configs import write_config
from tests.tf import data_sources, one, outputs, policy_json, resources

ZONES = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
ENVIRONMENTS = {"production": "10.0", "staging": "10.1", "dev": "10.2"}
ANYWHERE = "0.0.0.0/0"


def _ref(logical_id: str, text: str) -> bool:
    """Whether ``text`` is a Terraform reference to the resource with that logical ID."""
    return re.search(rf"\$\{{[a-z0-9_]+\.{re.escape(logical_id)}\.", text) is not None


def _subnets(doc: dict[str, Any], tier: str) -> dict[str, dict[str, Any]]:
    """The subnets of a tier, by logical ID."""
    return {k: v for k, v in resources(doc, "aws_subnet").items() if v["tags"]["Tier"] == tier}


def _zone_of(name_tag: str) -> str:
    match = re.search(r"(ap-northeast-1[a-z])$", name_tag)
    assert match, name_tag
    return match.group(1)


def _tables(doc: dict[str, Any], tier: str) -> dict[str, str]:
    """Route table logical ID by zone for a tier."""
    return {
        _zone_of(body["tags"]["Name"]): key
        for key, body in resources(doc, "aws_route_table").items()
        if body["tags"]["Name"].startswith(f"{_prefix(doc)}-{tier}-")
    }


def _prefix(doc: dict[str, Any]) -> str:
    return one(doc, "aws_vpc")["tags"]["Name"].removesuffix("-vpc")


# --- layout -----------------------------------------------------------------------------


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_subnet_cidrs_per_tier_follow_the_seed_layout(stack, env):
    doc = stack(f"network-{env}")
    net = ENVIRONMENTS[env]
    expected = {
        "private": [f"{net}.{i}.0/24" for i in (1, 2, 3)],
        "public": [f"{net}.{i}.0/24" for i in (101, 102, 103)],
        "database": [f"{net}.{i}.0/24" for i in (201, 202, 203)],
    }
    for tier, cidrs in expected.items():
        subnets = sorted(_subnets(doc, tier).values(), key=lambda s: s["availability_zone"])
        assert [s["availability_zone"] for s in subnets] == ZONES, tier
        assert [s["cidr_block"] for s in subnets] == cidrs, tier


def test_production_vpc_from_config_with_dns(stack):
    vpc = one(stack("network-production"), "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_hostnames"] is True
    assert vpc["enable_dns_support"] is True
    assert vpc["tags"]["Name"] == "iworkz-production-vpc"


def test_every_subnet_is_in_the_vpc_and_maps_no_public_ip(stack):
    doc = stack("network-production")
    vpc_key = next(iter(resources(doc, "aws_vpc")))
    subnets = resources(doc, "aws_subnet")
    assert len(subnets) == 9
    for subnet in subnets.values():
        assert _ref(vpc_key, subnet["vpc_id"])
        assert subnet["map_public_ip_on_launch"] is False


# --- gateways and routing ---------------------------------------------------------------


@pytest.mark.parametrize(("env", "count"), [("production", 3), ("staging", 3), ("dev", 1)])
def test_nat_gateways_and_eips_per_zone(stack, env, count):
    doc = stack(f"network-{env}")
    nats = resources(doc, "aws_nat_gateway")
    eips = resources(doc, "aws_eip")
    assert len(nats) == count and len(eips) == count
    public = _subnets(doc, "public")
    public_zone = {key: body["availability_zone"] for key, body in public.items()}
    nat_zones = []
    for nat in nats.values():
        (subnet_key,) = [k for k in public if _ref(k, nat["subnet_id"])]
        (eip_key,) = [k for k in eips if _ref(k, nat["allocation_id"])]
        assert eips[eip_key]["domain"] == "vpc"
        nat_zones.append(public_zone[subnet_key])
        assert nat["connectivity_type"] == "public"
    assert sorted(nat_zones) == ZONES[:count]


def test_one_internet_gateway(stack):
    doc = stack("network-production")
    igw = one(doc, "aws_internet_gateway")
    assert _ref(next(iter(resources(doc, "aws_vpc"))), igw["vpc_id"])


def _routes_of(doc: dict[str, Any], table_key: str) -> list[dict[str, Any]]:
    return [r for r in resources(doc, "aws_route").values() if _ref(table_key, r["route_table_id"])]


@pytest.mark.parametrize("env", ["production", "dev"])
def test_routes_per_tier_and_zone(stack, env):
    doc = stack(f"network-{env}")
    igw_key = next(iter(resources(doc, "aws_internet_gateway")))
    nats = resources(doc, "aws_nat_gateway")
    nat_by_zone = {_zone_of(body["tags"]["Name"]): key for key, body in nats.items()}
    for tier in ("public", "private", "database"):
        assert sorted(_tables(doc, tier)) == ZONES, tier
    for zone, key in _tables(doc, "public").items():
        (route,) = _routes_of(doc, key)
        assert route["destination_cidr_block"] == ANYWHERE and _ref(igw_key, route["gateway_id"]), zone
    for zone, key in _tables(doc, "private").items():
        (route,) = _routes_of(doc, key)
        # its own zone's NAT gateway; dev's single NAT serves every zone
        expected_nat = nat_by_zone.get(zone, nat_by_zone[ZONES[0]])
        assert route["destination_cidr_block"] == ANYWHERE and _ref(expected_nat, route["nat_gateway_id"]), zone
        assert "gateway_id" not in route
    if env == "production":
        assert sorted(nat_by_zone) == ZONES


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_database_tier_has_no_route_to_the_internet(stack, env):
    doc = stack(f"network-{env}")
    for key in _tables(doc, "database").values():
        assert _routes_of(doc, key) == []
        assert "route" not in resources(doc, "aws_route_table")[key]
    assert all(r["destination_cidr_block"] == ANYWHERE for r in resources(doc, "aws_route").values())
    assert len(resources(doc, "aws_route")) == 6


def test_each_subnet_uses_the_route_table_of_its_tier_and_zone(stack):
    doc = stack("network-production")
    associations = list(resources(doc, "aws_route_table_association").values())
    assert len(associations) == 9
    for tier in ("public", "private", "database"):
        tables = _tables(doc, tier)
        for subnet_key, subnet in _subnets(doc, tier).items():
            (assoc,) = [a for a in associations if _ref(subnet_key, a["subnet_id"])]
            assert _ref(tables[subnet["availability_zone"]], assoc["route_table_id"])


# --- subnet groups ----------------------------------------------------------------------


def test_db_and_elasticache_subnet_groups_span_the_database_subnets(stack):
    doc = stack("network-production")
    database = sorted(_subnets(doc, "database"))
    for resource_type, name in (
        ("aws_db_subnet_group", "iworkz-production-database"),
        ("aws_elasticache_subnet_group", "iworkz-production-cache"),
    ):
        group = one(doc, resource_type)
        assert group["name"] == name
        assert sorted(k for k in database if any(_ref(k, s) for s in group["subnet_ids"])) == database
        assert len(group["subnet_ids"]) == 3


# --- flow logs --------------------------------------------------------------------------


def test_flow_logs_of_all_traffic_to_an_encrypted_log_group_kept_a_year(stack):
    doc = stack("network-production")
    flow_log = one(doc, "aws_flow_log")
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert _ref(next(iter(resources(doc, "aws_vpc"))), flow_log["vpc_id"])
    (group_key,) = resources(doc, "aws_cloudwatch_log_group")
    group = resources(doc, "aws_cloudwatch_log_group")[group_key]
    assert _ref(group_key, flow_log["log_destination"])
    assert group["retention_in_days"] >= 365
    assert group["name"] == "/aws/vpc-flow-logs/iworkz-production"
    (key_key,) = resources(doc, "aws_kms_key")
    assert _ref(key_key, group["kms_key_id"])
    key = resources(doc, "aws_kms_key")[key_key]
    assert key["enable_key_rotation"] is True
    principals = [s["Principal"] for s in policy_json(doc, key["policy"])["Statement"]]
    assert {"Service": "logs.ap-northeast-1.amazonaws.com"} in principals


def test_flow_log_role_is_least_privilege(stack):
    doc = stack("network-production")
    (role_key,) = resources(doc, "aws_iam_role")
    role = resources(doc, "aws_iam_role")[role_key]
    assert _ref(role_key, one(doc, "aws_flow_log")["iam_role_arn"])
    (trust,) = policy_json(doc, role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert set(trust["Condition"]) == {"StringEquals", "ArnLike"}
    policy = one(doc, "aws_iam_role_policy")
    assert _ref(role_key, policy["role"])
    statements = policy_json(doc, policy["policy"])["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == [
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    for statement in statements:
        resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources_
    assert not resources(doc, "aws_iam_role_policy_attachment")


# --- default security group and ACL -----------------------------------------------------


def test_default_security_group_has_no_rules(stack):
    group = one(stack("network-production"), "aws_default_security_group")
    assert group["ingress"] == [] and group["egress"] == []


def test_default_network_acl_is_managed_and_closes_low_ports(stack):
    doc = stack("network-production")
    acl = one(doc, "aws_default_network_acl")
    assert _ref(next(iter(resources(doc, "aws_vpc"))), acl["default_network_acl_id"])
    assert len(acl["subnet_ids"]) == 9
    from_internet = [r for r in acl["ingress"] if r["cidr_block"] == ANYWHERE]
    for rule in from_internet:
        assert rule["protocol"] in ("tcp", "udp")
        # SSH, telnet, FTP, SMB/RPC stay closed; 1024-65535 is return traffic (the ACL is stateless)
        for admin_port in (20, 21, 22, 23, 135, 139, 445):
            assert not rule["from_port"] <= admin_port <= rule["to_port"], rule
        assert rule["to_port"] < 1024 or (rule["from_port"], rule["to_port"]) == (1024, 65535), rule
    assert {(r["from_port"], r["to_port"]) for r in from_internet if r["protocol"] == "tcp"} >= {(443, 443)}
    assert any(r["cidr_block"] == "10.0.0.0/16" and r["protocol"] == "-1" for r in acl["ingress"])
    rule_numbers = [r["rule_no"] for r in acl["ingress"]]
    assert len(set(rule_numbers)) == len(rule_numbers)


# --- tags -------------------------------------------------------------------------------


def test_kubernetes_discovery_tags(stack):
    doc = stack("network-production")
    cluster_tag = "kubernetes.io/cluster/iworkz-production"
    assert one(doc, "aws_vpc")["tags"][cluster_tag] == "shared"
    for tier, role_tag in (
        ("public", "kubernetes.io/role/elb"),
        ("private", "kubernetes.io/role/internal-elb"),
        ("database", None),
    ):
        for subnet in _subnets(doc, tier).values():
            tags = subnet["tags"]
            assert tags[cluster_tag] == "shared"
            roles = {k: v for k, v in tags.items() if k.startswith("kubernetes.io/role/")}
            assert roles == ({role_tag: "1"} if role_tag else {}), tier
            assert tags["Name"] == f"iworkz-production-{tier}-{subnet['availability_zone']}"


def test_provider_default_tags_carry_the_environment(stack):
    doc = stack("network-production")
    tags = doc["provider"]["aws"][0]["default_tags"][0]["tags"]
    assert tags["Environment"] == "production" and tags["Project"] == "iWORKZ"


# --- endpoints --------------------------------------------------------------------------


def test_s3_gateway_endpoint_on_private_and_database_route_tables(stack):
    doc = stack("network-production")
    endpoints = resources(doc, "aws_vpc_endpoint")
    (s3,) = [e for e in endpoints.values() if e["vpc_endpoint_type"] == "Gateway"]
    assert s3["service_name"] == "com.amazonaws.ap-northeast-1.s3"
    expected = sorted([*_tables(doc, "private").values(), *_tables(doc, "database").values()])
    assert sorted(k for k in expected if any(_ref(k, t) for t in s3["route_table_ids"])) == expected
    assert len(s3["route_table_ids"]) == 6


def test_interface_endpoints_from_config_with_private_dns(stack, settings):
    doc = stack("network-production")
    wanted = settings.environments["production"].network.interface_endpoints
    assert {"ecr.api", "ecr.dkr", "sts", "logs"} <= set(wanted)
    interface = [e for e in resources(doc, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"]
    assert sorted(e["service_name"] for e in interface) == sorted(f"com.amazonaws.ap-northeast-1.{s}" for s in wanted)
    private = sorted(_subnets(doc, "private"))
    (group_key,) = resources(doc, "aws_security_group")
    for endpoint in interface:
        assert endpoint["private_dns_enabled"] is True
        assert sorted(k for k in private if any(_ref(k, s) for s in endpoint["subnet_ids"])) == private
        assert len(endpoint["subnet_ids"]) == 3
        assert [_ref(group_key, g) for g in endpoint["security_group_ids"]] == [True]


def test_endpoint_security_group_admits_https_from_the_vpc_only(stack):
    doc = stack("network-production")
    (group_key,) = resources(doc, "aws_security_group")
    group = resources(doc, "aws_security_group")[group_key]
    assert "ingress" not in group and "egress" not in group
    (rule,) = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    assert _ref(group_key, rule["security_group_id"])
    assert (rule["cidr_ipv4"], rule["ip_protocol"], rule["from_port"], rule["to_port"]) == (
        "10.0.0.0/16",
        "tcp",
        443,
        443,
    )
    assert not resources(doc, "aws_vpc_security_group_egress_rule")


# --- outputs and the cross-stack contract ----------------------------------------------


def test_outputs(stack):
    doc = stack("network-production")
    found = outputs(doc)
    assert {
        "vpc_id",
        "vpc_cidr",
        "public_subnet_ids",
        "private_subnet_ids",
        "database_subnet_ids",
        "db_subnet_group_name",
        "elasticache_subnet_group_name",
    } <= set(found)
    assert _ref(next(iter(resources(doc, "aws_vpc"))), found["vpc_id"]["value"])
    assert found["vpc_cidr"]["value"] == "10.0.0.0/16"
    assert found["private_subnet_cidrs"]["value"] == ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
    for tier in ("public", "private", "database"):
        ids = found[f"{tier}_subnet_ids"]["value"]
        assert len(ids) == 3 and all(any(_ref(k, i) for k in _subnets(doc, tier)) for i in ids)
    assert _ref(next(iter(resources(doc, "aws_db_subnet_group"))), found["db_subnet_group_name"]["value"])
    # cdktf's own cross-stack outputs (for later stacks' remote state) carry no description.
    declared = {name: o for name, o in found.items() if not name.startswith("cross-stack-output-")}
    assert all(o.get("description") for o in declared.values())


def test_account_comes_from_the_caller_identity(stack):
    assert len(data_sources(stack("network-production"), "aws_caller_identity")) == 1


def test_network_stack_exposes_the_vpc_contract(stack_construct):
    vpc = stack_construct("network-production").vpc
    assert type(vpc).__module__ == "iworkz_constructs.vpc" and type(vpc).__name__ == "Vpc"
    assert vpc.vpc_cidr == "10.0.0.0/16"
    assert vpc.availability_zones == ZONES
    for attribute in (
        "public_subnet_ids",
        "private_subnet_ids",
        "database_subnet_ids",
        "public_route_table_ids",
        "private_route_table_ids",
        "database_route_table_ids",
    ):
        values = getattr(vpc, attribute)
        assert isinstance(values, list) and len(values) == 3, attribute
        assert all(isinstance(v, str) and "${TfToken" in v for v in values), attribute
    for attribute in ("vpc_id", "db_subnet_group_name", "elasticache_subnet_group_name"):
        assert isinstance(getattr(vpc, attribute), str) and "${TfToken" in getattr(vpc, attribute)


# --- bad input --------------------------------------------------------------------------


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir)
    return caught.value.render()


BAD_NETWORKS = [
    pytest.param(
        "production",
        {"network": {"subnets": {"private": ["10.9.1.0/24", "10.9.2.0/24", "10.9.3.0/24"]}}},
        ["production.yaml", "network.subnets.private[0]", "'10.9.1.0/24'", "outside the VPC CIDR 10.0.0.0/16"],
        id="subnet-outside-vpc",
    ),
    pytest.param(
        "staging",
        {"network": {"subnet_layout": {"database": 254}}},
        ["staging.yaml", "network.subnet_layout.database", "254", "runs past the end of the VPC CIDR"],
        id="layout-runs-past-the-vpc",
    ),
    pytest.param(
        "production",
        {"network": {"subnets": {"database": ["10.0.1.128/25", "10.0.202.0/24", "10.0.203.0/24"]}}},
        ["production.yaml", "network.subnets.database[0]", "'10.0.1.128/25'", "overlaps private[0] subnet 10.0.1.0/24"],
        id="overlapping-subnets",
    ),
    pytest.param(
        "dev",
        {"network": {"subnet_layout": {"public": 2}}},
        ["dev.yaml", "network.subnets.private[1]", "'10.2.2.0/24'", "overlaps public[0] subnet 10.2.2.0/24"],
        id="overlapping-layout-offsets",
    ),
    pytest.param(
        "production",
        {"network": {"subnets": {"public": ["10.0.101.0/24", "10.0.102.0/24"]}}},
        ["production.yaml", "network.subnets.public", "10.0.102.0/24", "one subnet per availability zone (3)"],
        id="subnet-count-does-not-match-zones",
    ),
    pytest.param(
        "production",
        {"network": {"availability_zones": ["ap-northeast-1a"]}},
        ["production.yaml", "network.availability_zones", "['ap-northeast-1a']", "at least two availability zones"],
        id="one-zone-in-production",
    ),
    pytest.param(
        "production",
        {"network": {"nat_gateways": "single"}},
        ["production.yaml", "network.nat_gateways", "'single'", "one NAT gateway per availability zone"],
        id="single-nat-in-production",
    ),
    pytest.param(
        "staging",
        {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1a", "ap-northeast-1c"]}},
        ["staging.yaml", "network.availability_zones", "'ap-northeast-1a'", "must be distinct"],
        id="zone-listed-twice",
    ),
    pytest.param(
        "dev",
        {"network": {"availability_zones": ["ap-northeast-1a", "us-east-1b", "ap-northeast-1d"]}},
        ["dev.yaml", "network.availability_zones[1]", "'us-east-1b'", "not an availability zone of ap-northeast-1"],
        id="zone-outside-region",
    ),
    pytest.param(
        "production",
        {"network": {"flow_log_retention_days": 90}},
        ["production.yaml", "network.flow_log_retention_days", "90", "at least 365 days"],
        id="flow-logs-kept-too-briefly",
    ),
    pytest.param(
        "production",
        {"network": {"flow_log_retention_days": 366}},
        ["production.yaml", "network.flow_log_retention_days", "366", "period CloudWatch Logs accepts"],
        id="flow-log-retention-not-a-cloudwatch-period",
    ),
    pytest.param(
        "production",
        {"network": {"interface_endpoints": ["ecr.api", "ecr.dkr", "logs"]}},
        ["production.yaml", "network.interface_endpoints", "'logs'", "missing: sts"],
        id="required-endpoint-missing",
    ),
    pytest.param(
        "production",
        {"network": {"interface_endpoints": ["ecr.api", "ecr.dkr", "sts", "logs", "com.amazonaws.x/y"]}},
        [
            "production.yaml",
            "network.interface_endpoints[4]",
            "'com.amazonaws.x/y'",
            "not an AWS service with an interface endpoint",
        ],
        id="malformed-endpoint-service",
    ),
    pytest.param(
        "production",
        {"network": {"vpc_cidr": "100.64.0.0/16"}},
        ["production.yaml", "network.vpc_cidr", "'100.64.0.0/16'", "private (RFC 1918)"],
        id="public-vpc-cidr",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_NETWORKS)
def test_fails_on_bad_network_config(tmp_path, env, patch, expected):
    message = _error(write_config(tmp_path, env, patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert "fix:" in message


def test_dev_may_use_a_single_nat_gateway(tmp_path):
    settings = load_settings(write_config(tmp_path, "dev", {"network": {"nat_gateways": "single"}}))
    assert settings.environments["dev"].network.nat_gateways == "single"


def test_cli_stops_on_bad_network_config_with_exit_2(tmp_path, capsys):
    config = write_config(tmp_path, "production", {"network": {"nat_gateways": "single"}})
    outdir = tmp_path / "out"
    status = main(["--config-dir", str(config), "--outdir", str(outdir), "--stacks", "network"])
    stderr = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in stderr
    assert "production.yaml: network.nat_gateways = 'single'" in stderr
    assert not outdir.exists() or not any(outdir.iterdir())


def test_later_stacks_read_the_vpc_through_cross_stack_references(settings, tmp_path):
    from cdktf import TerraformOutput, TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from iworkz.app import build_app
    from iworkz.registry import BY_COMPONENT, PlannedStack

    app, built = build_app(settings, [PlannedStack(BY_COMPONENT["network"], "production")], tmp_path)
    vpc = built["network-production"].vpc  # type: ignore[attr-defined]
    consumer = TerraformStack(app, "consumer")
    AwsProvider(consumer, "aws", region="ap-northeast-1")
    TerraformOutput(consumer, "subnets", value=vpc.private_subnet_ids)
    TerraformOutput(consumer, "group", value=vpc.db_subnet_group_name)
    app.synth()
    network_doc = json.loads((tmp_path / "stacks" / "network-production" / "cdk.tf.json").read_text())
    consumer_doc = json.loads((tmp_path / "stacks" / "consumer" / "cdk.tf.json").read_text())
    (remote,) = data_sources(consumer_doc, "terraform_remote_state").values()
    assert remote["backend"] == "s3"
    assert remote["config"]["key"] == "production/network.tfstate"
    generated = [name for name in outputs(network_doc) if name.startswith("cross-stack-output-")]
    assert len(generated) >= 4  # three subnet ids and the subnet group name
    for value in (consumer_doc["output"]["subnets"]["value"], consumer_doc["output"]["group"]["value"]):
        assert "terraform_remote_state" in json.dumps(value)
