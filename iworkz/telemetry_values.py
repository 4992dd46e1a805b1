"""Where the workloads' traces go: the OpenTelemetry Collector of the platform stack.

The collector is a cluster add-on (stacks/platform.py), so the workloads, deployed after it,
read its OTLP endpoint from the platform stack's contract (``PlatformOutputs.otlp_endpoint``, a
configured fact); it forwards every trace to Jaeger (the monitoring stack, deployed later, at
its fixed in-cluster name) and to AWS X-Ray. Pure functions of configuration (no cdktf).
"""

from __future__ import annotations

from typing import Any

from iworkz import monitoring_values

RELEASE = "opentelemetry-collector"
NAMESPACE = "opentelemetry"
SERVICE = "otel-collector"  # fullnameOverride of helm_values/opentelemetry-collector.yaml
SERVICE_ACCOUNT = SERVICE
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
REQUIRED_KEYS = ("fullnameOverride", "config.service.pipelines.traces", "config.exporters.awsxray")
# The collector's only AWS call (the X-Ray exporter; its telemetry records are off).
XRAY_STATEMENT = {
    "Sid": "XRayTraceSegments",
    "Effect": "Allow",
    "Action": "xray:PutTraceSegments",
    # X-Ray has no resource-level permissions for PutTraceSegments.
    "Resource": "*",
}


def otlp_endpoint() -> str:
    """The collector's OTLP gRPC endpoint (HTTP: port 4318)."""
    return f"http://{SERVICE}.{NAMESPACE}.svc:{OTLP_GRPC_PORT}"


def jaeger_otlp_endpoint() -> str:
    """Jaeger's OTLP gRPC receiver in the monitoring namespace."""
    return monitoring_values.service_dns(
        monitoring_values.JAEGER_SERVICE, monitoring_values.NAMESPACE, monitoring_values.OTLP_GRPC_PORT
    )


def collector_values(region: str, image_repository: str, image_tag: str) -> dict[str, Any]:
    """The collector's computed values: its image, Jaeger's address and X-Ray's region."""
    return {
        "image": {"repository": image_repository, "tag": image_tag},
        "config": {
            "exporters": {
                "otlp/jaeger": {"endpoint": jaeger_otlp_endpoint()},
                "awsxray": {"region": region},
            }
        },
    }
