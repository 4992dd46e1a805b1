"""`eks-<environment>`: the seed's cluster (12.4 module "eks"), node groups, access, add-ons, Fargate."""

from __future__ import annotations

from pathlib import Path

import pytest

from iworkz.config import ConfigError, load_settings
from tests.configs import ENVIRONMENTS, write_config
from tests.tf import data_sources, one, outputs, policy_json, resources

NETWORK_STATE = "data.terraform_remote_state.network-{env}.outputs."
ADDONS = {
    "vpc-cni",
    "coredns",
    "kube-proxy",
    "aws-ebs-csi-driver",
    "eks-pod-identity-agent",
    "amazon-cloudwatch-observability",  # Container Insights (tests/test_telemetry.py)
}


@pytest.fixture(scope="module")
def eks(stack):
    return stack("eks-production")


def _ref(resource_type: str, logical_id: str, attribute: str) -> str:
    return f"${{{resource_type}.{logical_id}.{attribute}}}"


def _id_of(doc, resource_type: str, **match) -> str:
    found = [k for k, v in resources(doc, resource_type).items() if all(v.get(a) == b for a, b in match.items())]
    assert len(found) == 1, f"{resource_type} {match}: {found}"
    return found[0]


def _node_groups(doc) -> dict[str, dict]:
    return {body["node_group_name"]: body for body in resources(doc, "aws_eks_node_group").values()}


def _launch_template(doc, group: dict) -> dict:
    logical_id = group["launch_template"]["id"].split(".")[1]
    return resources(doc, "aws_launch_template")[logical_id]


# --- cluster ---------------------------------------------------------------------------------


def test_cluster_is_named_versioned_and_in_the_private_subnets(eks, settings):
    config = settings.environments["production"].eks
    cluster = one(eks, "aws_eks_cluster")
    assert cluster["name"] == "iworkz-production"
    assert cluster["version"] == config.kubernetes_version == "1.35"
    subnets = cluster["vpc_config"]["subnet_ids"]
    assert len(subnets) == len(settings.environments["production"].network.availability_zones)
    remote = NETWORK_STATE.format(env="production")
    assert subnets == [f"${{element({remote}private_subnet_ids, {zone})}}" for zone in range(len(subnets))]


def test_network_values_come_from_the_network_stack_remote_state(eks):
    state = data_sources(eks, "terraform_remote_state")["network-production"]
    assert state["backend"] == "s3"
    assert state["config"]["key"] == "production/network.tfstate"
    prefix = "${" + NETWORK_STATE.format(env="production")
    assert one(eks, "aws_security_group")["vpc_id"].startswith(prefix)
    profile = one(eks, "aws_eks_fargate_profile")
    assert profile["subnet_ids"] == one(eks, "aws_eks_cluster")["vpc_config"]["subnet_ids"]
    for group in _node_groups(eks).values():
        assert group["subnet_ids"] == profile["subnet_ids"]


def test_endpoints_private_and_allow_listed(eks, settings):
    vpc_config = one(eks, "aws_eks_cluster")["vpc_config"]
    # The secure default: the private endpoint only (deployments run from inside the VPC).
    assert vpc_config["endpoint_private_access"] is True
    assert vpc_config["endpoint_public_access"] is False
    assert "public_access_cidrs" not in vpc_config
    assert settings.environments["production"].eks.public_access_cidrs == []


def test_secrets_encrypted_with_a_rotating_customer_managed_key(eks):
    cluster = one(eks, "aws_eks_cluster")
    key_id = cluster["encryption_config"]["provider"]["key_arn"].split(".")[1]
    key = resources(eks, "aws_kms_key")[key_id]
    assert key["enable_key_rotation"] is True
    assert cluster["encryption_config"]["resources"] == ["secrets"]
    aliases = {a["name"] for a in resources(eks, "aws_kms_alias").values()}
    assert {"alias/iworkz-production-eks", "alias/iworkz-production-eks-nodes"} <= aliases


