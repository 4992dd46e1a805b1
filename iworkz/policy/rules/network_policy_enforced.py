"""NETWORK_POLICY_ENFORCED: a Kubernetes NetworkPolicy only filters traffic on a cluster that enforces it.

EKS enforces NetworkPolicies only when the VPC CNI's network policy agent is on (the ``vpc-cni``
add-on's ``enableNetworkPolicy``; AWS leaves it off). Without it every
``kubernetes_network_policy(_v1)`` is accepted by the API server and does nothing. The rule spans
stacks: the policies live in the stacks that use the cluster, the add-on in the cluster's stack
(found through the kubernetes provider's ``host``, a cross-stack reference). AKS enforces them
with the cluster's network policy engine (``network_profile.network_policy``: Cilium or Azure).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from iworkz.policy.rules.base import Finding, StackDocument, TreeRule, blocks

ID = "NETWORK_POLICY_ENFORCED"
DESCRIPTION = "a kubernetes_network_policy is applied only to a cluster that enforces NetworkPolicies"
FIX = 'turn on the VPC CNI network policy agent: vpc-cni add-on configuration_values {"enableNetworkPolicy": "true"}'
POLICY_TYPES = ("kubernetes_network_policy", "kubernetes_network_policy_v1")
# ${data.terraform_remote_state.<stack>.outputs.eks_cluster_endpoint} (cdktf's own cross-stack
# references name the data source cross-stack-reference-input-<stack>).
_CLUSTER_STACK = re.compile(r"terraform_remote_state\.(cross-stack-reference-input-)?(?P<stack>[A-Za-z0-9-]+)\.outputs")


def enforces_network_policies(doc: Mapping[str, Any]) -> bool:
    """Whether the stack's ``vpc-cni`` add-on runs the network policy agent, or its AKS cluster a policy engine."""
    for cluster in (doc.get("resource") or {}).get("azurerm_kubernetes_cluster", {}).values():
        if any(profile.get("network_policy") for profile in blocks(cluster.get("network_profile"))):
            return True
    for addon in (doc.get("resource") or {}).get("aws_eks_addon", {}).values():
        if addon.get("addon_name") != "vpc-cni":
            continue
        values = json.loads(addon.get("configuration_values") or "{}")
        if str(values.get("enableNetworkPolicy", "")).lower() == "true":
            return True
    return False


def _cluster_stack(name: str, doc: Mapping[str, Any]) -> str:
    """The stack that holds the cluster the kubernetes provider of ``doc`` talks to."""
    for provider in blocks((doc.get("provider") or {}).get("kubernetes")):
        match = _CLUSTER_STACK.search(str(provider.get("host", "")))
        if match:
            return match["stack"]
    return name  # the cluster is in the stack itself


def _cluster_stack_enforces(cluster_stack: str) -> bool:
    """Whether the cluster's stack builds it with NetworkPolicies enforced: the judge when a selection
    synthesises the policies without the cluster's stack (it is read from state then). The DR
    site's AKS cluster always has an engine (``dr_azure.aks_network_policy``: cilium or azure)."""
    from stacks.eks import VPC_CNI_CONFIGURATION

    if cluster_stack.startswith("dr-azure-"):
        return True
    return str(VPC_CNI_CONFIGURATION.get("enableNetworkPolicy", "")).lower() == "true"


def check(documents: Mapping[str, Mapping[str, Any]]) -> Iterator[Finding]:
    for name, doc in documents.items():
        stack = StackDocument(name, dict(doc))
        policies = [r for kind in POLICY_TYPES for r in stack.of(kind)]
        if not policies:
            continue
        cluster_stack = _cluster_stack(name, doc)
        cluster_doc = documents.get(cluster_stack)
        enforced = (
            _cluster_stack_enforces(cluster_stack) if cluster_doc is None else enforces_network_policies(cluster_doc)
        )
        if enforced:
            continue
        for policy in policies:
            yield Finding(
                name,
                policy.path,
                policy.address,
                ID,
                "(cluster)",
                cluster_stack,
                f"{DESCRIPTION}; the cluster of {cluster_stack} does not enforce them",
                FIX,
            )


RULE = TreeRule(ID, DESCRIPTION, FIX, check)
