"""Pod placement derived from the EKS node group definitions (tolerations and node selectors).

The seed's ai-services tolerates ``ai-workload`` and selects ``instance-type: compute-optimized``,
while its own node group is tainted ``compute-optimized`` and labelled ``NodeGroup``: such a pod
never schedules. Here the Kubernetes side is computed from the node groups instead of being
written twice, and :func:`schedulable_node_groups` checks the result.

Plain Python on purpose (no provider imports): the configuration validates workloads with it
before any provider loads. Node groups are duck-typed (``labels``, ``taints`` with ``key``,
``value``, ``effect``, and ``gpu``), as in ``iworkz.config.eks.NodeGroupConfig``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Taint effects that keep pods away; PreferNoSchedule is only a preference.
REPELLING_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


class TaintLike(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def effect(self) -> str: ...


class NodeGroupLike(Protocol):
    @property
    def labels(self) -> Mapping[str, str]: ...

    @property
    def taints(self) -> Sequence[TaintLike]: ...

    @property
    def gpu(self) -> bool: ...


@dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration; ``effect`` None tolerates every effect (Kubernetes semantics)."""

    key: str
    operator: str = "Equal"
    value: str | None = None
    effect: str | None = None

    def __post_init__(self) -> None:
        if self.operator not in ("Equal", "Exists"):
            raise ValueError(f"toleration operator must be Equal or Exists, got {self.operator!r}")
        if self.operator == "Equal" and not self.key:
            raise ValueError("a toleration with operator Equal needs a key")

    def tolerates(self, taint: TaintLike) -> bool:
        if self.effect is not None and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and (self.value or "") == taint.value

    def as_values(self) -> dict[str, str]:
        """The toleration as it appears in a manifest or Helm values (camelCase keys)."""
        values = {"key": self.key, "operator": self.operator}
        if self.operator == "Equal" and self.value is not None:
            values["value"] = self.value
        if self.effect is not None:
            values["effect"] = self.effect
        return values


@dataclass(frozen=True)
class Placement:
    """Where a pod goes: node selector (all labels must match) and tolerations."""

    node_selector: Mapping[str, str]
    tolerations: tuple[Toleration, ...]

    def as_helm_values(self) -> dict[str, Any]:
        return {
            "nodeSelector": dict(self.node_selector),
            "tolerations": [t.as_values() for t in self.tolerations],
        }


def tolerations_for(group: NodeGroupLike) -> tuple[Toleration, ...]:
    """One Equal toleration per taint of the group."""
    return tuple(Toleration(t.key, "Equal", t.value, t.effect) for t in group.taints)


def placement_on(name: str, node_groups: Mapping[str, NodeGroupLike]) -> Placement:
    """Placement onto the node group ``name``: select all its labels, tolerate all its taints."""
    if name not in node_groups:
        raise ValueError(f"node group {name!r} is not defined (known: {', '.join(node_groups)})")
    group = node_groups[name]
    if not group.labels:
        raise ValueError(f"node group {name!r} has no labels to select it by")
    return Placement(dict(group.labels), tolerations_for(group))


def gpu_node_groups(node_groups: Mapping[str, NodeGroupLike]) -> dict[str, NodeGroupLike]:
    return {name: group for name, group in node_groups.items() if group.gpu}


def gpu_daemon_placement(node_groups: Mapping[str, NodeGroupLike]) -> dict[str, Any]:
    """Helm values placing a per-GPU-node daemon (NVIDIA device plugin) on every GPU node group.

    Tolerations: the union of the GPU groups' taints. A node selector when there is one GPU
    group; always a required node affinity with one term per GPU group (terms are OR-ed), which
    also replaces the chart's default affinity on node-feature-discovery labels that EKS nodes
    do not carry.
    """
    groups = gpu_node_groups(node_groups)
    if not groups:
        raise ValueError("there is no GPU node group (gpu: true) to place the daemon on")
    unlabelled = [name for name, group in groups.items() if not group.labels]
    if unlabelled:
        raise ValueError(f"GPU node group(s) {', '.join(unlabelled)} have no labels to select them by")
    tolerations: list[Toleration] = []
    for group in groups.values():
        for toleration in tolerations_for(group):
            if toleration not in tolerations:
                tolerations.append(toleration)
    values: dict[str, Any] = {
        "tolerations": [t.as_values() for t in tolerations],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": key, "operator": "In", "values": [value]}
                                for key, value in sorted(group.labels.items())
                            ]
                        }
                        for group in groups.values()
                    ]
                }
            }
        },
    }
    if len(groups) == 1:
        values["nodeSelector"] = dict(next(iter(groups.values())).labels)
    return values


def matching_node_groups(toleration: Toleration, node_groups: Mapping[str, NodeGroupLike]) -> list[str]:
    """Node groups that have at least one taint this toleration tolerates."""
    return [name for name, group in node_groups.items() if any(toleration.tolerates(t) for t in group.taints)]


def schedulable_node_groups(
    node_selector: Mapping[str, str],
    tolerations: Iterable[Toleration],
    node_groups: Mapping[str, NodeGroupLike],
) -> list[str]:
    """Node groups a pod with this selector and these tolerations can land on."""
    tolerations = tuple(tolerations)
    result = []
    for name, group in node_groups.items():
        if any(group.labels.get(key) != value for key, value in node_selector.items()):
            continue
        blocking = [t for t in group.taints if t.effect in REPELLING_EFFECTS]
        if all(any(tol.tolerates(taint) for tol in tolerations) for taint in blocking):
            result.append(name)
    return result


def useless_tolerations(
    tolerations: Iterable[Toleration], node_groups: Mapping[str, NodeGroupLike]
) -> list[Toleration]:
    """Tolerations that match no taint of any node group (like the seed's ``ai-workload``)."""
    return [t for t in tolerations if not matching_node_groups(t, node_groups)]


class WorkloadPlacementLike(Protocol):
    """A workload's scheduling configuration (``iworkz.config.platform.WorkloadConfig``)."""

    @property
    def node_group(self) -> str | None: ...

    @property
    def tolerations(self) -> Sequence[Any]: ...


def placements(
    workloads: Mapping[str, WorkloadPlacementLike], node_groups: Mapping[str, NodeGroupLike]
) -> dict[str, Placement]:
    """Each workload's node selector and tolerations: from its node group, plus its extra tolerations."""
    found = {}
    for name, workload in workloads.items():
        extra = tuple(Toleration(t.key, t.operator, t.value, t.effect) for t in workload.tolerations)
        if workload.node_group is not None:
            base = placement_on(workload.node_group, node_groups)
            found[name] = Placement(
                base.node_selector, base.tolerations + tuple(t for t in extra if t not in base.tolerations)
            )
        elif extra:
            found[name] = Placement({}, extra)
    return found
