"""OpenSearch: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.opensearch import AdminServiceAccount, OpenSearch, OpenSearchProps
from tests.tf import new_app, one, policy_json, resources, synth_stack

SOURCES = {"eks-nodes": "sg-nodes", "eks-cluster": "sg-cluster"}
DOMAIN_ARN = "arn:aws:es:ap-northeast-1:123456789012:domain/iworkz-test-search"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.ap-northeast-1.amazonaws.com/id/ABC"
ADMIN_SA = AdminServiceAccount(
    oidc_provider_arn=PROVIDER_ARN, oidc_issuer=ISSUER, namespace="monitoring", service_account="opensearch-bootstrap"
)
HTTP_ACTIONS = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"]


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


def _master_policy(doc) -> dict:
    role = next(iter(resources(doc, "aws_iam_role")))
    policy = one(doc, "aws_iam_role_policy")
    assert policy["role"] == f"${{aws_iam_role.{role}.id}}"
    return policy_json(doc, policy["policy"])


def test_defaults_private_encrypted_fine_grained():
    stack = _stack()
    search = OpenSearch(stack, "search", _props())
    assert (search.warm_enabled, search.cold_storage_enabled) == (False, False)
    assert search.master_role is not None
    doc = synth_stack(stack)
    domain = one(doc, "aws_opensearch_domain")
    assert domain["domain_name"] == "iworkz-test-search" and domain["engine_version"].startswith("OpenSearch_2.")
    cluster = domain["cluster_config"]
    assert cluster["zone_awareness_enabled"] is True
    assert cluster["zone_awareness_config"] == {"availability_zone_count": 3}
    assert cluster["dedicated_master_enabled"] is True and cluster["dedicated_master_count"] == 3
    assert cluster["instance_count"] == 3
    # no UltraWarm, no cold storage
    assert cluster["warm_enabled"] is False
    assert not {"warm_type", "warm_count", "cold_storage_options"} & set(cluster)
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
    assert domain["vpc_options"]["subnet_ids"] == ["subnet-a", "subnet-c", "subnet-d"]
    assert domain["vpc_options"]["security_group_ids"][0].startswith("${aws_security_group.")
    assert domain["lifecycle"]["prevent_destroy"] is True
    # access policy: only this account's principals
    policy = policy_json(doc, domain["access_policies"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Resource"] == "arn:aws:es:ap-northeast-1:123456789012:domain/iworkz-test-search/*"
    # logs: audit, slow (search, index) and error logs, encrypted, published by es.amazonaws.com
    published = {o["log_type"] for o in domain["log_publishing_options"]}
    assert published == {"AUDIT_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"}
    groups = resources(doc, "aws_cloudwatch_log_group").values()
    assert len(groups) == 4 and all(g["kms_key_id"].endswith("key/search") for g in groups)
    assert all(g["lifecycle"] == {"prevent_destroy": True} for g in groups)
    log_policy = policy_json(doc, one(doc, "aws_cloudwatch_log_resource_policy")["policy_document"])
    [allow] = log_policy["Statement"]
    assert allow["Principal"] == {"Service": "es.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert len(allow["Resource"]) == 4
    # 443 from the EKS groups only
    rules = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["referenced_security_group_id"] for r in rules) == ["sg-cluster", "sg-nodes"]
    assert all((r["from_port"], r["to_port"]) == (443, 443) for r in rules)
    # master role assumable only from the account, with MFA
    trust = policy_json(doc, one(doc, "aws_iam_role")["assume_role_policy"])
    [human] = trust["Statement"]
    assert human["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert human["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    # ... and may call the domain's REST API (the access policy delegates to IAM)
    [allow_http] = _master_policy(doc)["Statement"]
    assert allow_http["Effect"] == "Allow" and allow_http["Action"] == HTTP_ACTIONS
    assert allow_http["Resource"] == [DOMAIN_ARN, f"{DOMAIN_ARN}/*"]


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
    assert cluster["warm_enabled"] is False
    assert cluster["dedicated_master_enabled"] is False and "dedicated_master_count" not in cluster
    assert domain["ebs_options"]["iops"] == 4000 and domain["ebs_options"]["throughput"] == 250
    assert domain["advanced_security_options"]["master_user_options"]["master_user_arn"] == (
        "arn:aws:iam::123456789012:role/search-admin"
    )
    assert not resources(doc, "aws_iam_role") and not resources(doc, "aws_iam_role_policy")
    assert len(domain["vpc_options"]["subnet_ids"]) == 1  # one zone: the first subnet
    assert all(g["retention_in_days"] == 30 for g in resources(doc, "aws_cloudwatch_log_group").values())


def test_all_options_warm_cold_and_admin_service_account():
    stack = _stack()
    search = OpenSearch(
        stack,
        "search",
        _props(
            instance_type="r7g.large.search",
            master_count=5,
            warm_count=4,
            warm_instance_type="ultrawarm1.large.search",
            cold_storage=True,
            admin_service_account=ADMIN_SA,
        ),
    )
    assert (search.warm_enabled, search.cold_storage_enabled) == (True, True)
    doc = synth_stack(stack)
    cluster = one(doc, "aws_opensearch_domain")["cluster_config"]
    assert (cluster["warm_enabled"], cluster["warm_type"], cluster["warm_count"]) == (
        True,
        "ultrawarm1.large.search",
        4,
    )
    assert cluster["cold_storage_options"] == {"enabled": True}
    assert cluster["dedicated_master_count"] == 5
    # the master role: humans with MFA, and the bootstrap service account through IRSA
    role_name, role = next(iter(resources(doc, "aws_iam_role").items()))
    assert role["name"] == "iworkz-test-search-admin"
    assert one(doc, "aws_opensearch_domain")["advanced_security_options"]["master_user_options"] == {
        "master_user_arn": f"${{aws_iam_role.{role_name}.arn}}"
    }
    human, service_account = policy_json(doc, role["assume_role_policy"])["Statement"]
    assert human["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert service_account["Principal"] == {"Federated": PROVIDER_ARN}
    assert service_account["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert service_account["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:monitoring:opensearch-bootstrap",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }
    [allow_http] = _master_policy(doc)["Statement"]
    assert allow_http["Resource"] == [DOMAIN_ARN, f"{DOMAIN_ARN}/*"]


def test_warm_without_cold_storage_turns_cold_storage_off_explicitly():
    stack = _stack()
    search = OpenSearch(stack, "search", _props(warm_count=2))
    assert (search.warm_enabled, search.cold_storage_enabled) == (True, False)
    cluster = one(synth_stack(stack), "aws_opensearch_domain")["cluster_config"]
    assert (cluster["warm_type"], cluster["warm_count"]) == ("ultrawarm1.medium.search", 2)
    assert cluster["cold_storage_options"] == {"enabled": False}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"domain_name": "Search"}, "3-28 lowercase"),
        ({"domain_name": "x" * 29}, "3-28 lowercase"),
        ({"engine_version": "Elasticsearch_7.10"}, "not OpenSearch 2.x"),
        ({"instance_count": 4}, "do not spread evenly over 3 zones"),
        ({"availability_zones": 4}, "availability_zones must be 1-3"),
        ({"master_count": 2}, "master_count must be 0, 3 or 5"),
        ({"warm_count": 1}, "warm_count must be 0 \\(no UltraWarm\\) or 2-150, got 1"),
        ({"warm_count": 151}, "warm_count must be 0 \\(no UltraWarm\\) or 2-150, got 151"),
        ({"warm_count": -2}, "warm_count must be 0"),
        ({"warm_count": 2, "warm_instance_type": "r6g.large.search"}, "not an UltraWarm type"),
        ({"warm_count": 2, "master_count": 0}, "UltraWarm needs dedicated master nodes"),
        ({"warm_count": 2, "instance_type": "t3.medium.search"}, "not supported with T2/T3 data nodes"),
        ({"warm_count": 2, "instance_type": "t2.small.search"}, "not supported with T2/T3 data nodes"),
        ({"cold_storage": True}, "cold storage needs UltraWarm"),
        (
            {"master_user_arn": "arn:aws:iam::123456789012:role/x", "admin_service_account": ADMIN_SA},
            "cannot be combined with master_user_arn",
        ),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "*"}, "namespace"),
        ({"service_account": "opensearch-*"}, "service_account"),
        ({"oidc_issuer": "https://" + ISSUER}, "without the scheme"),
    ],
)
def test_fails_on_bad_admin_service_account(overrides, message):
    values = {
        "oidc_provider_arn": PROVIDER_ARN,
        "oidc_issuer": ISSUER,
        "namespace": "monitoring",
        "service_account": "opensearch-bootstrap",
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        AdminServiceAccount(**values)
