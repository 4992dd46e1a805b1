"""workloads-<environment>: the seed's 12.2 workloads, their secrets, scheduling consistency, bad input.

``STACKS=workloads ENVS=production .venv/bin/pytest tests/test_workloads.py -q``
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from iworkz.config import ConfigError, load_settings
from iworkz_constructs.external_secret import REMOTE_REF_DEFAULTS
from iworkz_constructs.k8s_workload import IMAGE_ATTRIBUTE, REPLICAS_ATTRIBUTE
from iworkz_constructs.postgres import POSTGRES_PORT
from iworkz_constructs.redis import REDIS_PORT
from iworkz_constructs.scheduling import Toleration, schedulable_node_groups, useless_tolerations
from tests.configs import DELETE, ENVIRONMENTS, write_config
from tests.tf import HARDENED_CONTAINER, one, policy_json, resources, trusted_service_accounts

STACK = "workloads-production"
NAMESPACE = "iworkz-production"
REFERENCE = re.compile(r"^\$\{[^}]+\}$")
PINNED = re.compile(r"^v?\d+\.\d+\.\d+$")
AWS_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@pytest.fixture(scope="module")
def doc(stack) -> dict[str, Any]:
    return stack(STACK)


def _by_name(doc, resource_type: str, namespace: str | None = NAMESPACE) -> dict[str, dict[str, Any]]:
    """Objects of one type in ``namespace`` (and cluster-wide ones), by name (manifests: kind/name)."""
    found = {}
    for body in resources(doc, resource_type).values():
        metadata = body["manifest"]["metadata"] if "manifest" in body else body["metadata"]
        if metadata.get("namespace", namespace) != namespace:
            continue
        key = f"{body['manifest']['kind']}/{metadata['name']}" if "manifest" in body else metadata["name"]
        found[key] = body
    return found


def _deployments(doc) -> dict[str, dict[str, Any]]:
    return _by_name(doc, "kubernetes_deployment_v1")


def _pod(deployment) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def _container(deployment) -> dict[str, Any]:
    (container,) = _pod(deployment)["container"]
    return container


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


def _eks_node_groups(eks_doc) -> dict[str, Any]:
    """The node groups as synthesised in the EKS stack (labels, taints in Kubernetes spelling)."""

    class Group:
        def __init__(self, body):
            self.labels = body.get("labels") or {}
            self.taints = [
                type("T", (), {"key": t["key"], "value": t.get("value", ""), "effect": AWS_EFFECTS[t["effect"]]})
                for t in body.get("taint") or []
            ]
            self.gpu = "NVIDIA" in body.get("ami_type", "")

    return {body["node_group_name"]: Group(body) for body in resources(eks_doc, "aws_eks_node_group").values()}


# ---------------------------------------------------------------- namespace and workloads


def test_namespace_carries_the_seed_labels(doc):
    namespaces = _by_name(doc, "kubernetes_namespace_v1")
    labels = namespaces[NAMESPACE]["metadata"]["labels"]
    assert labels["name"] == NAMESPACE
    assert labels["environment"] == "production"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for deployment in _deployments(doc).values():
        assert deployment["metadata"]["namespace"] == NAMESPACE
        assert "kubernetes_namespace_v1.app-namespace" in deployment["depends_on"]


@pytest.mark.parametrize(
    ("name", "replicas", "port", "tier", "surge", "unavailable"),
    [
        ("backend-api", "3", 3000, "backend", "1", "0"),
        ("ai-services", "2", 8000, "ai", "1", "0"),
        ("web-frontend", "4", 3000, "frontend", "2", "1"),
    ],
)
def test_deployments_follow_the_seed(doc, settings, name, replicas, port, tier, surge, unavailable):
    deployment = _deployments(doc)[name]
    spec = deployment["spec"]
    assert spec["replicas"] == replicas
    assert spec["selector"]["match_labels"] == {"app": name}
    assert spec["template"]["metadata"]["labels"] == {"app": name, "tier": tier}
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rolling_update": {"max_surge": surge, "max_unavailable": unavailable},
    }
    container = _container(deployment)
    assert {p["name"]: p["container_port"] for p in container["port"]} == {"http": port, "metrics": 9090}
    assert container["liveness_probe"]["http_get"]["port"] == str(port)
    assert container["readiness_probe"]["http_get"]["port"] == str(port)
    image = settings.environments["production"].platform.workloads[name].image
    assert container["image"] == f"{image.repository}:{image.tag}"
    assert not container["image"].endswith(":latest")
    assert container["image_pull_policy"] == "Always"
    pod = _pod(deployment)
    assert pod["service_account_name"] == f"{name}-sa"
    assert pod["automount_service_account_token"] is False
    assert pod["image_pull_secrets"] == [{"name": "docker-registry-secret"}]


def test_seed_resources_and_probes(doc):
    deployments = _deployments(doc)
    backend = _container(deployments["backend-api"])
    assert backend["resources"] == {
        "requests": {"memory": "512Mi", "cpu": "250m"},
        "limits": {"memory": "1Gi", "cpu": "500m"},
    }
    assert backend["liveness_probe"] == {
        "http_get": {"path": "/health", "port": "3000"},
        "initial_delay_seconds": 30,
        "period_seconds": 10,
        "timeout_seconds": 5,
        "failure_threshold": 3,
    }
    assert backend["readiness_probe"]["http_get"]["path"] == "/ready"
    ai = _container(deployments["ai-services"])
    # One GPU; the seed's request of 0 GPUs is invalid with a limit of 1 (extended resources).
    assert ai["resources"]["limits"] == {"memory": "4Gi", "cpu": "2000m", "nvidia.com/gpu": "1"}
    assert "nvidia.com/gpu" not in ai["resources"]["requests"]
    assert ai["liveness_probe"]["initial_delay_seconds"] == 60
    frontend = _container(deployments["web-frontend"])
    assert frontend["resources"]["limits"] == {"memory": "512Mi", "cpu": "250m"}
    assert frontend["liveness_probe"]["http_get"]["path"] == "/api/health"
    assert frontend["readiness_probe"]["http_get"]["path"] == "/api/ready"


def test_every_pod_runs_hardened(doc):
    for name, deployment in _deployments(doc).items():
        pod = _pod(deployment)
        assert pod["security_context"]["run_as_non_root"] is True, name
        assert pod["security_context"]["run_as_user"] == "1001", name
        assert pod["security_context"]["fs_group"] == "1001", name
        assert pod["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}, name
        context = _container(deployment)["security_context"]
        assert context["read_only_root_filesystem"] is True, name
        assert context["allow_privilege_escalation"] is False, name
        assert context["capabilities"] == {"drop": ["ALL"]}, name
        mounts = {m["mount_path"] for m in _container(deployment)["volume_mount"]}
        assert "/tmp" in mounts, name


def test_the_pipeline_owns_image_rollouts_and_the_hpa_owns_replicas(doc):
    for name, deployment in _deployments(doc).items():
        expected = [IMAGE_ATTRIBUTE, REPLICAS_ATTRIBUTE] if name == "backend-api" else [IMAGE_ATTRIBUTE]
        assert deployment["lifecycle"]["ignore_changes"] == expected, name


def test_service_accounts_and_workload_roles(doc):
    accounts = _by_name(doc, "kubernetes_service_account_v1")
    # The workloads' accounts and the one the namespace's secret store authenticates as.
    assert set(accounts) == {"backend-api-sa", "ai-services-sa", "web-frontend-sa", "aws-secrets-manager"}
    for account in accounts.values():
        assert account["automount_service_account_token"] is False
    roles = _roles(doc)
    backend = accounts["backend-api-sa"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert backend == "${aws_iam_role.backend-api-role_885028FD.arn}"
    assert trusted_service_accounts(doc, roles["iworkz-production-backend-api"]) == [
        f"system:serviceaccount:{NAMESPACE}:backend-api-sa"
    ]
    redis_connect = _policy_of(doc, "backend-api")["Statement"][0]
    assert redis_connect["Action"] == "elasticache:Connect"
    # The cluster and the "app" user only: never redis_exporter's metrics user.
    group, user = redis_connect["Resource"]
    data = "data.terraform_remote_state.data-production.outputs"
    assert group == f"${{{data}.redis_arn}}" and user == f"${{{data}.redis_user_arns.app}}"
    sagemaker = _policy_of(doc, "ai-services")["Statement"][0]
    assert sagemaker["Action"] == "sagemaker:InvokeEndpoint"
    # The ai stack's endpoint, by its published ARN (tests/test_ai.py: the rest of the grants).
    ai = "data.terraform_remote_state.ai-production.outputs"
    assert sagemaker["Resource"] == f"${{{ai}.sagemaker_endpoint_arns.matching}}"
    assert "annotations" not in accounts["web-frontend-sa"]["metadata"]


# ---------------------------------------------------------------- secrets


def _external_secrets_in(doc, namespace: str) -> dict[str, dict[str, Any]]:
    return {
        key.split("/", 1)[1]: body["manifest"]
        for key, body in _by_name(doc, "kubernetes_manifest", namespace).items()
        if key.startswith("ExternalSecret/")
    }


def _external_secrets(doc) -> dict[str, dict[str, Any]]:
    return _external_secrets_in(doc, NAMESPACE)


def test_secrets_come_from_secrets_manager_never_literals(doc):
    secrets = _external_secrets(doc)
    assert set(secrets) == {"database-secret", "redis-secret", "jwt-secret", "ai-secrets", "docker-registry-secret"}
    data_outputs = "data.terraform_remote_state.data-production.outputs."
    for name, manifest in secrets.items():
        assert manifest["apiVersion"] == "external-secrets.io/v1"
        # The namespace's own store: it reads exactly what these ExternalSecrets name.
        assert manifest["spec"]["secretStoreRef"] == {"name": "aws-secrets-manager", "kind": "SecretStore"}
        for item in manifest["spec"]["data"]:
            assert REFERENCE.match(item["remoteRef"]["key"]), (name, item)
    from_data = {n: secrets[n]["spec"]["data"][0]["remoteRef"]["key"] for n in ("database-secret", "redis-secret")}
    assert all(data_outputs in key for key in from_data.values())
    assert secrets["jwt-secret"]["spec"]["data"][0]["remoteRef"]["key"] == "${" + data_outputs + "jwt_secret_arn}"
    assert (
        secrets["ai-secrets"]["spec"]["data"][0]["remoteRef"]["key"]
        == "${aws_secretsmanager_secret.openai-api-key.arn}"
    )
    # The application's own role, never the RDS master user (whose secret RDS rotates).
    database = secrets["database-secret"]["spec"]
    assert database["data"][0]["remoteRef"]["key"] == "${" + data_outputs + "postgres_app_password_secret_arn}"
    url = database["target"]["template"]["data"]["url"]
    assert url.startswith("postgresql://iworkz_app:{{ .password | urlquery }}@${" + data_outputs)
    assert f":{POSTGRES_PORT}/iworkz?sslmode=require" in url
    assert secrets["redis-secret"]["spec"]["target"]["template"]["data"] == {
        "url": "rediss://{{ .username }}@{{ .host }}:{{ .port }}"
    }
    pull = secrets["docker-registry-secret"]["spec"]["target"]["template"]
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    assert '"registry.gitlab.com"' in pull["data"][".dockerconfigjson"]


def test_every_secret_reference_is_produced_by_an_external_secret(doc):
    produced = {}
    for name, manifest in _external_secrets(doc).items():
        template = manifest["spec"]["target"]["template"].get("data")
        produced[name] = set(template) if template else {d["secretKey"] for d in manifest["spec"]["data"]}
    referenced = []
    for deployment in _deployments(doc).values():
        for env in _container(deployment).get("env", []):
            ref = env.get("value_from", {}).get("secret_key_ref")
            if ref:
                referenced.append((ref["name"], ref["key"]))
        for pull in _pod(deployment).get("image_pull_secrets", []):
            referenced.append((pull["name"], ".dockerconfigjson"))
    assert {
        ("database-secret", "url"),
        ("redis-secret", "url"),
        ("jwt-secret", "secret"),
        ("ai-secrets", "openai-key"),
    } <= set(referenced)
    for name, key in referenced:
        assert key in produced.get(name, set()), f"{name}.{key} is referenced but not produced"


def test_operator_filled_secrets_hold_no_value(doc):
    secrets = resources(doc, "aws_secretsmanager_secret")
    assert set(secrets) == {"openai-api-key", "registry-credentials"}
    for secret in secrets.values():
        assert secret["kms_key_id"].startswith("${data.terraform_remote_state.data-production")
        assert secret["lifecycle"]["prevent_destroy"] is True
    assert not resources(doc, "aws_secretsmanager_secret_version")


def test_the_services_get_their_own_database_roles_from_a_job_only_it_sees_the_master_with(doc):
    data = "${data.terraform_remote_state.data-production.outputs."
    setup = "database-setup"
    namespaces = _by_name(doc, "kubernetes_namespace_v1", None)
    assert namespaces[setup]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    (credentials,) = _external_secrets_in(doc, setup).values()
    keys = {item["secretKey"]: item["remoteRef"] for item in credentials["spec"]["data"]}
    assert keys["master-username"] == {
        "key": data + "database_secret_arn}",
        "property": "username",
        **REMOTE_REF_DEFAULTS,
    }
    assert keys["app-password"]["key"] == data + "postgres_app_password_secret_arn}"
    assert keys["monitoring-password"]["key"] == data + "postgres_monitoring_password_secret_arn}"
    # The master credentials appear in no other namespace's secret.
    for name, manifest in _external_secrets(doc).items():
        assert all(item["remoteRef"]["key"] != keys["master-username"]["key"] for item in manifest["spec"]["data"]), (
            name
        )
    (job,) = resources(doc, "kubernetes_job_v1").values()
    assert job["metadata"]["namespace"] == setup and job["wait_for_completion"] is True
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["container"]
    assert container["command"] == ["psql", "--no-psqlrc", "--quiet", "--file", "/opt/iworkz/postgres_roles.sql"]
    env = {e["name"]: e for e in container["env"]}
    assert env["APP_USER"]["value"] == "iworkz_app" and env["MONITORING_USER"]["value"] == "iworkz_monitoring"
    assert env["PGPASSWORD"]["value_from"]["secret_key_ref"]["key"] == "master-password"
    assert "value" not in env["APP_PASSWORD"]
    assert container["security_context"] == {**HARDENED_CONTAINER, "run_as_non_root": True}
    # The application starts once its role exists.
    backend = _deployments(doc)["backend-api"]
    assert any(d.startswith("kubernetes_job_v1.database-roles_job") for d in backend["depends_on"])


# ---------------------------------------------------------------- services, HPA, config


def test_services_forward_http_and_metrics(doc):
    services = _by_name(doc, "kubernetes_service_v1")
    assert set(services) == {"backend-api-service", "ai-services-service", "web-frontend-service"}
    for name, service in services.items():
        app = name.removesuffix("-service")
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["selector"] == {"app": app}
        ports = {p["name"]: (p["port"], p["target_port"]) for p in service["spec"]["port"]}
        assert ports == {"http": (80, "http"), "metrics": (9090, "metrics")}


def test_backend_hpa_follows_the_seed(doc):
    hpa = one(doc, "kubernetes_horizontal_pod_autoscaler_v2")
    assert hpa["metadata"]["name"] == "backend-api-hpa"
    spec = hpa["spec"]
    assert spec["scale_target_ref"] == {"api_version": "apps/v1", "kind": "Deployment", "name": "backend-api"}
    assert (spec["min_replicas"], spec["max_replicas"]) == (3, 20)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metric"]}
    assert targets == {
        "cpu": {"type": "Utilization", "average_utilization": 70},
        "memory": {"type": "Utilization", "average_utilization": 80},
    }
    assert spec["behavior"]["scale_down"] == [
        {"stabilization_window_seconds": 300, "policy": [{"type": "Percent", "value": 10, "period_seconds": 60}]}
    ]
    assert spec["behavior"]["scale_up"] == [
        {"stabilization_window_seconds": 60, "policy": [{"type": "Percent", "value": 50, "period_seconds": 60}]}
    ]
    assert any(d.startswith("kubernetes_deployment_v1.application_backend-api_deployment") for d in hpa["depends_on"])


def test_deploys_after_the_platform_stack_that_installs_metrics_server_and_the_crds():
    from iworkz.registry import BY_COMPONENT

    assert "platform" in BY_COMPONENT["workloads"].depends_on


def test_config_maps_carry_the_data_endpoints(doc):
    maps = _by_name(doc, "kubernetes_config_map_v1")
    assert set(maps) == {"backend-api-config", "ai-config", "frontend-config"}
    app = yaml.safe_load(maps["backend-api-config"]["data"]["app.yaml"])
    data_outputs = "${data.terraform_remote_state.data-production.outputs."
    assert app["database"]["host"].startswith(data_outputs) and app["database"]["host"].endswith("address}")
    assert app["database"]["port"] == POSTGRES_PORT
    assert app["database"]["pool"] == {"min": 5, "max": 20, "idle_timeout": 10000}
    assert app["redis"]["host"] == data_outputs + "redis_endpoint}"
    assert app["redis"]["port"] == REDIS_PORT and app["redis"]["cluster_mode"] is True
    assert app["server"]["cors"]["origins"] == ["https://app.iworkz.com"]
    assert app["monitoring"]["prometheus"] == {"enabled": True, "port": 9090}
    ai = "${data.terraform_remote_state.ai-production.outputs."
    assert maps["ai-config"]["data"]["sagemaker-endpoint"] == ai + "sagemaker_endpoint_names.matching}"
    assert maps["frontend-config"]["data"]["api-url"] == "https://api.iworkz.com"
    backend = _deployments(doc)["backend-api"]
    volumes = {v["name"]: v for v in _pod(backend)["volume"]}
    assert volumes["config-volume"]["config_map"]["name"] == "backend-api-config"
    mounts = {m["name"]: m for m in _container(backend)["volume_mount"]}
    assert mounts["config-volume"] == {"name": "config-volume", "mount_path": "/app/config", "read_only": True}


def _ports(rules) -> set[tuple[str, str]]:
    return {(p["protocol"], p["port"]) for rule in rules for p in rule["ports"]}


def test_network_policy_ports_match_the_data_stack(doc, stack):
    data = stack("data-production")
    postgres_ports = {body["port"] for body in resources(data, "aws_db_instance").values()}
    redis_ports = {body["port"] for body in resources(data, "aws_elasticache_replication_group").values()}
    assert postgres_ports == {POSTGRES_PORT} and redis_ports == {REDIS_PORT}
    policy = one(doc, "kubernetes_network_policy_v1")
    assert policy["metadata"]["name"] == "backend-api-netpol"
    spec = policy["spec"]
    assert spec["pod_selector"] == {"match_labels": {"app": "backend-api"}}
    assert spec["policy_types"] == ["Ingress", "Egress"]
    assert _ports(spec["egress"]) == {
        ("TCP", str(next(iter(postgres_ports)))),
        ("TCP", str(next(iter(redis_ports)))),
        ("TCP", "443"),
        ("TCP", "53"),
        ("UDP", "53"),
    }
    balancer_rule, frontend_rule, metrics_rule = spec["ingress"]
    # The ALB (IP targets, in the public subnets) and the kubelet probes (ambient's probe address)
    # reach the app port in plaintext; the web frontend also through the mesh (HBONE, 15008).
    public = stack("network-production")["output"]["public_subnet_cidrs"]["value"]
    assert balancer_rule["from"] == [{"ip_block": {"cidr": c}} for c in [*public, "169.254.7.127/32"]]
    assert _ports([balancer_rule]) == {("TCP", "3000")}
    assert frontend_rule["from"] == [{"pod_selector": {"match_labels": {"app": "web-frontend"}}}]
    assert _ports([frontend_rule]) == {("TCP", "3000"), ("TCP", "15008")}
    # Prometheus scrapes from the namespaces carrying the scraper label; monitoring's namespace does.
    (scrapers,) = metrics_rule["from"]
    label = scrapers["namespace_selector"]["match_labels"]
    assert label == {"iworkz.io/metrics-scraper": "true"}
    monitoring_namespace = _by_name(stack("monitoring-production"), "kubernetes_namespace_v1")["monitoring"]
    assert label.items() <= monitoring_namespace["metadata"]["labels"].items()
    assert _ports([metrics_rule]) == {("TCP", "9090"), ("TCP", "15008")}


def test_the_namespace_store_reads_exactly_the_secrets_its_external_secrets_name(doc):
    """No operator-wide identity: the store of this namespace authenticates as its own service account."""
    manifests = _by_name(doc, "kubernetes_manifest")
    store = manifests["SecretStore/aws-secrets-manager"]["manifest"]
    assert store["metadata"]["namespace"] == NAMESPACE
    assert store["spec"]["provider"] == {
        "aws": {
            "service": "SecretsManager",
            "region": "ap-northeast-1",
            "auth": {"jwt": {"serviceAccountRef": {"name": "aws-secrets-manager"}}},
        }
    }
    account = _by_name(doc, "kubernetes_service_account_v1")["aws-secrets-manager"]
    role = _roles(doc)["iworkz-production-app-secrets"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "${aws_iam_role.secret-store_role"
    )
    assert trusted_service_accounts(doc, role) == [f"system:serviceaccount:{NAMESPACE}:aws-secrets-manager"]
    statements = _policy_of(doc, "app-secrets")["Statement"]
    reads = [s for s in statements if s["Action"] != "kms:Decrypt"]
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"] == "${data.terraform_remote_state.data-production.outputs.secrets_kms_key_arn}"
    # IAM writes one resource as a string
    readable = {arn for s in reads for arn in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert all(set(s["Action"]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"} for s in reads)
    assert "*" not in json.dumps(sorted(readable))
    named = {item["remoteRef"]["key"] for m in _external_secrets(doc).values() for item in m["spec"]["data"]}
    assert readable == named


# ---------------------------------------------------------------- scheduling consistency


def _tolerations(raw) -> list[Toleration]:
    return [Toleration(t["key"], t.get("operator", "Equal"), t.get("value"), t.get("effect")) for t in raw]


def _tolerating_workloads(stack, environment: str) -> dict[str, tuple[dict[str, str], list[Toleration]]]:
    """The workloads' tolerating pods and the NVIDIA device plugin (an add-on of the platform stack)."""
    found = {}
    for name, deployment in _deployments(stack(f"workloads-{environment}")).items():
        pod = _pod(deployment)
        if pod.get("toleration"):
            found[name] = (pod.get("node_selector", {}), _tolerations(pod["toleration"]))
    plugin = _values(_releases(stack(f"platform-{environment}"))["nvidia-device-plugin"])
    found["nvidia-device-plugin"] = (plugin["nodeSelector"], _tolerations(plugin["tolerations"]))
    return found


