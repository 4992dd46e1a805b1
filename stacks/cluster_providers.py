"""Kubernetes and Helm providers of a stack that deploys into the EKS cluster of its environment.

Both providers talk to the cluster through the EKS stack's contract (endpoint, CA data, name,
read from its state) and obtain a short-lived token with ``aws eks get-token``
through the exec plugin: no kubeconfig file, no long-lived credentials in state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdktf import Fn, TerraformStack
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec

from iworkz.contracts import ClusterOutputs

if TYPE_CHECKING:
    from cdktf_cdktf_provider_helm.provider import HelmProvider

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
EXEC_COMMAND = "aws"


@dataclass(frozen=True)
class ClusterProviders:
    kubernetes: KubernetesProvider
    helm: HelmProvider


@dataclass(frozen=True)
class ClusterAccess:
    """Where the cluster is and how to authenticate (tokens resolved at apply time)."""

    host: str
    cluster_ca_certificate: str
    exec_args: list[str]


def cluster_access(cluster: ClusterOutputs) -> ClusterAccess:
    """Host, PEM CA bundle and ``aws eks get-token`` arguments of the cluster."""
    return ClusterAccess(
        host=cluster.endpoint,
        cluster_ca_certificate=Fn.base64decode(cluster.certificate_authority_data),
        exec_args=["eks", "get-token", "--cluster-name", cluster.name, "--region", cluster.region],
    )


def kubernetes_provider(stack: TerraformStack, cluster: ClusterOutputs) -> KubernetesProvider:
    """The stack's default ``kubernetes`` provider for the environment's EKS cluster."""
    return kubernetes_provider_for(stack, cluster_access(cluster), EXEC_COMMAND)


def kubernetes_provider_for(stack: TerraformStack, access: ClusterAccess, command: str) -> KubernetesProvider:
    """The stack's default ``kubernetes`` provider for a cluster, its token from ``command``."""
    return KubernetesProvider(
        stack,
        "kubernetes",
        host=access.host,
        cluster_ca_certificate=access.cluster_ca_certificate,
        exec=[KubernetesProviderExec(api_version=EXEC_API_VERSION, command=command, args=access.exec_args)],
    )


def cluster_providers(stack: TerraformStack, cluster: ClusterOutputs) -> ClusterProviders:
    """The stack's default ``kubernetes`` and ``helm`` providers for the environment's EKS cluster."""
    return providers_for(stack, cluster_access(cluster), EXEC_COMMAND)


def providers_for(stack: TerraformStack, access: ClusterAccess, command: str) -> ClusterProviders:
    """The stack's default ``kubernetes`` and ``helm`` providers for a cluster (EKS or AKS)."""
    from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes, HelmProviderKubernetesExec

    helm = HelmProvider(
        stack,
        "helm",
        kubernetes=HelmProviderKubernetes(
            host=access.host,
            cluster_ca_certificate=access.cluster_ca_certificate,
            exec=HelmProviderKubernetesExec(api_version=EXEC_API_VERSION, command=command, args=access.exec_args),
        ),
    )
    return ClusterProviders(kubernetes=kubernetes_provider_for(stack, access, command), helm=helm)
