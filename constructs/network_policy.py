"""A Kubernetes NetworkPolicy from typed rules: who may reach a workload, and where it may go.

The policy is enforced only where the cluster's network plugin enforces policies (on EKS the
VPC CNI's network policy agent, ``enableNetworkPolicy``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.network_policy_v1 import (
    NetworkPolicyV1,
    NetworkPolicyV1Metadata,
    NetworkPolicyV1Spec,
    NetworkPolicyV1SpecEgress,
    NetworkPolicyV1SpecEgressPorts,
    NetworkPolicyV1SpecIngress,
    NetworkPolicyV1SpecIngressFrom,
    NetworkPolicyV1SpecIngressFromIpBlock,
    NetworkPolicyV1SpecIngressFromNamespaceSelector,
    NetworkPolicyV1SpecIngressFromPodSelector,
    NetworkPolicyV1SpecIngressPorts,
    NetworkPolicyV1SpecPodSelector,
)
from constructs import Construct

# The label Kubernetes sets on every namespace: selects a namespace by its name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Peer:
    """Who may connect: the pods matching ``pods`` in the namespaces matching ``namespaces`` (an
    empty selector on one side means "any"), or the addresses of ``cidrs`` (e.g. a load
    balancer's subnets); selectors and ranges are not combined in one peer."""

    namespaces: Mapping[str, str] = field(default_factory=dict)
    pods: Mapping[str, str] = field(default_factory=dict)
    cidrs: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.namespaces and not self.pods and not self.cidrs:
            raise ValueError("a network policy peer selects namespaces, pods or address ranges")
        if self.cidrs and (self.namespaces or self.pods):
            raise ValueError("a network policy peer is either selectors or address ranges, not both")

    @classmethod
    def namespace(cls, name: str) -> Peer:
        return cls(namespaces={NAMESPACE_NAME_LABEL: name})


@dataclass(frozen=True)
class IngressRule:
    """``peers`` may connect to ``ports`` (TCP)."""

    peers: Sequence[Peer]
    ports: Sequence[int]


@dataclass(frozen=True)
class EgressPort:
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class NetworkPolicyProps:
    """Properties of :class:`NetworkPolicy`.

    | name | meaning | default |
    |---|---|---|
    | name / namespace | the policy | required |
    | pod_selector | the pods it applies to (match labels) | required |
    | ingress | who may connect; an empty list admits nobody | required |
    | egress | ports the pods may reach; None leaves egress open | None |
    | labels | labels of the policy | none |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    namespace: str
    pod_selector: Mapping[str, str]
    ingress: Sequence[IngressRule]
    egress: Sequence[EgressPort] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    provider: TerraformProvider | None = None


class NetworkPolicy(NetworkPolicyV1):
    """``kubernetes_network_policy_v1`` with typed rules."""

    def __init__(self, scope: Construct, id: str, props: NetworkPolicyProps) -> None:
        types = ["Ingress"] if props.egress is None else ["Ingress", "Egress"]
        super().__init__(
            scope,
            id,
            metadata=NetworkPolicyV1Metadata(
                name=props.name, namespace=props.namespace, labels=dict(props.labels) or None
            ),
            spec=NetworkPolicyV1Spec(
                pod_selector=NetworkPolicyV1SpecPodSelector(match_labels=dict(props.pod_selector)),
                policy_types=types,
                ingress=[
                    NetworkPolicyV1SpecIngress(
                        from_=[source for peer in rule.peers for source in _sources(peer)],
                        ports=[NetworkPolicyV1SpecIngressPorts(port=str(port), protocol="TCP") for port in rule.ports],
                    )
                    for rule in props.ingress
                ],
                egress=None
                if props.egress is None
                else [
                    NetworkPolicyV1SpecEgress(
                        ports=[
                            NetworkPolicyV1SpecEgressPorts(port=str(p.port), protocol=p.protocol) for p in props.egress
                        ]
                    )
                ],
            ),
            provider=props.provider,
        )


def _sources(peer: Peer) -> list[NetworkPolicyV1SpecIngressFrom]:
    if peer.cidrs:
        return [
            NetworkPolicyV1SpecIngressFrom(ip_block=NetworkPolicyV1SpecIngressFromIpBlock(cidr=c)) for c in peer.cidrs
        ]
    return [
        NetworkPolicyV1SpecIngressFrom(
            namespace_selector=NetworkPolicyV1SpecIngressFromNamespaceSelector(match_labels=dict(peer.namespaces))
            if peer.namespaces
            else None,
            pod_selector=NetworkPolicyV1SpecIngressFromPodSelector(match_labels=dict(peer.pods)) if peer.pods else None,
        )
    ]
