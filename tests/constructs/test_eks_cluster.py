"""EksCluster: control plane, keys, logs, access entries, OIDC, node role and security group."""

from __future__ import annotations

import json

import pytest
from cdktf import App, TerraformOutput, TerraformStack, Token
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.eks_cluster import (
    CONTROL_PLANE_LOG_TYPES,
    AccessPrincipal,
    EksCluster,
    EksClusterProps,
)
from tests.tf import new_app, one, policy_json, resources, synth_stack

ACCOUNT = "123456789012"
AUTOSCALING_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
)


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _props(**overrides) -> EksClusterProps:
    values = {
        "name": "iworkz-test",
        "kubernetes_version": "1.34",
        "vpc_id": "vpc-1",
        "vpc_cidr": "10.9.0.0/16",
        "subnet_ids": ("subnet-a", "subnet-b", "subnet-c"),
        "account_id": ACCOUNT,
        "region": "ap-northeast-1",
    }
    return EksClusterProps(**{**values, **overrides})


@pytest.fixture(scope="module")
def defaults() -> tuple[EksCluster, dict]:
    """The cluster with every default, and its synthesised stack (read by several tests)."""
    stack = _stack()
    cluster = EksCluster(stack, "cluster", _props())
    return cluster, synth_stack(stack)


def _by_name(doc, resource_type, key="name"):
    return {body[key]: body for body in resources(doc, resource_type).values()}


def test_defaults_are_private_encrypted_logged_and_protected(defaults):
    cluster, doc = defaults
    for attribute in (
        "name",
        "arn",
        "endpoint",
        "certificate_authority_data",
        "version",
        "cluster_security_group_id",
        "node_security_group_id",
        "oidc_provider_arn",
        "oidc_issuer",
    ):
        assert Token.is_unresolved(getattr(cluster, attribute)), attribute
    assert cluster.admin_role_arn is None
    body = one(doc, "aws_eks_cluster")
    assert body["name"] == "iworkz-test" and body["version"] == "1.34"
    assert body["vpc_config"]["endpoint_private_access"] is True
    assert body["vpc_config"]["endpoint_public_access"] is False
    assert "public_access_cidrs" not in body["vpc_config"]
    assert body["vpc_config"]["subnet_ids"] == ["subnet-a", "subnet-b", "subnet-c"]
    assert body["access_config"] == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}
    assert body["enabled_cluster_log_types"] == list(CONTROL_PLANE_LOG_TYPES)
    assert len(CONTROL_PLANE_LOG_TYPES) == 5
    assert body["deletion_protection"] is True
    assert body["lifecycle"]["prevent_destroy"] is True
    assert body["upgrade_policy"] == {"support_type": "STANDARD"}

    keys = resources(doc, "aws_kms_key")
    assert len(keys) == 2 and all(k["enable_key_rotation"] for k in keys.values())
    secrets_key = next(name for name in keys if "secrets-key" in name)
    assert body["encryption_config"] == {
        "provider": {"key_arn": f"${{aws_kms_key.{secrets_key}.arn}}"},
        "resources": ["secrets"],
    }

    log_group_id, log_group = next(iter(resources(doc, "aws_cloudwatch_log_group").items()))
    assert log_group["name"] == "/aws/eks/iworkz-test/cluster"
    assert log_group["retention_in_days"] == 90
    assert log_group["lifecycle"] == {"prevent_destroy": True}
    assert log_group["kms_key_id"] == f"${{aws_kms_key.{secrets_key}.arn}}"
    assert f"aws_cloudwatch_log_group.{log_group_id}" in body["depends_on"]
    logs_statement = policy_json(doc, keys[secrets_key]["policy"])["Statement"][1]
    assert logs_statement["Principal"] == {"Service": "logs.ap-northeast-1.amazonaws.com"}

    oidc = one(doc, "aws_iam_openid_connect_provider")
    assert oidc["client_id_list"] == ["sts.amazonaws.com"]
    assert oidc["url"].endswith(".identity[0].oidc[0].issuer}")
    assert "thumbprint_list" not in oidc

    assert resources(doc, "aws_eks_access_entry") == {}
    assert resources(doc, "aws_eks_addon") == {}


