"""platform-<environment>: the cluster add-ons (pinned charts, their IAM roles, the CRDs they install).

``STACKS=platform ENVS=production .venv/bin/pytest tests/test_platform.py -q``
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.tf import policy_json, resources, trusted_service_accounts

STACK = "platform-production"
NAMESPACE = "iworkz-production"
PINNED = re.compile(r"^v?\d+\.\d+\.\d+$")
AWS_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@pytest.fixture(scope="module")
def doc(stack) -> dict[str, Any]:
    return stack(STACK)


def _releases(doc) -> dict[str, dict[str, Any]]:
    return {body["name"]: body for body in resources(doc, "helm_release").values()}


def _values(release) -> dict[str, Any]:
    return yaml.safe_load(release["values"][0])


def _roles(doc) -> dict[str, dict[str, Any]]:
    return {body["name"]: body for body in resources(doc, "aws_iam_role").values()}


def _policy_of(doc, role_key: str) -> dict[str, Any]:
    """The inline policy of role ``iworkz-production-<role_key>``."""
    (role,) = [
        id for id, body in resources(doc, "aws_iam_role").items() if body["name"] == f"iworkz-production-{role_key}"
    ]
    for body in resources(doc, "aws_iam_role_policy").values():
        if body["role"] == f"${{aws_iam_role.{role}.id}}":
            return policy_json(doc, body["policy"])
    raise AssertionError(f"no inline policy for {role_key}")


# ---------------------------------------------------------------- add-ons


ISTIO = "https://istio-release.storage.googleapis.com/charts"
# release -> (chart, repository, namespace)
EXPECTED_ADDONS = {
    "aws-load-balancer-controller": ("aws-load-balancer-controller", "https://aws.github.io/eks-charts", "kube-system"),
    "cert-manager": ("cert-manager", "https://charts.jetstack.io", "cert-manager"),
    "metrics-server": ("metrics-server", "https://kubernetes-sigs.github.io/metrics-server", "kube-system"),
    "cluster-autoscaler": ("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "kube-system"),
    "nvidia-device-plugin": ("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "kube-system"),
    "external-secrets": ("external-secrets", "https://charts.external-secrets.io", "external-secrets"),
    "istio-base": ("base", ISTIO, "istio-system"),
    "istiod": ("istiod", ISTIO, "istio-system"),
    "istio-cni": ("cni", ISTIO, "istio-system"),
    "ztunnel": ("ztunnel", ISTIO, "istio-system"),
}


def test_addons_are_pinned_helm_releases(doc):
    releases = _releases(doc)
    assert set(releases) == {*EXPECTED_ADDONS, "gateway-api-crds"}
    for name, (chart, repository, namespace) in EXPECTED_ADDONS.items():
        release = releases[name]
        assert release["chart"] == chart
        assert release["repository"] == repository
        assert release["namespace"] == namespace
        assert PINNED.match(release["version"]), release["version"]
        assert release["atomic"] is True


def test_no_ingress_nginx_is_left(doc):
    """Retired by the Kubernetes project in March 2026: no release, namespace or value mentions it."""
    text = json.dumps(doc)
    assert "ingress-nginx" not in text and "nginx.ingress.kubernetes.io" not in text


def test_gateway_api_crds_come_from_the_vendored_release_before_the_controllers(doc):
    releases = _releases(doc)
    crds = releases["gateway-api-crds"]
    # a folder shipped with the stack (cdktf asset), pinned to Gateway API v1.5.0
    assert crds["chart"].startswith("assets/gateway-api-crds_") and "repository" not in crds
    assert crds["version"] == "1.5.0"
    assert crds["lifecycle"] == {"prevent_destroy": True}
    address = next(
        f"helm_release.{k}" for k, v in resources(doc, "helm_release").items() if v["name"] == "gateway-api-crds"
    )
    for controller in ("aws-load-balancer-controller", "istiod"):
        assert address in releases[controller]["depends_on"], controller


def test_the_load_balancer_controller_serves_the_gateway_api(doc):
    release = _releases(doc)["aws-load-balancer-controller"]
    assert release["version"] == "3.4.3"  # controller v3.4.3, built for Gateway API v1.5.0
    values = _values(release)
    assert values["controllerConfig"]["featureGates"] == {"ALBGatewayAPI": True, "NLBGatewayAPI": False}
    assert values["createIngressClassResource"] is False


def test_istio_runs_in_ambient_mode(doc):
    releases = _releases(doc)
    assert _values(releases["istiod"])["profile"] == "ambient"
    assert _values(releases["istio-cni"])["profile"] == "ambient"
    base = next(f"helm_release.{k}" for k, v in resources(doc, "helm_release").items() if v["name"] == "istio-base")
    istiod = next(f"helm_release.{k}" for k, v in resources(doc, "helm_release").items() if v["name"] == "istiod")
    for agent in ("istio-cni", "ztunnel"):
        assert {base, istiod} <= set(releases[agent]["depends_on"])


def test_load_balancer_controller_knows_its_cluster_and_vpc(doc):
    values = _values(_releases(doc)["aws-load-balancer-controller"])
    eks_outputs = "${data.terraform_remote_state.eks-production.outputs."
    assert values["clusterName"].startswith(eks_outputs) and values["clusterName"].endswith("name}")
    assert values["vpcId"] == eks_outputs + "eks_vpc_id}"
    assert values["region"] == "ap-northeast-1"
    statements = _policy_of(doc, "aws-load-balancer-controller")["Statement"]
    assert all(s["Action"] != "*" for s in statements)
    deletes = [s for s in statements if "ec2:DeleteSecurityGroup" in s["Action"]]
    assert deletes and all(
        s["Condition"]["Null"] == {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"} for s in deletes
    )


def _irsa(doc, release: str, path: list[str]) -> str:
    node = _values(_releases(doc)[release])
    for part in path:
        node = node[part]
    return node["annotations"]["eks.amazonaws.com/role-arn"]


@pytest.mark.parametrize(
    ("release", "path", "role_key", "namespace", "service_account"),
    [
        (
            "aws-load-balancer-controller",
            ["serviceAccount"],
            "aws-load-balancer-controller",
            "kube-system",
            "aws-load-balancer-controller",
        ),
        ("cluster-autoscaler", ["rbac", "serviceAccount"], "cluster-autoscaler", "kube-system", "cluster-autoscaler"),
    ],
)
def test_addon_roles_trust_only_their_service_account(doc, release, path, role_key, namespace, service_account):
    arn = _irsa(doc, release, path)
    logical = arn.removeprefix("${aws_iam_role.").removesuffix(".arn}")
    role = resources(doc, "aws_iam_role")[logical]
    assert role["name"] == f"iworkz-production-{role_key}"
    assert trusted_service_accounts(doc, role) == [f"system:serviceaccount:{namespace}:{service_account}"]
    values = _values(_releases(doc)[release])
    node = values
    for part in path:
        node = node[part]
    assert node["name"] == service_account


def test_cluster_autoscaler_discovers_and_scales_only_this_cluster(doc):
    values = _values(_releases(doc)["cluster-autoscaler"])
    cluster_name = values["autoDiscovery"]["clusterName"]
    assert cluster_name == "${data.terraform_remote_state.eks-production.outputs.eks_cluster_name}"
    assert values["awsRegion"] == "ap-northeast-1" and values["cloudProvider"] == "aws"
    scale, describe = _policy_of(doc, "cluster-autoscaler")["Statement"]
    assert set(scale["Action"]) == {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    assert scale["Condition"]["StringEquals"] == {
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
    }
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in describe["Action"])


def test_node_groups_carry_the_discovery_tags(stack):
    eks = stack("eks-production")
    for group in resources(eks, "aws_eks_node_group").values():
        assert group["tags"]["k8s.io/cluster-autoscaler/enabled"] == "true"
        assert any(k.startswith("k8s.io/cluster-autoscaler/iworkz-production") for k in group["tags"])


def test_external_secrets_operator_holds_no_aws_identity(doc):
    """Each namespace's SecretStore authenticates as that namespace's account (workloads, monitoring)."""
    values = _values(_releases(doc)["external-secrets"])
    assert "annotations" not in values["serviceAccount"]
    assert "iworkz-production-external-secrets" not in _roles(doc)


def test_no_object_of_a_kind_the_stack_installs(doc):
    """CRD objects live in the stacks deployed after this one: a first deploy needs no -target."""
    assert not resources(doc, "kubernetes_manifest")


def test_the_workloads_moved_out_without_being_destroyed(doc):
    from iworkz.migrations import RETIRED_WITH_INGRESS_NGINX, WORKLOADS_LEFT_PLATFORM

    removed = {block["from"]: block for block in doc["removed"]}
    # the Ingress and its ACME issuer are destroyed with ingress-nginx, not left behind unmanaged
    assert set(removed) == set(WORKLOADS_LEFT_PLATFORM) - set(RETIRED_WITH_INGRESS_NGINX)
    assert set(RETIRED_WITH_INGRESS_NGINX) <= set(WORKLOADS_LEFT_PLATFORM)
    assert all(block["lifecycle"] == {"destroy": False} for block in removed.values())
    present = {f"{kind}.{name}" for kind, bodies in doc["resource"].items() for name in bodies}
    assert not present & set(WORKLOADS_LEFT_PLATFORM)


def test_addons_keep_their_state_through_moved_blocks(doc):
    moved = {block["from"]: block["to"] for block in doc["moved"]}
    present = {f"{kind}.{name}" for kind, bodies in doc["resource"].items() for name in bodies}
    assert set(moved.values()) <= present
    assert moved["helm_release.cert-manager_release_27534094"] == "helm_release.cert-manager_chart_release_4EEFF9E9"
    assert moved["kubernetes_namespace_v1.cert-manager-namespace"].startswith("kubernetes_namespace_v1.cert-manager_")
