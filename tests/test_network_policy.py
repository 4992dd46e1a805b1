"""NetworkPolicies are enforced: the VPC CNI runs its network policy agent, and a synth whose
NetworkPolicies land on a cluster that does not enforce them is a policy violation."""

from __future__ import annotations

import copy
import json

import pytest

from iworkz.policy.check import PolicyFacts, check
from iworkz.policy.report import PolicyError
from iworkz.policy.rules import NETWORK_POLICY_ENFORCED
from iworkz.policy.rules.network_policy_enforced import check as network_policy_findings


def _vpc_cni(doc):
    return next(a for a in doc["resource"]["aws_eks_addon"].values() if a["addon_name"] == "vpc-cni")


def test_the_vpc_cni_enforces_network_policies(settings, stack):
    for name in settings.environments:
        assert json.loads(_vpc_cni(stack(f"eks-{name}"))["configuration_values"]) == {"enableNetworkPolicy": "true"}


def test_a_selection_without_the_cluster_stack_is_judged_by_the_eks_stack(synthesized, monkeypatch):
    import stacks.eks

    policies = {n: d for n, d in synthesized.items() if "kubernetes_network_policy_v1" in d.get("resource", {})}
    assert list(network_policy_findings(policies)) == []  # the eks stack turns the agent on
    monkeypatch.setattr(stacks.eks, "VPC_CNI_CONFIGURATION", {})
    assert list(network_policy_findings(policies))


def test_the_shipped_network_policies_are_enforced(synthesized):
    with_policies = [n for n, d in synthesized.items() if "kubernetes_network_policy_v1" in d.get("resource", {})]
    assert with_policies, "the platform stacks write NetworkPolicies"
    assert list(network_policy_findings(synthesized)) == []


def _without_enforcement(synthesized, environment):
    documents = {n: d for n, d in synthesized.items() if n.endswith(f"-{environment}")}
    eks = copy.deepcopy(documents[f"eks-{environment}"])
    del _vpc_cni(eks)["configuration_values"]
    return {**documents, f"eks-{environment}": eks}


def test_a_network_policy_on_a_cluster_without_enforcement_is_a_violation(synthesized):
    environment = next(n.removeprefix("eks-") for n in synthesized if n.startswith("eks-"))
    documents = _without_enforcement(synthesized, environment)
    findings = list(network_policy_findings(documents))
    assert findings and {f.rule for f in findings} == {NETWORK_POLICY_ENFORCED}
    with_policies = {
        n
        for n, d in documents.items()
        if "kubernetes_network_policy_v1" in d.get("resource", {}) and not n.startswith("dr-")  # on AKS
    }
    assert {f.stack for f in findings} == with_policies
    assert all(
        f.address.startswith("kubernetes_network_policy_v1.") and f.value == f"eks-{environment}" for f in findings
    )
    with pytest.raises(PolicyError) as caught:
        check(documents, PolicyFacts())
    message = caught.value.render()
    assert NETWORK_POLICY_ENFORCED in message and "enableNetworkPolicy" in message


def test_the_standby_policies_are_enforced_by_the_aks_policy_engine(synthesized):
    documents = {n: d for n, d in synthesized.items() if n.endswith("-production")}
    if "dr-workloads-production" not in documents:
        pytest.skip("the DR stacks are not in the STACKS/ENVS selection")
    assert not [f for f in network_policy_findings(documents) if f.stack == "dr-workloads-production"]
    site = copy.deepcopy(documents["dr-azure-production"])
    for cluster in site["resource"]["azurerm_kubernetes_cluster"].values():
        del cluster["network_profile"]["network_policy"]
    findings = list(network_policy_findings({**documents, "dr-azure-production": site}))
    assert {f.stack for f in findings} == {"dr-workloads-production"}