def test_all_control_plane_logs_go_to_an_encrypted_log_group_made_first(eks, settings):
    cluster = one(eks, "aws_eks_cluster")
    assert sorted(cluster["enabled_cluster_log_types"]) == sorted(
        ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    group_id = _id_of(eks, "aws_cloudwatch_log_group", name="/aws/eks/iworkz-production/cluster")
    group = resources(eks, "aws_cloudwatch_log_group")[group_id]
    assert group["retention_in_days"] == settings.environments["production"].eks.log_retention_days
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    assert f"aws_cloudwatch_log_group.{group_id}" in cluster["depends_on"]


def test_cluster_is_protected(eks):
    cluster = one(eks, "aws_eks_cluster")
    assert cluster["deletion_protection"] is True
    assert cluster["lifecycle"]["prevent_destroy"] is True


# --- access ----------------------------------------------------------------------------------


def test_access_entries_replace_the_aws_auth_configmap(eks, settings):
    cluster = one(eks, "aws_eks_cluster")
    assert cluster["access_config"] == {
        "authentication_mode": "API",
        "bootstrap_cluster_creator_admin_permissions": False,
    }
    entries = {e["user_name"]: e for e in resources(eks, "aws_eks_access_entry").values()}
    configured = settings.environments["production"].eks.access
    assert sorted(entries) == sorted(p.username for p in configured) == ["cluster-admin", "devops"]
    admin_role = _id_of(eks, "aws_iam_role", name="iworkz-production-cluster-admin")
    assert entries["cluster-admin"]["principal_arn"] == _ref("aws_iam_role", admin_role, "arn")
    account = "${data.aws_caller_identity.current.account_id}"
    assert entries["devops"]["principal_arn"] == f"arn:aws:iam::{account}:user/devops"


def test_access_policies_are_associated_cluster_wide(eks, settings):
    entries = resources(eks, "aws_eks_access_entry")
    associations = list(resources(eks, "aws_eks_access_policy_association").values())
    assert len(associations) == len(entries)
    by_entry = {a["principal_arn"].split(".")[1]: a for a in associations}
    policies = {p.username: p.policy for p in settings.environments["production"].eks.access}
    for logical_id, entry in entries.items():
        association = by_entry[logical_id]
        assert association["principal_arn"] == _ref("aws_eks_access_entry", logical_id, "principal_arn")
        assert association["access_scope"] == {"type": "cluster"}
        assert association["policy_arn"] == (f"arn:aws:eks::aws:cluster-access-policy/{policies[entry['user_name']]}")
    assert {a["policy_arn"].rsplit("/", 1)[1] for a in associations} == {"AmazonEKSClusterAdminPolicy"}


def test_cluster_admin_role_needs_mfa(eks):
    role = resources(eks, "aws_iam_role")[_id_of(eks, "aws_iam_role", name="iworkz-production-cluster-admin")]
    statement = policy_json(eks, role["assume_role_policy"])["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"}
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


# --- IRSA and add-ons ------------------------------------------------------------------------


def test_oidc_provider_for_irsa(eks):
    cluster_id = next(iter(resources(eks, "aws_eks_cluster")))
    provider = one(eks, "aws_iam_openid_connect_provider")
    assert provider["url"] == _ref("aws_eks_cluster", cluster_id, "identity[0].oidc[0].issuer")
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_managed_addons(eks):
    addons = {a["addon_name"]: a for a in resources(eks, "aws_eks_addon").values()}
    assert set(addons) == ADDONS
    versions = data_sources(eks, "aws_eks_addon_version")
    for name, addon in addons.items():
        version_id = addon["addon_version"].split(".")[2]
        assert versions[version_id]["addon_name"] == name and versions[version_id]["most_recent"] is True
        assert addon["resolve_conflicts_on_update"] == "OVERWRITE"


def test_addon_order_around_the_node_groups(eks):
    addons = {a["addon_name"]: (k, a) for k, a in resources(eks, "aws_eks_addon").items()}
    groups = [f"aws_eks_node_group.{k}" for k in resources(eks, "aws_eks_node_group")]
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert sorted(addons[name][1]["depends_on"]) == sorted(groups)
    for group in resources(eks, "aws_eks_node_group").values():
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert f"aws_eks_addon.{addons[name][0]}" in group["depends_on"]


def _role_by_ref(doc, ref: str) -> tuple[str, dict]:
    logical_id = ref.split(".")[1]
    return logical_id, resources(doc, "aws_iam_role")[logical_id]


def test_ebs_csi_driver_runs_on_its_own_irsa_role_with_kms_permissions(eks):
    addon = next(a for a in resources(eks, "aws_eks_addon").values() if a["addon_name"] == "aws-ebs-csi-driver")
    role_id, role = _role_by_ref(eks, addon["service_account_role_arn"])
    assert role["name"] == "iworkz-production-ebs-csi-driver"
    (trust,) = policy_json(eks, role["assume_role_policy"])["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    claims = {key.rsplit(":", 1)[1]: value for key, value in trust["Condition"]["StringEquals"].items()}
    assert claims == {"sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa", "aud": "sts.amazonaws.com"}
    attached = [
        a["policy_arn"]
        for a in resources(eks, "aws_iam_role_policy_attachment").values()
        if a["role"] == _ref("aws_iam_role", role_id, "name")
    ]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    inline = next(
        p for p in resources(eks, "aws_iam_role_policy").values() if p["role"] == _ref("aws_iam_role", role_id, "id")
    )
    statements = {s["Sid"]: s for s in policy_json(eks, inline["policy"])["Statement"]}
    node_key = next(k for k in resources(eks, "aws_kms_key") if "node-volume-key" in k)
    for statement in statements.values():
        assert statement["Resource"] == _ref("aws_kms_key", node_key, "arn")
    assert "kms:CreateGrant" in statements["GrantsForEbs"]["Action"]
    assert statements["GrantsForEbs"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_vpc_cni_runs_on_irsa_and_nodes_hold_only_node_policies(eks):
    addon = next(a for a in resources(eks, "aws_eks_addon").values() if a["addon_name"] == "vpc-cni")
    _, cni_role = _role_by_ref(eks, addon["service_account_role_arn"])
    (trust,) = policy_json(eks, cni_role["assume_role_policy"])["Statement"]
    subjects = [value for key, value in trust["Condition"]["StringEquals"].items() if key.endswith(":sub")]
    assert subjects == ["system:serviceaccount:kube-system:aws-node"]
    node_role = _id_of(eks, "aws_iam_role", name="iworkz-production-eks-node")
    node_policies = sorted(
        a["policy_arn"].rsplit("/", 1)[1]
        for a in resources(eks, "aws_iam_role_policy_attachment").values()
        if a["role"] == _ref("aws_iam_role", node_role, "name")
    )
    assert node_policies == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonSSMManagedInstanceCore",
    ]
    for group in _node_groups(eks).values():
        assert group["node_role_arn"] == _ref("aws_iam_role", node_role, "arn")


# --- node groups -----------------------------------------------------------------------------


def test_seed_node_groups_in_production(eks):
    groups = _node_groups(eks)
    assert sorted(groups) == ["compute-optimized", "general", "memory-optimized"]
    general, gpu, memory = groups["general"], groups["compute-optimized"], groups["memory-optimized"]
    assert general["instance_types"] == ["m6i.large", "m6i.xlarge"]
    assert general["scaling_config"] == {"min_size": 3, "max_size": 20, "desired_size": 6}
    assert gpu["scaling_config"] == {"min_size": 0, "max_size": 10, "desired_size": 2}
    assert gpu["ami_type"] == "AL2023_x86_64_NVIDIA"
    assert all(t.split(".")[0] in ("g5", "g6") for t in gpu["instance_types"])
    assert memory["instance_types"] == ["r6i.xlarge", "r6i.2xlarge"]
    assert memory["scaling_config"] == {"min_size": 0, "max_size": 5, "desired_size": 1}


def test_taints_and_labels_per_node_group(eks):
    groups = _node_groups(eks)
    assert "taint" not in groups["general"]
    assert groups["general"]["labels"] == {"NodeGroup": "general"}
    assert groups["compute-optimized"]["labels"] == {"NodeGroup": "compute-optimized", "Workload": "ai-ml"}
    assert groups["compute-optimized"]["taint"] == [
        {"key": "compute-optimized", "value": "true", "effect": "NO_SCHEDULE"},
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"},
    ]
    assert groups["memory-optimized"]["labels"] == {"NodeGroup": "memory-optimized", "Workload": "data-processing"}
    assert groups["memory-optimized"]["taint"] == [
        {"key": "memory-optimized", "value": "true", "effect": "NO_SCHEDULE"}
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_node_groups_follow_the_configuration(stack, settings, env):
    doc = stack(f"eks-{env}")
    config = settings.environments[env].eks
    groups = _node_groups(doc)
    assert sorted(groups) == sorted(config.node_groups)
    for name, group in groups.items():
        expected = config.node_groups[name]
        assert group["scaling_config"] == {
            "min_size": expected.min_size,
            "max_size": expected.max_size,
            "desired_size": expected.desired_size,
        }
        assert group["instance_types"] == expected.instance_types
        assert group["ami_type"] == expected.ami_type
        assert group.get("labels", {}) == expected.labels
        assert [t["key"] for t in group.get("taint", [])] == [t.key for t in expected.taints]
        assert group["lifecycle"]["ignore_changes"] == ["scaling_config[0].desired_size"]
        assert group["update_config"] == {"max_unavailable_percentage": expected.max_unavailable_percentage}
        template = _launch_template(doc, group)
        assert template["block_device_mappings"][0]["ebs"]["volume_size"] == expected.disk_size_gb


def test_staging_and_dev_are_smaller(stack):
    production = _node_groups(stack("eks-production"))
    for env in ("staging", "dev"):
        groups = _node_groups(stack(f"eks-{env}"))
        for name, group in groups.items():
            assert group["scaling_config"]["max_size"] < production[name]["scaling_config"]["max_size"]
        assert one(stack(f"eks-{env}"), "aws_eks_cluster")["name"] == f"iworkz-{env}"


def test_launch_templates_require_imdsv2_and_encrypt_gp3_root_volumes(eks, settings):
    # Pods stay away from IMDS (checkov CKV_AWS_341); the add-ons get region and VPC ID explicitly.
    assert settings.environments["production"].eks.metadata_hop_limit == 1
    node_sg = next(iter(resources(eks, "aws_security_group")))
    node_key = next(k for k in resources(eks, "aws_kms_key") if "node-volume-key" in k)
    templates = resources(eks, "aws_launch_template")
    assert len(templates) == len(_node_groups(eks))
    for group in _node_groups(eks).values():
        template = _launch_template(eks, group)
        assert template["metadata_options"] == {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": settings.environments["production"].eks.metadata_hop_limit,
            "instance_metadata_tags": "disabled",
        }
        (device,) = template["block_device_mappings"]
        assert device["device_name"] == "/dev/xvda"
        assert device["ebs"]["volume_type"] == "gp3"
        assert device["ebs"]["encrypted"] == "true"
        assert device["ebs"]["kms_key_id"] == _ref("aws_kms_key", node_key, "arn")
        assert template["vpc_security_group_ids"] == [_ref("aws_security_group", node_sg, "id")]
        assert {t["resource_type"] for t in template["tag_specifications"]} == {
            "instance",
            "volume",
            "network-interface",
        }


def test_node_volume_key_admits_the_auto_scaling_service_linked_role(eks):
    key = next(v for k, v in resources(eks, "aws_kms_key").items() if "node-volume-key" in k)
    principals = [s["Principal"] for s in policy_json(eks, key["policy"])["Statement"]]
    role = (
        "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/aws-service-role/"
        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    assert principals.count({"AWS": role}) == 2


def test_cluster_autoscaler_tags(eks):
    for name, group in _node_groups(eks).items():
        tags = group["tags"]
        assert tags["k8s.io/cluster-autoscaler/enabled"] == "true"
        assert tags["k8s.io/cluster-autoscaler/iworkz-production"] == "owned"
        for key, value in group.get("labels", {}).items():
            assert tags[f"k8s.io/cluster-autoscaler/node-template/label/{key}"] == value, name
    gpu = _node_groups(eks)["compute-optimized"]["tags"]
    assert gpu["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    asg_tags = {t["tag"]["key"] for t in resources(eks, "aws_autoscaling_group_tag").values()}
    assert "k8s.io/cluster-autoscaler/node-template/taint/compute-optimized" in asg_tags


def test_node_security_group_is_exposed_and_not_open_to_the_vpc(eks):
    sg_id = next(iter(resources(eks, "aws_security_group")))
    node_sg = _ref("aws_security_group", sg_id, "id")
    assert outputs(eks)["eks_node_security_group_id"]["value"] == node_sg
    ingress = [
        r for r in resources(eks, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == node_sg
    ]
    assert ingress and all("cidr_ipv4" not in r for r in ingress)


# --- Fargate and outputs ---------------------------------------------------------------------


def test_fargate_profile(eks, settings):
    profile = one(eks, "aws_eks_fargate_profile")
    assert profile["fargate_profile_name"] == "default"
    assert profile["selector"] == [
        {"namespace": ns} for ns in settings.environments["production"].eks.fargate_namespaces
    ]
    assert profile["selector"] == [{"namespace": "fargate-workloads"}]
    _, role = _role_by_ref(eks, profile["pod_execution_role_arn"])
    assert policy_json(eks, role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "eks-fargate-pods.amazonaws.com"
    }
    attached = {a["policy_arn"] for a in resources(eks, "aws_iam_role_policy_attachment").values()}
    assert "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy" in attached


def test_outputs(eks):
    cluster_id = next(iter(resources(eks, "aws_eks_cluster")))
    out = outputs(eks)
    assert out["eks_cluster_endpoint"]["value"] == _ref("aws_eks_cluster", cluster_id, "endpoint")
    assert out["eks_cluster_name"]["value"] == _ref("aws_eks_cluster", cluster_id, "name")
    assert out["eks_cluster_certificate_authority_data"]["value"] == _ref(
        "aws_eks_cluster", cluster_id, "certificate_authority[0].data"
    )
    assert out["eks_cluster_security_group_id"]["value"] == _ref(
        "aws_eks_cluster", cluster_id, "vpc_config[0].cluster_security_group_id"
    )
    assert out["eks_oidc_provider_arn"]["value"].startswith("${aws_iam_openid_connect_provider.")


# --- bad input -------------------------------------------------------------------------------


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir)
    return caught.value.render()


GPU = "compute-optimized"
BAD_INPUTS = [
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"min_size": 30}}}},
        ["production.yaml", "eks.node_groups.general.min_size", "30", "must not exceed max_size (20)"],
        id="min-above-max",
    ),
    pytest.param(
        "staging",
        {"eks": {"node_groups": {"general": {"desired_size": 50}}}},
        ["staging.yaml", "eks.node_groups.general.desired_size", "50", "within [min_size, max_size] = [2, 6]"],
        id="desired-above-max",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"desired_size": 1}}}},
        ["production.yaml", "eks.node_groups.general.desired_size", "1", "within [min_size, max_size]"],
        id="desired-below-min",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {GPU: {"instance_types": ["c6i.xlarge"]}}}},
        ["production.yaml", f"eks.node_groups.{GPU}.instance_types", "c6i.xlarge", "GPU node group needs GPU"],
        id="gpu-group-without-gpu-instances",
    ),
    pytest.param(
        "dev",
        {"eks": {"node_groups": {GPU: {"ami_type": "AL2023_x86_64_STANDARD"}}}},
        ["dev.yaml", f"eks.node_groups.{GPU}.ami_type", "AL2023_x86_64_STANDARD", "NVIDIA AMI type"],
        id="gpu-group-without-nvidia-ami",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"ami_type": "AL2023_x86_64_NVIDIA"}}}},
        ["production.yaml", "eks.node_groups.general.gpu", "False", "belongs to a GPU node group"],
        id="nvidia-ami-on-a-cpu-group",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {GPU: {"taints": [{"key": "gpu", "value": "true", "effect": "NO_SCHEDULE"}]}}}},
        ["production.yaml", f"eks.node_groups.{GPU}.taints[0].effect", "NO_SCHEDULE", "'NoSchedule'"],
        id="unknown-taint-effect",
    ),
    pytest.param(
        "production",
        {"eks": {"kubernetes_version": "1.28"}},
        ["production.yaml", "eks.kubernetes_version", "1.28", "past the end of EKS support"],
        id="end-of-life-version",
    ),
    pytest.param(
        "staging",
        {"eks": {"kubernetes_version": "1.99"}},
        ["staging.yaml", "eks.kubernetes_version", "1.99", "not a version of EKS in the calendar"],
        id="unknown-version",
    ),
    pytest.param(
        "production",
        {"eks": {"public_access_cidrs": ["0.0.0.0/0"]}},
        ["production.yaml", "eks.public_access_cidrs[0]", "0.0.0.0/0", "must not be 0.0.0.0/0"],
        id="public-endpoint-open-in-production",
    ),
    pytest.param(
        "production",
        {
            "eks": {
                "node_groups": {
                    "Compute_GPU": {"instance_types": ["g5.xlarge"], "min_size": 0, "max_size": 1, "desired_size": 0}
                }
            }
        },
        ["production.yaml", "eks.node_groups.Compute_GPU", "lowercase letters, digits and hyphens"],
        id="bad-node-group-name",
    ),
    pytest.param(
        "production",
        {"eks": {"metadata_hop_limit": 3}},
        ["production.yaml", "eks.metadata_hop_limit", "3", "less than or equal to 2"],
        id="imds-hop-limit-too-high",
    ),
    pytest.param(
        "production",
        {"eks": {"access": [{"arn": "arn:aws:iam::{account_id}:group/admins", "username": "admins"}]}},
        ["production.yaml", "eks.access[0].arn", "group/admins"],
        id="access-principal-not-role-or-user",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_input(tmp_path, env, patch, expected):
    message = _error(write_config(tmp_path, env, patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_an_open_public_endpoint_is_refused_in_every_environment(tmp_path):
    patch = {"eks": {"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]}}
    with pytest.raises(ConfigError, match=r"must not be 0\.0\.0\.0/0"):
        load_settings(write_config(tmp_path, "dev", patch))


def test_production_may_open_the_public_endpoint_to_real_ranges(tmp_path):
    patch = {"eks": {"endpoint_public_access": True, "public_access_cidrs": ["52.95.110.0/24"]}}
    settings = load_settings(write_config(tmp_path, "production", patch))
    assert settings.environments["production"].eks.public_access_cidrs == ["52.95.110.0/24"]
