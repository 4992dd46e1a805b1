"""OpenSearch: all defaults, all options, bad props."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.opensearch import OpenSearch, OpenSearchProps
from tests.tf import new_app, one, resources, synth_stack

SOURCES = {"eks-nodes": "sg-nodes", "eks-cluster": "sg-cluster"}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _props(**overrides) -> OpenSearchProps:
    values = {
        "domain_name": "iworkz-test-search",
        "region": "ap-northeast-1",
        "account_id": "123456789012",
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-c", "subnet-d"],
        "client_security_groups": SOURCES,
        "kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/search",
        **overrides,
    }
    return OpenSearchProps(**values)


def test_defaults_private_encrypted_fine_grained():
    stack = _stack()
    OpenSearch(stack, "search", _props())
    doc = synth_stack(stack)
    domain = one(doc, "aws_opensearch_domain")
    assert domain["domain_name"] == "iworkz-test-search" and domain["engine_version"].startswith("OpenSearch_2.")
    cluster = domain["cluster_config"]
    assert cluster["zone_awareness_enabled"] is True
    assert cluster["zone_awareness_config"] == {"availability_zone_count": 3}
    assert cluster["dedicated_master_enabled"] is True and cluster["dedicated_master_count"] == 3
    assert cluster["instance_count"] == 3
    assert domain["ebs_options"]["volume_type"] == "gp3" and domain["ebs_options"]["ebs_enabled"] is True
    assert domain["encrypt_at_rest"] == {
        "enabled": True,
        "kms_key_id": "arn:aws:kms:ap-northeast-1:123456789012:key/search",
    }
    assert domain["node_to_node_encryption"] == {"enabled": True}
    assert domain["domain_endpoint_options"] == {
        "enforce_https": True,
        "tls_security_policy": "Policy-Min-TLS-1-2-PFS-2023-10",
    }
    security = domain["advanced_security_options"]
    assert security["enabled"] is True and security["internal_user_database_enabled"] is False
    assert security["anonymous_auth_enabled"] is False
    assert security["master_user_options"]["master_user_arn"].startswith("${aws_iam_role.")
    assert "master_user_password" not in security["master_user_options"]
    assert domain["vpc_options"]["subnet_ids"] == '${slice(["subnet-a", "subnet-c", "subnet-d"], 0, 3)}'
    assert domain["vpc_options"]["security_group_ids"][0].startswith("${aws_security_group.")
    assert domain["lifecycle"]["prevent_destroy"] is True
    # access policy: only this account's principals
    policy = json.loads(domain["access_policies"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Resource"] == "arn:aws:es:ap-northeast-1:123456789012:domain/iworkz-test-search/*"
    # logs: audit, slow (search, index) and error logs, encrypted, published by es.amazonaws.com
    published = {o["log_type"] for o in domain["log_publishing_options"]}
    assert published == {"AUDIT_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"}
    groups = resources(doc, "aws_cloudwatch_log_group").values()
    assert len(groups) == 4 and all(g["kms_key_id"].endswith("key/search") for g in groups)
    log_policy = json.loads(one(doc, "aws_cloudwatch_log_resource_policy")["policy_document"])
    [allow] = log_policy["Statement"]
    assert allow["Principal"] == {"Service": "es.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert len(allow["Resource"]) == 4
    # 443 from the EKS groups only
    rules = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["referenced_security_group_id"] for r in rules) == ["sg-cluster", "sg-nodes"]
    assert all((r["from_port"], r["to_port"]) == (443, 443) for r in rules)
    # master role assumable only from the account, with MFA
    trust = json.loads(one(doc, "aws_iam_role")["assume_role_policy"])
    assert trust["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_all_options():
    stack = _stack()
    OpenSearch(
        stack,
        "search",
        _props(
            availability_zones=1,
            engine_version="OpenSearch_2.15",
            instance_type="t3.medium.search",
            instance_count=2,
            master_count=0,
            volume_size_gb=20,
            volume_iops=4000,
            volume_throughput=250,
            master_user_arn="arn:aws:iam::123456789012:role/search-admin",
            log_retention_days=30,
            prevent_destroy=False,
            tags={"Team": "data"},
        ),
    )
    doc = synth_stack(stack)
    domain = one(doc, "aws_opensearch_domain")
    cluster = domain["cluster_config"]
    assert cluster["zone_awareness_enabled"] is False and "zone_awareness_config" not in cluster
    assert cluster["dedicated_master_enabled"] is False and "dedicated_master_count" not in cluster
    assert domain["ebs_options"]["iops"] == 4000 and domain["ebs_options"]["throughput"] == 250
    assert domain["advanced_security_options"]["master_user_options"]["master_user_arn"] == (
        "arn:aws:iam::123456789012:role/search-admin"
    )
    assert not resources(doc, "aws_iam_role")
    assert domain["vpc_options"]["subnet_ids"].endswith(", 0, 1)}")
    assert all(g["retention_in_days"] == 30 for g in resources(doc, "aws_cloudwatch_log_group").values())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"domain_name": "Search"}, "3-28 lowercase"),
        ({"domain_name": "x" * 29}, "3-28 lowercase"),
        ({"engine_version": "Elasticsearch_7.10"}, "not OpenSearch 2.x"),
        ({"instance_count": 4}, "do not spread evenly over 3 zones"),
        ({"availability_zones": 4}, "availability_zones must be 1-3"),
        ({"master_count": 2}, "master_count must be 0, 3 or 5"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)
