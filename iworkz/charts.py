"""Every Helm chart the stacks install, pinned exactly (one place: review and Renovate read it here).

A release is named after its key; its static values are ``helm_values/<release>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"


@dataclass(frozen=True)
class Chart:
    """Where a release's chart comes from; the version is exact (HelmChart rejects ranges)."""

    chart: str
    repository: str
    version: str


CHARTS: dict[str, Chart] = {
    # platform-E: cluster add-ons
    "aws-load-balancer-controller": Chart("aws-load-balancer-controller", "https://aws.github.io/eks-charts", "1.14.1"),
    "ingress-nginx": Chart("ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "4.13.3"),
    "cert-manager": Chart("cert-manager", "https://charts.jetstack.io", "v1.18.2"),
    "metrics-server": Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server", "3.13.0"),
    "cluster-autoscaler": Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.52.1"),
    "nvidia-device-plugin": Chart("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.4"),
    "external-secrets": Chart("external-secrets", "https://charts.external-secrets.io", "0.20.4"),
    # OTLP from the workloads to Jaeger and AWS X-Ray (chart 0.170.0: collector 0.158.0).
    "opentelemetry-collector": Chart(
        "opentelemetry-collector", "https://open-telemetry.github.io/opentelemetry-helm-charts", "0.170.0"
    ),
    # monitoring-E
    "kube-prometheus-stack": Chart("kube-prometheus-stack", PROMETHEUS_COMMUNITY, "88.5.3"),
    "jaeger": Chart("jaeger", "https://jaegertracing.github.io/helm-charts", "4.11.1"),
    "fluent-bit": Chart("fluent-bit", "https://fluent.github.io/helm-charts", "0.58.1"),
    "prometheus-postgres-exporter": Chart("prometheus-postgres-exporter", PROMETHEUS_COMMUNITY, "8.2.0"),
}
