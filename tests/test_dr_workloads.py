"""dr-workloads: the design's 12.2 application on AKS at the standby size, with the primary's images
and configuration, pointing at the Azure endpoints, its Secrets from the Key Vault; asserted on
the synthesised JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from iworkz.config import load_settings
from iworkz.config.dr_azure import dr_replicas
from iworkz.registry import plan
from iworkz.synth import synthesize
from stacks.dr_sync import VAULT_SECRETS
from tests.configs import write_config
from tests.tf import one, resources

STACK = "dr-workloads-production"
NAMESPACE = "iworkz-production"
REMOTE = "${data.terraform_remote_state.dr-azure-production.outputs."


@pytest.fixture(scope="module")
def doc(stack) -> dict[str, Any]:
    return stack(STACK)


@pytest.fixture(scope="module")
def production(settings):
    return settings.environments["production"]


def _deployments(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in resources(doc, "kubernetes_deployment_v1").values()}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["container"]
    return container


def _env(deployment: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in _container(deployment)["env"]}


def test_the_three_workloads_run_the_primarys_images_at_the_standby_size(doc, production, stack):
    deployments = _deployments(doc)
    assert set(deployments) == set(production.platform.workloads)
    standby = production.dr_azure.standby
    assert not standby.serving
    primary = _deployments(stack("workloads-production"))
    for name, deployment in deployments.items():
        workload = production.platform.workloads[name]
        assert _container(deployment)["image"] == workload.image.reference == _container(primary[name])["image"]
        # Same probes, resources and security context as on EKS.
        for key in ("liveness_probe", "readiness_probe", "resources", "security_context", "port"):
            assert _container(deployment)[key] == _container(primary[name])[key], (name, key)
        expected = 0 if workload.gpus else standby.replicas
        assert int(deployment["spec"]["replicas"]) == expected
    # Standby: a fixed size, no autoscaler (the serving switch brings the primary's back).
    assert not resources(doc, "kubernetes_horizontal_pod_autoscaler_v2")


def test_ai_services_keeps_its_gpu_placement_but_runs_no_pod(doc, production, stack):
    ai = _deployments(doc)["ai-services"]
    assert int(ai["spec"]["replicas"]) == 0 and production.platform.workloads["ai-services"].gpus
    primary = _deployments(stack("workloads-production"))["ai-services"]
    for key in ("node_selector", "toleration"):
        assert ai["spec"]["template"]["spec"].get(key) == primary["spec"]["template"]["spec"].get(key)
    assert "nvidia.com/gpu" in _container(ai)["resources"]["limits"]


def test_backend_api_points_at_the_azure_database_and_cache(doc):
    maps = {m["metadata"]["name"]: m for m in resources(doc, "kubernetes_config_map_v1").values()}
    app = yaml.safe_load(maps["backend-api-config"]["data"]["app.yaml"])
    assert app["database"]["host"] == f"{REMOTE}postgres_fqdn}}" and app["database"]["ssl"] is True
    assert app["redis"] == {**app["redis"], "host": f"{REMOTE}redis_hostname}}", "port": 6380, "tls": True}
    assert app["redis"]["cluster_mode"] is False  # Azure Cache for Redis: one primary
    backend = _deployments(doc)["backend-api"]
    identity = next(iter(resources(doc, "azurerm_user_assigned_identity")))
    redis_url = _env(backend)["REDIS_URL"]["value"]
    assert redis_url == (
        f"rediss://${{azurerm_user_assigned_identity.{identity}.principal_id}}@{REMOTE}redis_hostname}}:6380"
    )
    assert _env(backend)["DATABASE_URL"]["value_from"]["secret_key_ref"]["name"] == "database-secret"


def test_backend_api_signs_in_to_the_cache_as_its_workload_identity(doc):
    (identity_id,) = resources(doc, "azurerm_user_assigned_identity")
    credential = one(doc, "azurerm_federated_identity_credential")
    assert credential["subject"] == f"system:serviceaccount:{NAMESPACE}:backend-api-sa"
    assert credential["issuer"] == f"{REMOTE}aks_oidc_issuer_url}}"
    access = one(doc, "azurerm_redis_cache_access_policy_assignment")
    assert access["redis_cache_id"] == f"{REMOTE}redis_cache_id}}"
    assert access["object_id"] == f"${{azurerm_user_assigned_identity.{identity_id}.principal_id}}"
    assert access["access_policy_name"] == "Data Contributor"
    backend = _deployments(doc)["backend-api"]
    assert backend["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    accounts = {a["metadata"]["name"]: a for a in resources(doc, "kubernetes_service_account_v1").values()}
    annotations = accounts["backend-api-sa"]["metadata"]["annotations"]
    assert (
        annotations["azure.workload.identity/client-id"]
        == f"${{azurerm_user_assigned_identity.{identity_id}.client_id}}"
    )
    # The other workloads carry no Azure identity.
    assert not accounts["web-frontend-sa"]["metadata"].get("annotations")


def test_every_secret_comes_from_the_key_vault_through_the_dr_platforms_reader(doc):
    manifests = [r["manifest"] for r in resources(doc, "kubernetes_manifest").values()]
    (store,) = [m for m in manifests if m["kind"] == "ClusterSecretStore"]
    vault = store["spec"]["provider"]["azurekv"]
    assert vault["authType"] == "WorkloadIdentity" and vault["vaultUrl"] == f"{REMOTE}key_vault_uri}}"
    assert vault["serviceAccountRef"] == {"name": "key-vault-reader", "namespace": "external-secrets"}
    secrets = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "ExternalSecret"}
    # The design's four in the application's namespace, the gateway's DNS token in cert-manager's.
    assert set(secrets) == {
        "database-secret",
        "jwt-secret",
        "ai-secrets",
        "docker-registry-secret",
        "iworkz-cloudflare-token",
    }
    read = set()
    for secret in secrets.values():
        assert secret["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": store["metadata"]["name"]}
        read |= {d["remoteRef"]["key"] for d in secret["spec"]["data"]}
    # Exactly the secrets the dr-sync PushSecrets feed into the vault.
    assert read == set(VAULT_SECRETS.values())
    url = secrets["database-secret"]["spec"]["target"]["template"]["data"]["url"]
    assert (
        url
        == f"postgresql://iworkz_app:{{{{ .password | urlquery }}}}@{REMOTE}postgres_fqdn}}:5432/iworkz?sslmode=require"
    )
    text = json.dumps(doc)
    for forbidden in ("primary_access_key", "client_secret", 'password": "'):
        assert forbidden not in text


def test_backend_api_may_reach_the_azure_ports_only(doc):
    (policy,) = resources(doc, "kubernetes_network_policy_v1").values()
    ports = {int(p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert {5432, 6380} <= ports and 6379 not in ports


def test_serving_is_the_one_config_change_that_scales_up(tmp_path):
    patch = {"dr_azure": {"standby": {"serving": True}, "aks_user_pool": {"max_count": 40}}}
    settings = load_settings(write_config(tmp_path, "production", patch), ["production"])
    planned, _ = plan(settings, [STACK])
    written = {s.name: json.loads(s.path.read_text()) for s in synthesize(settings, planned, tmp_path / "out")}
    serving = written[STACK]
    env = settings.environments["production"]
    expected = dr_replicas(env.dr_azure.standby, env.platform)
    for name, deployment in _deployments(serving).items():
        assert int(deployment["spec"]["replicas"]) == expected[name]
        assert expected[name] == (0 if env.platform.workloads[name].gpus else env.platform.workloads[name].replicas)
    autoscaled = {
        h["spec"]["scale_target_ref"]["name"]
        for h in resources(serving, "kubernetes_horizontal_pod_autoscaler_v2").values()
    }
    assert autoscaled == {n for n, w in env.platform.workloads.items() if w.autoscaling and not w.gpus}


def test_the_standby_gateway_takes_the_static_address_and_only_cloudflare(doc, production):
    manifests = {
        (m["kind"], m["metadata"]["name"]): m
        for m in (r["manifest"] for r in resources(doc, "kubernetes_manifest").values())
    }
    gateway = manifests[("Gateway", "iworkz")]
    assert gateway["spec"]["gatewayClassName"] == "istio"
    annotations = gateway["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-load-balancer-ipv4"] == f"{REMOTE}ingress_ip_address}}"
    assert annotations["service.beta.kubernetes.io/azure-load-balancer-resource-group"] == "iworkz-production-dr-rg"
    assert annotations["service.beta.kubernetes.io/azure-allowed-ip-ranges"].split(",") == production.edge.origin_ranges
    (listener,) = gateway["spec"]["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTPS", 443)
    assert listener["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "iworkz-tls"}]
    routes = {m["spec"]["hostnames"][0]: m for (kind, _), m in manifests.items() if kind == "HTTPRoute"}
    assert routes.keys() == {"api.iworkz.com", "app.iworkz.com"}
    backends = {host: r["spec"]["rules"][0]["backendRefs"][0]["name"] for host, r in routes.items()}
    assert backends == {"api.iworkz.com": "backend-api-service", "app.iworkz.com": "web-frontend-service"}


def test_the_gateway_certificate_comes_by_dns01_with_a_token_from_the_key_vault(doc):
    manifests = {
        (m["kind"], m["metadata"]["name"]): m
        for m in (r["manifest"] for r in resources(doc, "kubernetes_manifest").values())
    }
    certificate = manifests[("Certificate", "iworkz")]
    assert certificate["spec"]["secretName"] == "iworkz-tls"
    assert sorted(certificate["spec"]["dnsNames"]) == ["api.iworkz.com", "app.iworkz.com"]
    issuer = manifests[("ClusterIssuer", certificate["spec"]["issuerRef"]["name"])]
    acme = issuer["spec"]["acme"]
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (solver,) = acme["solvers"]
    ref = solver["dns01"]["cloudflare"]["apiTokenSecretRef"]
    token = manifests[("ExternalSecret", ref["name"])]
    # ClusterIssuers read their secrets in cert-manager's namespace.
    assert token["metadata"]["namespace"] == "cert-manager"
    assert token["spec"]["secretStoreRef"]["kind"] == "ClusterSecretStore"
    assert [d["remoteRef"]["key"] for d in token["spec"]["data"]] == ["cloudflare-dns-token"]
    assert [d["secretKey"] for d in token["spec"]["data"]] == [ref["key"]]
