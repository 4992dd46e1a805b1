"""Mutual TLS between workloads (Istio ambient): mesh-wide STRICT, and the ports a load balancer reaches.

In ambient mode ztunnel, on every node, carries the traffic of the pods in the mesh over mTLS
(HBONE, port 15008). A ``PeerAuthentication`` named ``default`` in Istio's root namespace makes
it STRICT for the whole mesh: a plaintext connection to a meshed pod is refused.

Clients outside the mesh cannot speak HBONE: the ALB (IP targets) and a Prometheus outside the
mesh. The ports they reach are listed as ``entrypoints`` and accept plaintext there too (a
workload policy, ``portLevelMtls`` PERMISSIVE, which ambient supports); every other port stays
STRICT, and the workload's NetworkPolicy says who may use the plaintext port. Kubelet probes
are not affected: ambient marks them (SNAT to 169.254.7.127) and lets them pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from constructs import Construct

PEER_AUTHENTICATION_API = "security.istio.io/v1"
# The namespace label that puts a namespace's pods into the ambient mesh.
AMBIENT_LABELS: Mapping[str, str] = {"istio.io/dataplane-mode": "ambient"}
# ztunnel's HBONE port: meshed traffic arrives on it (NetworkPolicies must admit it).
HBONE_PORT = 15008
# The source address ambient gives kubelet probes (NetworkPolicies must admit it).
PROBE_SOURCE = "169.254.7.127/32"


@dataclass(frozen=True)
class Entrypoint:
    """Pods (by labels) in ``namespace`` whose ``ports`` clients outside the mesh connect to."""

    name: str
    namespace: str
    pod_labels: Mapping[str, str]
    ports: Sequence[int]


@dataclass(frozen=True)
class MeshMtlsProps:
    """Properties of :class:`MeshMtls`.

    | name | meaning | default |
    |---|---|---|
    | root_namespace | Istio's root namespace (a policy there applies to the whole mesh) | required |
    | entrypoints | ports reached from outside the mesh (a load balancer's targets) | none |
    | depends_on / provider | as usual | none / the stack's default |
    """

    root_namespace: str
    entrypoints: Sequence[Entrypoint] = ()
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        for entry in self.entrypoints:
            if not entry.pod_labels:
                raise ValueError(f"entrypoint {entry.name}: select its pods by labels (a namespace-wide one is wider)")
            if not entry.ports or HBONE_PORT in entry.ports:
                raise ValueError(f"entrypoint {entry.name}: name its ports (not ztunnel's own {HBONE_PORT})")


class MeshMtls(Construct):
    """Attributes: ``mesh_policy`` (the STRICT PeerAuthentication), ``entrypoints`` (name -> policy)."""

    def __init__(self, scope: Construct, id: str, props: MeshMtlsProps) -> None:
        super().__init__(scope, id)
        depends_on = list(props.depends_on) or None
        self.mesh_policy = Manifest(
            self,
            "mesh-strict",
            manifest={
                "apiVersion": PEER_AUTHENTICATION_API,
                "kind": "PeerAuthentication",
                "metadata": {"name": "default", "namespace": props.root_namespace},
                "spec": {"mtls": {"mode": "STRICT"}},
            },
            depends_on=depends_on,
            provider=props.provider,
        )
        self.entrypoints = {
            entry.name: Manifest(
                self,
                f"{entry.name}-entrypoint",
                manifest={
                    "apiVersion": PEER_AUTHENTICATION_API,
                    "kind": "PeerAuthentication",
                    "metadata": {"name": f"{entry.name}-entrypoint", "namespace": entry.namespace},
                    "spec": {
                        "selector": {"matchLabels": dict(entry.pod_labels)},
                        "mtls": {"mode": "STRICT"},
                        "portLevelMtls": {str(port): {"mode": "PERMISSIVE"} for port in entry.ports},
                    },
                },
                depends_on=depends_on,
                provider=props.provider,
            )
            for entry in props.entrypoints
        }