def test_ai_services_lands_on_the_gpu_group(doc, settings):
    pod = _pod(_deployments(doc)["ai-services"])
    group = settings.environments["production"].eks.node_groups["compute-optimized"]
    assert pod["node_selector"] == dict(group.labels)
    assert pod["node_selector"]["NodeGroup"] == "compute-optimized"
    assert {(t["key"], t["value"], t["effect"]) for t in pod["toleration"]} == {
        (t.key, t.value, t.effect) for t in group.taints
    }
    assert "ai-workload" not in json.dumps(pod) and "instance-type" not in json.dumps(pod)


def test_every_tolerating_workload_matches_an_existing_node_group(doc, stack):
    node_groups = _eks_node_groups(stack("eks-production"))
    workloads = _tolerating_workloads(stack, "production")
    assert set(workloads) == {"ai-services", "nvidia-device-plugin"}
    for name, (selector, tolerations) in workloads.items():
        assert useless_tolerations(tolerations, node_groups) == [], name
        targets = schedulable_node_groups(selector, tolerations, node_groups)
        assert targets == ["compute-optimized"], (name, targets)
        assert all(node_groups[t].gpu for t in targets)


def test_untolerating_workloads_avoid_tainted_groups(doc, stack):
    node_groups = _eks_node_groups(stack("eks-production"))
    for name in ("backend-api", "web-frontend"):
        pod = _pod(_deployments(doc)[name])
        assert schedulable_node_groups(pod.get("node_selector", {}), [], node_groups) == ["general"], name


