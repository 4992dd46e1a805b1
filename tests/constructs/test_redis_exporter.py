"""RedisExporter: redis_exporter plus the ElastiCache IAM token helper, hardened."""

from __future__ import annotations

import hashlib

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

from iworkz_constructs.redis_exporter import (
    CONNECTION_KEYS,
    PASSWORD_FILE,
    TOKEN_SCRIPTS,
    RedisExporter,
    RedisExporterProps,
)
from iworkz_constructs.runtime_files import RUNTIME_DIR
from tests.tf import HARDENED_CONTAINER, new_app, one, synth_stack

BASE = {
    "namespace": "monitoring",
    "connection_secret": "redis-exporter-connection",
    "role_arn": "arn:aws:iam::123456789012:role/iworkz-dev-redis-exporter",
    "region": "ap-northeast-1",
    "exporter_image": "quay.io/oliver006/redis_exporter:v1.89.0",
    "token_image": "public.ecr.aws/docker/library/python:3.13.9-alpine3.22",
}


def _synth(**overrides):
    stack = TerraformStack(new_app(), "test")
    KubernetesProvider(stack, "kubernetes")
    exporter = RedisExporter(stack, "redis-exporter", RedisExporterProps(**{**BASE, **overrides}))
    return exporter, synth_stack(stack)


def _env(container) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("value_from")) for e in container["env"]}


def test_all_defaults():
    exporter, doc = _synth()
    assert (exporter.service_name, exporter.port) == ("redis-exporter", 9121)
    account = one(doc, "kubernetes_service_account_v1")
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": BASE["role_arn"]}
    assert account["automount_service_account_token"] is False

    deployment = one(doc, "kubernetes_deployment_v1")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["service_account_name"] == "redis-exporter"
    assert pod["automount_service_account_token"] is False
    assert pod["security_context"]["run_as_non_root"] is True
    assert pod["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}
    (init,) = pod["init_container"]
    exporter_container, refresher = pod["container"]
    assert init["command"] == ["python", "/opt/iworkz/elasticache_iam_token.py", "--once"]
    assert refresher["command"] == ["python", "/opt/iworkz/elasticache_iam_token.py"]
    assert init["image"] == refresher["image"] == BASE["token_image"]
    assert exporter_container["image"] == BASE["exporter_image"]
    for container in (init, exporter_container, refresher):
        assert container["image_pull_policy"] == "Always"
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        assert container["security_context"] == HARDENED_CONTAINER
        env = _env(container)
        # Connection details only from the Secret; no password variable anywhere.
        for key, variable in CONNECTION_KEYS.items():
            assert env[variable] == {"secret_key_ref": {"name": BASE["connection_secret"], "key": key}}
        assert not any(name.endswith(("PASSWORD", "TOKEN")) for name in env)

    exporter_env = _env(exporter_container)
    assert exporter_env["REDIS_ADDR"] == "rediss://$(REDIS_HOST):$(REDIS_PORT)"
    assert exporter_env["REDIS_PASSWORD_FILE"] == PASSWORD_FILE
    assert "REDIS_EXPORTER_IS_CLUSTER" not in exporter_env  # cluster-wide key checks need CLUSTER SLOTS
    assert exporter_env["REDIS_EXPORTER_CONFIG_COMMAND"] == "-"
    assert exporter_env["REDIS_EXPORTER_DISABLE_SCRAPE_ENDPOINT"] == "true"
    assert _env(refresher)["EXPORTER_RELOAD_URL"] == "http://127.0.0.1:9121/-/reload"
    assert _env(refresher)["REFRESH_SECONDS"] == "300"
    assert _env(refresher)["PASSWORD_FILE"] == PASSWORD_FILE
    assert exporter_container["port"] == [{"name": "metrics", "container_port": 9121}]

    # The token lives in memory only, shared by the three containers.
    volumes = {v["name"]: v for v in pod["volume"]}
    assert volumes["redis-auth"]["empty_dir"] == {"medium": "Memory", "size_limit": "1Mi"}
    assert volumes["token-helper"]["config_map"]["default_mode"] == "0444"

    service = one(doc, "kubernetes_service_v1")
    assert service["metadata"]["name"] == "redis-exporter"
    assert service["spec"]["port"] == [{"name": "metrics", "port": 9121, "target_port": "metrics", "protocol": "TCP"}]

    # Only Prometheus' namespace (the exporter's own by default) reaches the metrics port.
    policy = one(doc, "kubernetes_network_policy_v1")
    assert policy["spec"]["pod_selector"] == {"match_labels": {"app.kubernetes.io/name": "redis-exporter"}}
    assert policy["spec"]["policy_types"] == ["Ingress"]
    assert policy["spec"]["ingress"] == [
        {
            "from": [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"port": "9121", "protocol": "TCP"}],
        }
    ]


def test_scripts_are_the_runtime_files_and_roll_the_pods():
    _, doc = _synth()
    scripts = one(doc, "kubernetes_config_map_v1")["data"]
    assert scripts == {name: (RUNTIME_DIR / name).read_text(encoding="utf-8") for name in TOKEN_SCRIPTS}
    annotations = one(doc, "kubernetes_deployment_v1")["spec"]["template"]["metadata"]["annotations"]
    digest = hashlib.sha256("".join(scripts[name] for name in TOKEN_SCRIPTS).encode()).hexdigest()[:16]
    assert annotations == {"iworkz.com/token-helper-sha256": digest}


def test_all_options():
    exporter, doc = _synth(
        name="cache-metrics",
        port=9200,
        scraper_namespaces=["prometheus", "observability"],
        refresh_seconds=600,
        requests={"cpu": "50m", "memory": "64Mi"},
        limits={"memory": "256Mi"},
    )
    assert (exporter.service_name, exporter.port) == ("cache-metrics", 9200)
    pod = one(doc, "kubernetes_deployment_v1")["spec"]["template"]["spec"]
    exporter_container, refresher = pod["container"]
    (ingress,) = one(doc, "kubernetes_network_policy_v1")["spec"]["ingress"]
    assert [peer["namespace_selector"]["match_labels"] for peer in ingress["from"]] == [
        {"kubernetes.io/metadata.name": "prometheus"},
        {"kubernetes.io/metadata.name": "observability"},
    ]
    assert ingress["ports"] == [{"port": "9200", "protocol": "TCP"}]
    assert _env(exporter_container)["REDIS_EXPORTER_WEB_LISTEN_ADDRESS"] == ":9200"
    assert _env(refresher)["EXPORTER_RELOAD_URL"] == "http://127.0.0.1:9200/-/reload"
    assert _env(refresher)["REFRESH_SECONDS"] == "600"
    assert exporter_container["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert one(doc, "kubernetes_service_v1")["spec"]["port"][0]["port"] == 9200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exporter_image": "quay.io/oliver006/redis_exporter"}, r"exporter_image .* \(a tag is required"),
        ({"token_image": "python:latest"}, "token_image 'python:latest': 'latest' is not a release"),
        ({"refresh_seconds": 900}, "inside the token's 900 s lifetime"),
        ({"refresh_seconds": 0}, "inside the token's 900 s lifetime"),
        ({"name": "Redis_Exporter"}, "not a Kubernetes name"),
        ({"namespace": "monitoring/"}, "not a Kubernetes name"),
        ({"port": 70000}, "not a TCP port"),
        ({"scraper_namespaces": ["Monitoring"]}, "scraper_namespaces 'Monitoring' is not a Kubernetes name"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        RedisExporterProps(**{**BASE, **overrides})
