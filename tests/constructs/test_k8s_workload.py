"""K8sWorkload: ServiceAccount + Deployment + Service with hardened defaults."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

from iworkz_constructs.k8s_workload import (
    IMAGE_ATTRIBUTE,
    REPLICAS_ATTRIBUTE,
    ConfigVolume,
    EnvVar,
    HttpProbe,
    K8sWorkload,
    K8sWorkloadProps,
)
from iworkz_constructs.scheduling import Placement, Toleration
from tests.tf import HARDENED_CONTAINER, new_app, one, synth_stack

BASE = {
    "name": "api",
    "namespace": "apps",
    "image": "registry.example.com/team/api:1.2.3",
    "container_port": 8080,
    "replicas": 2,
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "200m", "memory": "256Mi"},
    "liveness": HttpProbe("/health"),
    "readiness": HttpProbe("/ready", initial_delay_seconds=5, period_seconds=5, timeout_seconds=3),
}


def _synth(**overrides):
    stack = TerraformStack(new_app(), "test")
    KubernetesProvider(stack, "kubernetes")
    workload = K8sWorkload(stack, "api", K8sWorkloadProps(**{**BASE, **overrides}))
    return workload, synth_stack(stack)


def test_all_defaults_are_hardened():
    workload, doc = _synth()
    deployment = one(doc, "kubernetes_deployment_v1")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["container"]
    assert deployment["lifecycle"]["ignore_changes"] == [IMAGE_ATTRIBUTE]
    assert deployment["spec"]["strategy"]["rolling_update"] == {"max_surge": "1", "max_unavailable": "0"}
    assert pod["security_context"] == {
        "run_as_non_root": True,
        "run_as_user": "1001",
        "run_as_group": "1001",
        "fs_group": "1001",
        "seccomp_profile": {"type": "RuntimeDefault"},
    }
    assert container["security_context"] == HARDENED_CONTAINER
    assert pod["automount_service_account_token"] is False
    assert pod["service_account_name"] == "api-sa"
    assert container["volume_mount"] == [{"name": "temp-storage", "mount_path": "/tmp"}]
    assert container["image_pull_policy"] == "Always"
    assert "toleration" not in pod and "node_selector" not in pod and "image_pull_secrets" not in pod
    account = one(doc, "kubernetes_service_account_v1")
    assert account["automount_service_account_token"] is False
    assert "annotations" not in account["metadata"]
    service = one(doc, "kubernetes_service_v1")
    assert service["metadata"]["name"] == "api-service" == workload.service_name
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["name"], p["port"], p["target_port"]) for p in service["spec"]["port"]] == [
        ("http", 80, "http"),
        ("metrics", 9090, "metrics"),
    ]
    assert container["readiness_probe"]["timeout_seconds"] == 3
    assert workload.selector_labels == {"app": "api"}


def test_all_options():
    placement = Placement({"NodeGroup": "gpu"}, (Toleration("gpu", "Equal", "true", "NoSchedule"),))
    _, doc = _synth(
        labels={"tier": "backend"},
        env=(
            EnvVar("MODE", value="production"),
            EnvVar("TOKEN", secret=("token-secret", "token")),
            EnvVar("URL", config_map=("settings", "url"), optional=True),
        ),
        max_surge=2,
        max_unavailable=1,
        service_port=8081,
        metrics_port=None,
        service_account_name="custom-sa",
        service_account_annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/api"},
        automount_service_account_token=True,
        run_as_user=2000,
        fs_group=3000,
        writable_paths=("/tmp", "/app/cache"),
        config_volumes=(ConfigVolume("settings", "/app/config"),),
        image_pull_secrets=("pull-secret",),
        image_pull_policy="IfNotPresent",
        placement=placement,
        ignore_image_changes=False,
        autoscaled=True,
        wait_for_rollout=False,
    )
    deployment = one(doc, "kubernetes_deployment_v1")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["container"]
    assert deployment["lifecycle"]["ignore_changes"] == [REPLICAS_ATTRIBUTE]
    assert deployment["wait_for_rollout"] is False
    assert deployment["metadata"]["labels"] == {"app": "api", "tier": "backend"}
    assert pod["node_selector"] == {"NodeGroup": "gpu"}
    assert pod["toleration"] == [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    assert pod["image_pull_secrets"] == [{"name": "pull-secret"}]
    assert pod["service_account_name"] == "custom-sa"
    assert pod["security_context"]["run_as_user"] == "2000" and pod["security_context"]["fs_group"] == "3000"
    assert [e["name"] for e in container["env"]] == ["MODE", "TOKEN", "URL"]
    assert container["env"][1]["value_from"]["secret_key_ref"] == {
        "name": "token-secret",
        "key": "token",
        "optional": False,
    }
    assert container["env"][2]["value_from"]["config_map_key_ref"]["optional"] is True
    assert [p["name"] for p in container["port"]] == ["http"]
    assert {m["mount_path"] for m in container["volume_mount"]} == {"/app/config", "/tmp", "/app/cache"}
    assert {v["name"] for v in pod["volume"]} == {"config-volume", "temp-storage", "writable-1"}
    service = one(doc, "kubernetes_service_v1")
    assert [(p["name"], p["port"]) for p in service["spec"]["port"]] == [("http", 8081)]
    account = one(doc, "kubernetes_service_account_v1")
    assert account["metadata"]["name"] == "custom-sa"
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/api"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image": "registry.example.com/team/api"}, "a tag is required"),
        ({"image": "registry.example.com/team/api:latest"}, "'latest' is not a release"),
        ({"image": "registry.example.com/team/api@sha256:abc"}, "a tag is required"),
        ({"name": "API"}, "DNS label"),
        ({"metrics_port": 8080}, "must differ"),
        ({"container_port": 70000}, "1-65535"),
        ({"run_as_user": 0}, "root"),
        ({"labels": {"app": "other"}}, "'app' label"),
        ({"writable_paths": ()}, "writable /tmp"),
        ({"image_pull_policy": "Sometimes"}, "pull policy"),
    ],
)
def test_fails_on_invalid_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        K8sWorkloadProps(**{**BASE, **overrides})


def test_fails_env_with_two_sources():
    with pytest.raises(ValueError, match="exactly one"):
        EnvVar("X", value="1", secret=("s", "k"))


def test_fails_relative_probe_path():
    with pytest.raises(ValueError, match="start with '/'"):
        HttpProbe("health")


def test_no_lifecycle_when_terraform_owns_image_and_replicas():
    _, doc = _synth(ignore_image_changes=False)
    assert "lifecycle" not in one(doc, "kubernetes_deployment_v1")
