"""Kubernetes and Helm providers of a stack that deploys into the DR site's AKS cluster.

The cluster has no local accounts (Entra ID only): both providers obtain a short-lived Entra
token through the ``kubelogin`` exec plugin from the Azure CLI login of whoever deploys (the
pipeline's federated login), for the AKS server application. Host and CA bundle come from the
DR site's contract; no kubeconfig file, no credential in state.
"""

from __future__ import annotations

from cdktf import Fn, TerraformStack

from iworkz.contracts import DrAzureOutputs
from stacks.cluster_providers import ClusterAccess, ClusterProviders, providers_for

# The Entra application of the AKS API server (the same in every tenant).
AKS_SERVER_APPLICATION_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
KUBELOGIN = "kubelogin"


def aks_providers(stack: TerraformStack, site: DrAzureOutputs) -> ClusterProviders:
    """The stack's default ``kubernetes`` and ``helm`` providers for the DR site's AKS cluster."""
    access = ClusterAccess(
        host=site.aks_host,
        cluster_ca_certificate=Fn.base64decode(site.aks_cluster_ca_certificate),
        exec_args=["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APPLICATION_ID],
    )
    return providers_for(stack, access, command=KUBELOGIN)
