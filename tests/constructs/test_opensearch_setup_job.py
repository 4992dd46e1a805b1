"""OpenSearchSetupJob: the Job that applies OpenSearch roles, IAM mappings and ISM policies."""

from __future__ import annotations

import importlib
import json

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

from iworkz_constructs.opensearch_setup_job import (
    RESERVED_ROLES,
    SCRIPTS,
    OpenSearchSetupJob,
    OpenSearchSetupJobProps,
)
from iworkz_constructs.runtime_files import RUNTIME_DIR
from tests.tf import HARDENED_CONTAINER, new_app, one, synth_stack

ROLE = "arn:aws:iam::123456789012:role/iworkz-dev-search-admin"
BASE = {
    "namespace": "monitoring",
    "service_account": "opensearch-bootstrap",
    "role_arn": ROLE,
    "endpoint": "vpc-iworkz-dev-search.ap-northeast-1.es.amazonaws.com",
    "region": "ap-northeast-1",
    "image": "public.ecr.aws/docker/library/python:3.13.9-alpine3.22",
    "ism_policies": {"iworkz-logs": {"policy": {"states": []}}},
}


def _synth(**overrides):
    stack = TerraformStack(new_app(), "test")
    KubernetesProvider(stack, "kubernetes")
    job = OpenSearchSetupJob(stack, "opensearch-setup", OpenSearchSetupJobProps(**{**BASE, **overrides}))
    return job, synth_stack(stack)


def test_all_defaults():
    _, doc = _synth()
    account = one(doc, "kubernetes_service_account_v1")
    assert account["metadata"]["name"] == "opensearch-bootstrap"
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert account["automount_service_account_token"] is False

    config = one(doc, "kubernetes_config_map_v1")
    assert config["metadata"]["name"] == "opensearch-bootstrap"
    for script in SCRIPTS:
        assert config["data"][script] == (RUNTIME_DIR / script).read_text(encoding="utf-8")
    assert json.loads(config["data"]["config.json"]) == {
        "roles": {},
        "role_mappings": {},
        "ism_policies": BASE["ism_policies"],
    }

    body = one(doc, "kubernetes_job_v1")
    assert body["metadata"]["name"].startswith("opensearch-bootstrap-${substr(sha256(")
    assert body["wait_for_completion"] is True
    assert body["timeouts"] == {"create": "10m", "update": "10m"}
    assert body["spec"]["backoff_limit"] == 3
    pod = body["spec"]["template"]["spec"]
    assert pod["service_account_name"] == "opensearch-bootstrap"
    assert pod["restart_policy"] == "Never"
    assert pod["automount_service_account_token"] is False
    assert pod["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}
    (container,) = pod["container"]
    assert container["image"] == BASE["image"]
    assert container["command"] == ["python", "/opt/iworkz/opensearch_bootstrap.py"]
    assert container["image_pull_policy"] == "Always"
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "OPENSEARCH_ENDPOINT": BASE["endpoint"],
        "AWS_REGION": "ap-northeast-1",
        "CONFIG_FILE": "/opt/iworkz/config.json",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    assert container["security_context"] == HARDENED_CONTAINER
    assert pod["volume"][0]["config_map"] == {"name": "opensearch-bootstrap", "default_mode": "0444"}


def test_all_options():
    roles = {"log_writer": {"index_permissions": [{"index_patterns": ["logs-*"], "allowed_actions": ["crud"]}]}}
    mappings = {"log_writer": {"backend_roles": ["arn:aws:iam::123456789012:role/fluent-bit"]}}
    job, doc = _synth(name="search-setup", roles=roles, role_mappings=mappings, timeout_minutes=20, backoff_limit=1)
    assert json.loads(one(doc, "kubernetes_config_map_v1")["data"]["config.json"])["role_mappings"] == mappings
    body = one(doc, "kubernetes_job_v1")
    assert body["metadata"]["name"].startswith("search-setup-${")
    assert body["timeouts"] == {"create": "20m", "update": "20m"}
    assert body["spec"]["backoff_limit"] == 1
    assert job.config["roles"] == roles


def test_a_changed_configmap_is_a_new_job():
    """The name hashes the ConfigMap as Terraform applies it: a change replaces the Job, which runs again."""
    _, doc = _synth()
    (config_id,) = doc["resource"]["kubernetes_config_map_v1"]
    name = one(doc, "kubernetes_job_v1")["metadata"]["name"]
    assert name == (
        f"opensearch-bootstrap-${{substr(sha256(jsonencode(kubernetes_config_map_v1.{config_id}.data)), 0, 10)}}"
    )


def test_reserved_roles_agree_with_the_script(monkeypatch):
    monkeypatch.syspath_prepend(str(RUNTIME_DIR))
    bootstrap = importlib.import_module("opensearch_bootstrap")
    assert RESERVED_ROLES == bootstrap.RESERVED_ROLES


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ism_policies": {}}, "give roles, role_mappings or ism_policies"),
        ({"role_mappings": {"all_access": {"backend_roles": ["x"]}}}, "all_access belong to the domain"),
        ({"roles": {"security_manager": {}}}, "security_manager belong to the domain"),
        ({"role_mappings": {"writer": {"backend_roles": ["x"]}}}, "writer not in roles"),
        ({"image": "python"}, "a tag is required"),
        ({"service_account": "OpenSearch"}, "not a Kubernetes name"),
        ({"timeout_minutes": 0}, "timeout_minutes 0"),
        ({"backoff_limit": 11}, "backoff_limit 11"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        OpenSearchSetupJobProps(**{**BASE, **overrides})
