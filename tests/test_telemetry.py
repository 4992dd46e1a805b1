"""AWS-native telemetry on the synthesised stacks: Container Insights, the Fargate pods' log router,
the OpenTelemetry Collector exporting to Jaeger and X-Ray, and the workloads' OTEL_* and Sentry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from iworkz import monitoring_values, telemetry_values
from iworkz.contracts import PlatformOutputs
from iworkz.helm_values import load_values
from iworkz_constructs.application import SEED_WORKLOADS, Telemetry
from iworkz_constructs.cluster_telemetry import AGENT_NAMESPACE, AGENT_POLICY, AGENT_SERVICE_ACCOUNT
from iworkz_constructs.fargate_logging import MAX_CONFIG_CHARACTERS
from tests.tf import one, policy_json, resources, trusted_service_accounts

StackJson = dict[str, Any]
ENVIRONMENTS = ("production", "staging", "dev")


def _release(doc: StackJson, release: str) -> dict[str, Any]:
    (body,) = [r for r in resources(doc, "helm_release").values() if r["name"] == release]
    return body


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_collector_exports_every_trace_to_jaeger_and_xray(
    stack: Callable[[str], StackJson], environment: str
) -> None:
    doc = stack(f"platform-{environment}")
    release = _release(doc, telemetry_values.RELEASE)
    assert release["namespace"] == telemetry_values.NAMESPACE and release["version"] == "0.170.0"
    values = yaml.safe_load(release["values"][0])
    config = values["config"]
    (pipeline,) = [p for p in config["service"]["pipelines"].values() if p is not None]
    assert pipeline is config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    exporters = set(pipeline["exporters"])
    jaeger = [e for e in exporters if e.startswith("otlp/")]
    assert len(jaeger) == 1 and "awsxray" in exporters
    jaeger_endpoint = config["exporters"][jaeger[0]]["endpoint"]
    assert (
        jaeger_endpoint
        == f"{monitoring_values.JAEGER_SERVICE}.{monitoring_values.NAMESPACE}.svc:{monitoring_values.OTLP_GRPC_PORT}"
    )
    assert config["exporters"]["awsxray"]["region"] == "ap-northeast-1"
    # The chart's other receivers, exporters and pipelines are switched off (Helm deletes null keys).
    assert {k for k, v in config["receivers"].items() if v is None} == {"jaeger", "zipkin", "prometheus"}
    assert config["exporters"]["debug"] is None
    assert values["image"]["repository"].endswith("opentelemetry-collector-contrib")  # it has awsxray
    assert values["command"]["name"] == "otelcol-contrib"
    # Its IRSA role may put trace segments into X-Ray, nothing else.
    annotation = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    role_id = annotation.split(".")[1]
    role = resources(doc, "aws_iam_role")[role_id]
    assert trusted_service_accounts(doc, role) == [
        f"system:serviceaccount:{telemetry_values.NAMESPACE}:{telemetry_values.SERVICE_ACCOUNT}"
    ]
    (policy,) = [p for p in resources(doc, "aws_iam_role_policy").values() if role_id in p["role"]]
    assert policy_json(doc, policy["policy"])["Statement"] == [
        {"Sid": "XRayTraceSegments", "Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}
    ]


def test_the_collector_service_is_the_endpoint_the_contract_names() -> None:
    static = load_values(telemetry_values.RELEASE, telemetry_values.REQUIRED_KEYS)
    host = f"{static['fullnameOverride']}.{telemetry_values.NAMESPACE}.svc"
    assert telemetry_values.otlp_endpoint() == f"http://{host}:4317"
    # Only the OTLP ports stay open (the chart's Jaeger and Zipkin receivers are off).
    assert {name for name, port in static["ports"].items() if port.get("enabled") is False} == {
        "jaeger-compact",
        "jaeger-thrift",
        "jaeger-grpc",
        "zipkin",
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_workloads_send_traces_to_the_collector_and_errors_to_sentry(
    stack: Callable[[str], StackJson], stack_construct: Callable[[str], Any], environment: str
) -> None:
    doc = stack(f"workloads-{environment}")
    endpoint = PlatformOutputs.configured(stack_construct(f"platform-{environment}").context)["otlp_endpoint"]
    deployments = {d["metadata"]["name"]: d for d in resources(doc, "kubernetes_deployment_v1").values()}
    assert set(deployments) == set(SEED_WORKLOADS)
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["container"]
        env = {e["name"]: e for e in container["env"]}
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == endpoint
        assert env["OTEL_SERVICE_NAME"]["value"] == name
        assert env["OTEL_EXPORTER_OTLP_PROTOCOL"]["value"] == "grpc"
        assert env["OTEL_TRACES_EXPORTER"]["value"] == "otlp"
        assert f"deployment.environment.name={environment}" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
        assert env["OTEL_TRACES_SAMPLER"]["value"] == "parentbased_traceidratio"
        assert 0 <= float(env["OTEL_TRACES_SAMPLER_ARG"]["value"]) <= 1
        sentry = env["SENTRY_DSN"]["value_from"]["secret_key_ref"]
        assert sentry == {"name": "sentry-dsn", "key": "dsn", "optional": True}
        assert env["SENTRY_ENVIRONMENT"]["value"] == environment
    # backend-api's egress NetworkPolicy lets its traces out.
    policy = one(doc, "kubernetes_network_policy_v1")
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert "4317" in {str(port) for port in ports}


def test_sampling_is_per_environment(stack: Callable[[str], StackJson]) -> None:
    def ratio(environment: str) -> float:
        doc = stack(f"workloads-{environment}")
        deployment = next(iter(resources(doc, "kubernetes_deployment_v1").values()))
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["container"][0]["env"]}
        return float(env["OTEL_TRACES_SAMPLER_ARG"]["value"])

    assert ratio("production") == 0.1 and ratio("dev") == 1.0


def test_the_sentry_dsn_comes_from_an_operator_filled_secret_through_external_secrets(
    stack: Callable[[str], StackJson],
) -> None:
    doc = stack("workloads-production")
    (secret_id, secret) = next(
        (k, s) for k, s in resources(doc, "aws_secretsmanager_secret").items() if s["name"].endswith("/sentry-dsn")
    )
    assert secret["name"] == "iworkz-production/platform/sentry-dsn" and secret["kms_key_id"]
    assert not any(secret_id in str(v) for v in resources(doc, "aws_secretsmanager_secret_version").values())
    (external,) = [
        m["manifest"]
        for m in resources(doc, "kubernetes_manifest").values()
        if m["manifest"]["kind"] == "ExternalSecret" and m["manifest"]["metadata"]["name"] == "sentry-dsn"
    ]
    (entry,) = external["spec"]["data"]
    assert (
        entry["secretKey"] == "dsn" and entry["remoteRef"]["key"] == f"${{aws_secretsmanager_secret.{secret_id}.arn}}"
    )
    # Created after the platform split: not among the objects the workloads stack imports.
    assert all(secret_id not in block["to"] for block in doc.get("import", []))


def test_telemetry_props_default_like_the_configuration() -> None:
    from iworkz.config.platform import PlatformConfig

    assert PlatformConfig.model_fields["trace_sampling_ratio"].default == Telemetry("http://x", "e").sampling_ratio


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_fargate_pods_log_to_the_clusters_encrypted_log_group(
    stack: Callable[[str], StackJson], environment: str
) -> None:
    platform, eks = stack(f"platform-{environment}"), stack(f"eks-{environment}")
    group_name = f"/aws/eks/iworkz-{environment}/fargate"
    namespace = next(
        n
        for n in resources(platform, "kubernetes_namespace_v1").values()
        if n["metadata"]["name"] == "aws-observability"
    )
    assert namespace["metadata"]["labels"]["aws-observability"] == "enabled"
    (config_map,) = [
        c for c in resources(platform, "kubernetes_config_map_v1").values() if c["metadata"]["name"] == "aws-logging"
    ]
    data = config_map["data"]
    assert set(data) == {"flb_log_cw", "filters.conf", "output.conf", "parsers.conf"}
    assert sum(len(k) + len(v) for k, v in data.items()) <= MAX_CONFIG_CHARACTERS
    output = dict(line.split(None, 1) for line in data["output.conf"].splitlines()[1:])
    assert output == {
        "Name": "cloudwatch_logs",
        "Match": "kube.*",
        "region": "ap-northeast-1",
        "log_group_name": group_name,
        "log_stream_prefix": "fargate-",
        "auto_create_group": "false",
    }
    assert "${" not in "".join(data.values())  # EKS refuses environment variables in this ConfigMap
    (group_id, group) = next(
        (k, g) for k, g in resources(eks, "aws_cloudwatch_log_group").items() if g["name"] == group_name
    )
    assert group["kms_key_id"].startswith("${aws_kms_key.") and group["retention_in_days"] > 0
    profile = one(eks, "aws_eks_fargate_profile")
    role_id = profile["pod_execution_role_arn"].split(".")[1]
    (policy,) = [
        p for p in resources(eks, "aws_iam_role_policy").values() if role_id in p["role"] and "logs" in p["name"]
    ]
    (statement,) = policy_json(eks, policy["policy"])["Statement"]
    assert statement["Resource"] == [
        f"${{aws_cloudwatch_log_group.{group_id}.arn}}",
        f"${{aws_cloudwatch_log_group.{group_id}.arn}}:*",
    ]
    assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_container_insights_writes_into_encrypted_log_groups_with_its_own_role(
    stack: Callable[[str], StackJson], environment: str
) -> None:
    doc = stack(f"eks-{environment}")
    (addon,) = [
        a for a in resources(doc, "aws_eks_addon").values() if a["addon_name"] == "amazon-cloudwatch-observability"
    ]
    role_id = addon["service_account_role_arn"].split(".")[1]
    role = resources(doc, "aws_iam_role")[role_id]
    assert trusted_service_accounts(doc, role) == [f"system:serviceaccount:{AGENT_NAMESPACE}:{AGENT_SERVICE_ACCOUNT}"]
    attached = {
        a["policy_arn"] for a in resources(doc, "aws_iam_role_policy_attachment").values() if role_id in a["role"]
    }
    assert attached == {AGENT_POLICY}
    groups = {g["name"]: g for g in resources(doc, "aws_cloudwatch_log_group").values()}
    for kind in ("application", "dataplane", "host", "performance"):
        group = groups[f"/aws/containerinsights/iworkz-{environment}/{kind}"]
        assert group["kms_key_id"] and group["retention_in_days"] == 30
    created_first = [d for d in addon["depends_on"] if d.startswith("aws_cloudwatch_log_group.")]
    assert len(created_first) == 5  # the four Container Insights groups and the Fargate group
