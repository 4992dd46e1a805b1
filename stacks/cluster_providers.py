"""Kubernetes and Helm providers of a stack that deploys into the EKS cluster of its environment.

Both providers talk to the cluster through the EKS stack's outputs (endpoint, CA data, name,
carried as cross-stack references) and obtain a short-lived token with ``aws eks get-token``
through the exec plugin: no kubeconfig file, no long-lived credentials in state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdktf import Fn, TerraformStack, Token
from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes, HelmProviderKubernetesExec
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec

if TYPE_CHECKING:
    from stacks.base import IworkzStack

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


def cluster_access(eks_stack: Any, region: str) -> ClusterAccess:
    """Host, PEM CA bundle and ``aws eks get-token`` arguments from ``eks_stack.cluster``."""
    cluster = eks_stack.cluster
    return ClusterAccess(
        host=Token.as_string(cluster.endpoint),
        cluster_ca_certificate=Fn.base64decode(Token.as_string(cluster.certificate_authority_data)),
        exec_args=["eks", "get-token", "--cluster-name", Token.as_string(cluster.name), "--region", region],
    )


def cluster_providers(
    stack: IworkzStack | TerraformStack, eks_stack: Any, region: str | None = None
) -> ClusterProviders:
    """Creates the stack's default ``kubernetes`` and ``helm`` providers for the environment's EKS cluster.

    ``region`` defaults to the stack's AWS region (``config/<env>.yaml: aws.region``).
    """
    if region is None:
        region = stack.context.env.aws.region  # type: ignore[union-attr]
    access = cluster_access(eks_stack, region)
    kubernetes = KubernetesProvider(
        stack,
        "kubernetes",
        host=access.host,
        cluster_ca_certificate=access.cluster_ca_certificate,
        exec=[KubernetesProviderExec(api_version=EXEC_API_VERSION, command=EXEC_COMMAND, args=access.exec_args)],
    )
    helm = HelmProvider(
        stack,
        "helm",
        kubernetes=HelmProviderKubernetes(
            host=access.host,
            cluster_ca_certificate=access.cluster_ca_certificate,
            exec=HelmProviderKubernetesExec(api_version=EXEC_API_VERSION, command=EXEC_COMMAND, args=access.exec_args),
        ),
    )
    return ClusterProviders(kubernetes=kubernetes, helm=helm)