def test_cluster_role_can_use_the_secrets_key(defaults):
    _, doc = defaults
    roles = _by_name(doc, "aws_iam_role")
    trust = policy_json(doc, roles["iworkz-test-eks-cluster"]["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "eks.amazonaws.com"}
    policies = [policy_json(doc, p["policy"]) for p in resources(doc, "aws_iam_role_policy").values()]
    encryption = next(p for p in policies if p["Statement"][0]["Sid"] == "EncryptKubernetesSecrets")
    assert encryption["Statement"][0]["Resource"].startswith("${aws_kms_key.cluster_secrets-key")
    attachments = [a["policy_arn"] for a in resources(doc, "aws_iam_role_policy_attachment").values()]
    assert "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy" in attachments


def test_node_role_holds_only_what_nodes_need_and_cni_runs_on_irsa(defaults):
    cluster, doc = defaults
    assert cluster.cni_role_arn is not None
    roles = _by_name(doc, "aws_iam_role")
    node_role_ref = next(k for k, v in resources(doc, "aws_iam_role").items() if v["name"] == "iworkz-test-eks-node")
    node_policies = sorted(
        a["policy_arn"].rsplit("/", 1)[1]
        for a in resources(doc, "aws_iam_role_policy_attachment").values()
        if a["role"] == f"${{aws_iam_role.{node_role_ref}.name}}"
    )
    assert node_policies == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonSSMManagedInstanceCore",
    ]
    # The trust policy keys on the issuer (an expression).
    (cni_trust,) = policy_json(doc, roles["iworkz-test-vpc-cni"]["assume_role_policy"])["Statement"]
    assert cni_trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    (subject,) = [key for key in cni_trust["Condition"]["StringEquals"] if key.endswith(":sub")]
    assert '.identity[0].oidc[0].issuer, "https://", "")}:sub' in subject
    assert cni_trust["Condition"]["StringEquals"][subject] == "system:serviceaccount:kube-system:aws-node"


def test_node_role_carries_cni_policy_without_irsa():
    stack = _stack()
    cluster = EksCluster(stack, "cluster", _props(cni_on_irsa=False))
    assert cluster.cni_role_arn is None
    doc = synth_stack(stack)
    assert "iworkz-test-vpc-cni" not in _by_name(doc, "aws_iam_role")
    attached = [a["policy_arn"] for a in resources(doc, "aws_iam_role_policy_attachment").values()]
    assert "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" in attached


def test_node_volume_key_lets_auto_scaling_launch_encrypted_nodes(defaults):
    _, doc = defaults
    key = next(v for k, v in resources(doc, "aws_kms_key").items() if "node-volume-key" in k)
    statements = {s["Sid"]: s for s in policy_json(doc, key["policy"])["Statement"]}
    assert statements["AutoScalingUsesKey"]["Principal"] == {"AWS": AUTOSCALING_ROLE}
    assert "kms:GenerateDataKey*" in statements["AutoScalingUsesKey"]["Action"]
    assert statements["AutoScalingGrantsToEbs"]["Action"] == "kms:CreateGrant"
    assert statements["AutoScalingGrantsToEbs"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_node_security_group_is_least_privilege(defaults):
    _, doc = defaults
    group_id, group = next(iter(resources(doc, "aws_security_group").items()))
    assert group["vpc_id"] == "vpc-1"
    assert group["tags"]["kubernetes.io/cluster/iworkz-test"] == "owned"
    assert "ingress" not in group and "egress" not in group
    node_sg = f"${{aws_security_group.{group_id}.id}}"
    ingress = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    egress = resources(doc, "aws_vpc_security_group_egress_rule").values()
    node_ingress = [r for r in ingress if r["security_group_id"] == node_sg]
    # Nothing reaches the nodes from a CIDR: only the nodes themselves and the cluster security group.
    assert all("cidr_ipv4" not in r for r in node_ingress)
    from_cluster = sorted(
        (r["ip_protocol"], r["from_port"]) for r in node_ingress if r["referenced_security_group_id"] != node_sg
    )
    assert from_cluster == [("tcp", p) for p in (53, 443, 4443, 6443, 8443, 9443, 10250)] + [("udp", 53)]
    assert [r["ip_protocol"] for r in node_ingress if r["referenced_security_group_id"] == node_sg] == ["-1"]
    to_api = [r for r in ingress if r["referenced_security_group_id"] == node_sg and r["security_group_id"] != node_sg]
    assert [(r["ip_protocol"], r["from_port"], r["to_port"]) for r in to_api] == [("tcp", 443, 443)]
    assert to_api[0]["security_group_id"].endswith(".vpc_config[0].cluster_security_group_id}")
    outside = [r for r in egress if r.get("cidr_ipv4") == "0.0.0.0/0"]
    assert [(r["ip_protocol"], r["from_port"], r["to_port"]) for r in outside] == [("tcp", 443, 443)]
    assert any(r.get("cidr_ipv4") == "10.9.0.0/16" for r in egress)


def test_all_options():
    stack = _stack()
    cluster = EksCluster(
        stack,
        "cluster",
        _props(
            endpoint_public_access=True,
            public_access_cidrs=("203.0.113.0/24",),
            log_retention_days=365,
            log_types=("api", "audit"),
            access=(
                AccessPrincipal("arn:aws:iam::{account_id}:role/iworkz-test-cluster-admin", "cluster-admin"),
                AccessPrincipal("arn:aws:iam::{account_id}:user/devops", "devops", "AmazonEKSViewPolicy"),
            ),
            admin_role_name="iworkz-test-cluster-admin",
            node_ports_from_control_plane=(10250,),
            node_internet_egress_ports=(443, 587),
            deletion_protection=False,
            prevent_destroy=False,
        ),
    )
    assert cluster.admin_role_arn is not None
    cluster.add_addon("coredns", configuration_values={"replicaCount": 3})
    doc = synth_stack(stack)
    body = one(doc, "aws_eks_cluster")
    assert body["vpc_config"]["endpoint_public_access"] is True
    assert body["vpc_config"]["public_access_cidrs"] == ["203.0.113.0/24"]
    assert body["enabled_cluster_log_types"] == ["api", "audit"]
    assert body["deletion_protection"] is False
    assert body.get("lifecycle", {}).get("prevent_destroy") in (None, False)
    assert one(doc, "aws_cloudwatch_log_group")["retention_in_days"] == 365

    admin_ref, admin = next((k, v) for k, v in resources(doc, "aws_iam_role").items() if "admin-role" in k)
    assert admin["name"] == "iworkz-test-cluster-admin"
    trust = policy_json(doc, admin["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}

    entries = _by_name(doc, "aws_eks_access_entry", "user_name")
    assert entries["cluster-admin"]["principal_arn"] == f"${{aws_iam_role.{admin_ref}.arn}}"
    assert entries["devops"]["principal_arn"] == f"arn:aws:iam::{ACCOUNT}:user/devops"
    assert all(e["type"] == "STANDARD" for e in entries.values())
    associations = list(resources(doc, "aws_eks_access_policy_association").values())
    policies = sorted(a["policy_arn"].rsplit("/", 1)[1] for a in associations)
    assert policies == ["AmazonEKSClusterAdminPolicy", "AmazonEKSViewPolicy"]
    assert all(a["access_scope"] == {"type": "cluster"} for a in associations)
    assert all(a["principal_arn"].startswith("${aws_eks_access_entry.") for a in associations)

    egress = resources(doc, "aws_vpc_security_group_egress_rule").values()
    assert sorted(r["from_port"] for r in egress if r.get("cidr_ipv4") == "0.0.0.0/0") == [443, 587]
    addon = one(doc, "aws_eks_addon")
    assert addon["addon_name"] == "coredns"
    assert json.loads(addon["configuration_values"]) == {"replicaCount": 3}
    assert addon["addon_version"].startswith("${data.aws_eks_addon_version.")
    version = next(iter(doc["data"]["aws_eks_addon_version"].values()))
    assert version["most_recent"] is True and version["addon_name"] == "coredns"


def test_oidc_issuer_travels_to_another_stack(tmp_path):
    app = App(outdir=str(tmp_path))
    producer = TerraformStack(app, "producer")
    AwsProvider(producer, "aws", region="ap-northeast-1")
    cluster = EksCluster(producer, "cluster", _props())
    consumer = TerraformStack(app, "consumer")
    AwsProvider(consumer, "aws", region="ap-northeast-1")
    TerraformOutput(consumer, "issuer", value=cluster.oidc_issuer)
    TerraformOutput(consumer, "endpoint", value=cluster.endpoint)
    app.synth()
    doc = json.loads((tmp_path / "stacks" / "consumer" / "cdk.tf.json").read_text())
    issuer = doc["output"]["issuer"]["value"]
    assert "data.terraform_remote_state." in issuer and "https://" in issuer and "replace(" in issuer
    assert "data.terraform_remote_state." in doc["output"]["endpoint"]["value"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "1bad"}, "cluster name"),
        ({"subnet_ids": ("subnet-a",)}, "at least two availability zones"),
        ({"endpoint_public_access": True}, "allow-list"),
        ({"endpoint_public_access": True, "public_access_cidrs": ("0.0.0.0/0",)}, "open_public_endpoint_reason"),
        ({"log_types": ("api", "kubelet")}, "unknown log types"),
        ({"log_types": ()}, "cannot be switched off"),
        (
            {
                "access": (
                    AccessPrincipal("arn:aws:iam::{account_id}:user/a", "same"),
                    AccessPrincipal("arn:aws:iam::{account_id}:user/b", "same"),
                )
            },
            "distinct",
        ),
        ({"node_internet_egress_ports": (70000,)}, "out of range"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)


def test_open_public_endpoint_needs_a_reason():
    props = _props(
        endpoint_public_access=True,
        public_access_cidrs=("0.0.0.0/0",),
        open_public_endpoint_reason="throwaway sandbox without VPN",
    )
    assert props.public_access_cidrs == ("0.0.0.0/0",)


@pytest.mark.parametrize(
    ("arn", "policy", "message"),
    [
        ("arn:aws:iam::{account_id}:group/admins", "AmazonEKSClusterAdminPolicy", "not an IAM role or user"),
        ("arn:aws:iam::{account_id}:user/devops", "system:masters", "access policy"),
    ],
)
def test_fails_on_bad_access_principal(arn, policy, message):
    with pytest.raises(ValueError, match=message):
        AccessPrincipal(arn, "devops", policy)
