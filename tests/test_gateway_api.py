"""The objects the workloads stacks write for CRDs validate against the pinned CRDs' schemas.

Gateway API (GatewayClass, Gateway, HTTPRoute): the schemas of ``charts/gateway-api-crds``, the
very files the platform stack installs (v1.5.0, standard channel). The AWS Load Balancer
Controller's LoadBalancerConfiguration and TargetGroupConfiguration, and Istio's
PeerAuthentication: their ``openAPIV3Schema``, vendored in ``tests/schemas/`` with source and
version. Kubernetes refuses fields a structural schema does not declare (server-side apply, as
``kubernetes_manifest`` does), so undeclared fields fail here too. CEL rules
(``x-kubernetes-validations``) are not evaluated.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from iworkz.config import DEFAULT_CONFIG_DIR, available_environments
from tests.tf import resources

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "gateway-api-crds"
VENDORED = ROOT / "tests" / "schemas"
ENVIRONMENTS = available_environments(DEFAULT_CONFIG_DIR)


def _strict(schema: Any) -> Any:
    """The schema with undeclared fields refused (structural schemas prune them; apply rejects them)."""
    if isinstance(schema, dict):
        strict = {key: _strict(value) for key, value in schema.items()}
        declared = "properties" in schema and "additionalProperties" not in schema
        if declared and not schema.get("x-kubernetes-preserve-unknown-fields"):
            strict["additionalProperties"] = False
        return strict
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


def _chart_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for path in sorted((CHART / "templates").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and document["kind"] == "CustomResourceDefinition":
                spec = document["spec"]
                for version in spec["versions"]:
                    if version["served"]:
                        schemas[f"{spec['group']}/{version['name']}/{spec['names']['kind']}"] = version["schema"][
                            "openAPIV3Schema"
                        ]
    return schemas


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    found = _chart_schemas()
    for path in VENDORED.glob("*.json"):
        found.update(json.loads(path.read_text(encoding="utf-8"))["schemas"])
    # Every object has apiVersion, kind and metadata, whether its CRD's schema lists them or not.
    envelope = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
    return {
        key: _strict({**schema, "properties": {**envelope, **schema.get("properties", {})}})
        for key, schema in found.items()
    }


def _manifests(stack_json: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for body in resources(stack_json, "kubernetes_manifest").values():
        yield body["manifest"]


def _key(manifest: dict[str, Any]) -> str:
    return f"{manifest['apiVersion']}/{manifest['kind']}"


def _errors(schemas: dict[str, dict[str, Any]], manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schemas[_key(manifest)])
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


CHECKED_KINDS = {
    "gateway.networking.k8s.io/v1/GatewayClass",
    "gateway.networking.k8s.io/v1/Gateway",
    "gateway.networking.k8s.io/v1/HTTPRoute",
    "gateway.k8s.aws/v1beta1/LoadBalancerConfiguration",
    "gateway.k8s.aws/v1beta1/TargetGroupConfiguration",
    "security.istio.io/v1/PeerAuthentication",
}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_gateway_routes_and_mesh_policies_validate_against_the_pinned_schemas(stack, schemas, environment):
    manifests = [m for m in _manifests(stack(f"workloads-{environment}")) if _key(m) in CHECKED_KINDS]
    assert {_key(m) for m in manifests} == CHECKED_KINDS
    for manifest in manifests:
        assert _errors(schemas, manifest) == [], f"{_key(manifest)} {manifest['metadata']['name']}"


@pytest.mark.parametrize(
    ("kind", "break_it", "expected"),
    [
        ("HTTPRoute", lambda m: m["spec"]["rules"][0].update(filters=[{"type": "Rewrite"}]), "is not one of"),
        ("HTTPRoute", lambda m: m["spec"]["rules"][0].update(timeout="30s"), "Additional properties"),
        ("Gateway", lambda m: m["spec"]["listeners"][0].update(port="eighty"), "is not of type"),
        ("LoadBalancerConfiguration", lambda m: m["spec"].update(scheme="public"), "is not one of"),
        ("PeerAuthentication", lambda m: m["spec"]["mtls"].update(mode="ON"), "is not one of"),
    ],
)
def test_a_broken_object_fails_the_schema(stack, schemas, kind, break_it, expected):
    """The check can fail: one wrong field of each kind is reported."""
    original = next(m for m in _manifests(stack("workloads-production")) if m["kind"] == kind)
    broken = copy.deepcopy(original)
    break_it(broken)
    assert any(expected in error for error in _errors(schemas, broken))


def test_the_vendored_crds_are_the_pinned_release_unchanged_in_kind():
    """Chart.yaml's version is the bundle version of every vendored CRD (a bump without new files fails)."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("gateway-api-crds", "1.5.0", "v1.5.0")
    from iworkz.charts import CHARTS

    pinned = CHARTS["gateway-api-crds"]
    assert (pinned.repository, pinned.version) == ("charts/gateway-api-crds", chart["version"])
    crds = [
        document
        for path in sorted((CHART / "templates").glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document and document["kind"] == "CustomResourceDefinition"
    ]
    kinds = {crd["spec"]["names"]["kind"] for crd in crds}
    assert {"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant"} <= kinds
    for crd in crds:
        annotations = crd["metadata"]["annotations"]
        assert annotations["gateway.networking.k8s.io/bundle-version"] == chart["appVersion"]
        assert annotations["gateway.networking.k8s.io/channel"] == "standard"
    # Helm would render "{{" as a template directive: the files must hold none.
    assert not any("{{" in path.read_text(encoding="utf-8") for path in (CHART / "templates").glob("*.yaml"))


def test_the_vendored_schemas_name_their_source():
    for path in VENDORED.glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert "commit" in document["source"] and document["schemas"], path.name
