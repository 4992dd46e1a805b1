"""Every Helm chart the stacks install, pinned exactly (one place: review and Renovate read it here).

A release is named after its key; its static values are ``helm_values/<release>.yaml``. A
repository of ``charts/<name>`` is a chart kept in this repository (vendored upstream files).
"""

from __future__ import annotations

from dataclasses import dataclass

PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"
ISTIO = "https://istio-release.storage.googleapis.com/charts"


@dataclass(frozen=True)
class Chart:
    """Where a release's chart comes from; the version is exact (HelmChart rejects ranges)."""

    chart: str
    repository: str
    version: str


CHARTS: dict[str, Chart] = {
    # platform-E: cluster add-ons
    # Gateway API v1.5.0, standard channel (the CRDs the controllers below are built for).
    "gateway-api-crds": Chart("gateway-api-crds", "charts/gateway-api-crds", "1.5.0"),
    # Controller v3.4.3: Gateway API support GA since v3.0.0; v3.4.x is the last line built for
    # Gateway API v1.5.0 (v3.5.0 moves to v1.6.0).
    "aws-load-balancer-controller": Chart("aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.4.3"),
    # Istio in ambient mode (ztunnel, no sidecars): east-west mTLS.
    "istio-base": Chart("base", ISTIO, "1.30.3"),
    "istiod": Chart("istiod", ISTIO, "1.30.3"),
    "istio-cni": Chart("cni", ISTIO, "1.30.3"),
    "ztunnel": Chart("ztunnel", ISTIO, "1.30.3"),
    "cert-manager": Chart("cert-manager", "https://charts.jetstack.io", "v1.18.2"),
    "metrics-server": Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server", "3.13.0"),
    "cluster-autoscaler": Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.52.1"),
    "nvidia-device-plugin": Chart("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.4"),
    "external-secrets": Chart("external-secrets", "https://charts.external-secrets.io", "0.20.4"),
    # monitoring-E
    "kube-prometheus-stack": Chart("kube-prometheus-stack", PROMETHEUS_COMMUNITY, "88.5.3"),
    "jaeger": Chart("jaeger", "https://jaegertracing.github.io/helm-charts", "4.11.1"),
    "fluent-bit": Chart("fluent-bit", "https://fluent.github.io/helm-charts", "0.58.1"),
    "prometheus-postgres-exporter": Chart("prometheus-postgres-exporter", PROMETHEUS_COMMUNITY, "8.2.0"),
}