# ---------------------------------------------------------------- bad input


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir)
    return caught.value.render()


def _workload_patch(name: str, **changes: Any) -> dict[str, Any]:
    return {"platform": {"workloads": {name: changes}}}


BAD_INPUTS = [
    pytest.param(
        "production",
        _workload_patch("backend-api", image="registry.gitlab.com/iworkz/backend-api"),
        ["production.yaml", "platform.workloads.backend-api.image", "registry.gitlab.com/iworkz/backend-api", "no tag"],
        id="image-without-tag",
    ),
    pytest.param(
        "production",
        _workload_patch("backend-api", image={"repository": "registry.gitlab.com/iworkz/backend-api", "tag": DELETE}),
        ["production.yaml", "platform.workloads.backend-api.image.tag", "is required"],
        id="image-tag-missing",
    ),
    pytest.param(
        "production",
        _workload_patch("web-frontend", image={"tag": "latest"}),
        ["production.yaml", "platform.workloads.web-frontend.image.tag", "latest", "is not a release"],
        id="latest-in-production",
    ),
    pytest.param(
        "production",
        _workload_patch("web-frontend", image={"repository": "registry.gitlab.com/iworkz/web-frontend:2.0"}),
        ["production.yaml", "platform.workloads.web-frontend.image.repository", "must not carry a tag"],
        id="tag-inside-repository",
    ),
    pytest.param(
        "staging",
        {"platform": {"domain": "iworkz_com"}},
        ["staging.yaml", "platform.domain", "iworkz_com", "valid lower-case DNS name"],
        id="domain-not-dns",
    ),
    pytest.param(
        "production",
        {"platform": {"domain": "-iworkz.com"}},
        ["production.yaml", "platform.domain", "-iworkz.com", "DNS name"],
        id="domain-leading-hyphen",
    ),
    pytest.param(
        "production",
        _workload_patch(
            "ai-services",
            tolerations=[{"key": "ai-workload", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
        ),
        ["production.yaml", "platform.workloads.ai-services.tolerations[0]", "ai-workload", "matches no taint"],
        id="toleration-matches-no-node-group",
    ),
    pytest.param(
        "dev",
        _workload_patch("ai-services", node_group="gpu"),
        ["dev.yaml", "platform.workloads.ai-services.node_group", "gpu", "is not a node group"],
        id="unknown-node-group",
    ),
    pytest.param(
        "production",
        _workload_patch("ai-services", node_group="memory-optimized"),
        ["production.yaml", "platform.workloads.ai-services.node_group", "memory-optimized", "GPU node group"],
        id="gpu-workload-on-cpu-group",
    ),
    pytest.param(
        "production",
        {"platform": {"workloads": {"web-frontend": DELETE}}},
        ["production.yaml", "platform.workloads", "missing: web-frontend"],
        id="workload-missing",
    ),
    pytest.param(
        "production",
        _workload_patch("backend-api", autoscaling={"min_replicas": 5, "max_replicas": 2}),
        ["production.yaml", "platform.workloads.backend-api.autoscaling.min_replicas", "must not exceed"],
        id="hpa-min-above-max",
    ),
    pytest.param(
        "production",
        _workload_patch("mobile-api", image="registry.gitlab.com/iworkz/mobile-api:1.0.0", replicas=2),
        ["production.yaml", "platform.workloads", "unknown workload(s) mobile-api"],
        id="unknown-workload",
    ),
    pytest.param(
        "production",
        _workload_patch("backend-api", image="registry.gitlab.com/iworkz/backend-api@sha256:" + "a" * 64),
        ["production.yaml", "platform.workloads.backend-api.image", "digests are not supported"],
        id="image-digest",
    ),
    pytest.param(
        "production",
        {"platform": {"acme_email": "devops@iworkz.com"}},
        ["production.yaml", "platform.acme_email"],
        id="acme-email-is-gone-with-the-ingress",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_platform_input(tmp_path, env, patch, expected):
    message = _error(write_config(tmp_path, env, patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_latest_is_refused_in_every_environment(tmp_path):
    # iworkz_constructs.k8s_workload.check_image refuses it in every environment: so does the config.
    config = write_config(tmp_path, "dev", _workload_patch("web-frontend", image={"tag": "latest"}))
    with pytest.raises(ConfigError, match="'latest' is not a release"):
        load_settings(config)


def test_image_shorthand_with_tag_is_accepted(tmp_path):
    config = write_config(
        tmp_path, "staging", _workload_patch("backend-api", image="registry.gitlab.com/iworkz/backend-api:1.4.2")
    )
    image = load_settings(config).environments["staging"].platform.workloads["backend-api"].image
    assert (image.repository, image.tag) == ("registry.gitlab.com/iworkz/backend-api", "1.4.2")


def test_a_toleration_of_an_existing_taint_is_accepted(tmp_path):
    patch = _workload_patch("backend-api", tolerations=[{"key": "memory-optimized", "effect": "NoSchedule"}])
    workload = load_settings(write_config(tmp_path, "production", patch)).environments["production"].platform.workloads
    assert workload["backend-api"].tolerations[0].key == "memory-optimized"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_scheduling_is_consistent_in_every_environment(stack, environment):
    """Skipped for environments not synthesised in this session (ENVS=...)."""
    node_groups = _eks_node_groups(stack(f"eks-{environment}"))
    for name, (selector, tolerations) in _tolerating_workloads(stack, environment).items():
        assert useless_tolerations(tolerations, node_groups) == [], (environment, name)
        targets = schedulable_node_groups(selector, tolerations, node_groups)
        assert targets and all(node_groups[t].gpu for t in targets), (environment, name, targets)
