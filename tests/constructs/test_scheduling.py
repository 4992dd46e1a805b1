"""Placement derived from node group definitions (pure Python, no provider)."""

from __future__ import annotations

import pytest

from iworkz.config.eks import NodeGroupConfig, Taint
from iworkz_constructs.scheduling import (
    Toleration,
    gpu_daemon_placement,
    matching_node_groups,
    placement_on,
    schedulable_node_groups,
    tolerations_for,
    useless_tolerations,
)


def _group(labels, taints=(), gpu=False):
    return NodeGroupConfig(
        instance_types=["g5.xlarge"] if gpu else ["m6i.large"],
        ami_type="AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD",
        gpu=gpu,
        min_size=0,
        max_size=2,
        desired_size=0,
        labels=labels,
        taints=[Taint(key=k, value=v, effect=e) for k, v, e in taints],
    )


GROUPS = {
    "general": _group({"NodeGroup": "general"}),
    "compute-optimized": _group(
        {"NodeGroup": "compute-optimized", "Workload": "ai-ml"},
        [("compute-optimized", "true", "NoSchedule"), ("nvidia.com/gpu", "true", "NoSchedule")],
        gpu=True,
    ),
    "memory-optimized": _group({"NodeGroup": "memory-optimized"}, [("memory-optimized", "true", "NoSchedule")]),
}


def test_tolerations_mirror_the_taints():
    assert tolerations_for(GROUPS["compute-optimized"]) == (
        Toleration("compute-optimized", "Equal", "true", "NoSchedule"),
        Toleration("nvidia.com/gpu", "Equal", "true", "NoSchedule"),
    )


def test_placement_lands_on_exactly_its_group():
    placement = placement_on("compute-optimized", GROUPS)
    assert placement.node_selector == {"NodeGroup": "compute-optimized", "Workload": "ai-ml"}
    assert schedulable_node_groups(placement.node_selector, placement.tolerations, GROUPS) == ["compute-optimized"]
    assert placement.as_helm_values()["tolerations"][0] == {
        "key": "compute-optimized",
        "operator": "Equal",
        "value": "true",
        "effect": "NoSchedule",
    }


def test_the_seed_placement_schedules_nowhere():
    seed_toleration = Toleration("ai-workload", "Equal", "true", "NoSchedule")
    assert useless_tolerations([seed_toleration], GROUPS) == [seed_toleration]
    assert schedulable_node_groups({"instance-type": "compute-optimized"}, [seed_toleration], GROUPS) == []


def test_untolerated_taints_keep_pods_off():
    only_one = [Toleration("compute-optimized", "Equal", "true", "NoSchedule")]
    assert schedulable_node_groups({"NodeGroup": "compute-optimized"}, only_one, GROUPS) == []
    assert schedulable_node_groups({}, [], GROUPS) == ["general"]


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        (Toleration("nvidia.com/gpu", "Exists"), ["compute-optimized"]),
        (Toleration("", "Exists"), ["compute-optimized", "memory-optimized"]),
        (Toleration("memory-optimized", "Equal", "false", "NoSchedule"), []),
        (Toleration("memory-optimized", "Equal", "true", "NoExecute"), []),
        (Toleration("memory-optimized", "Equal", "true"), ["memory-optimized"]),
    ],
)
def test_kubernetes_matching_semantics(toleration, expected):
    assert matching_node_groups(toleration, GROUPS) == expected


def test_gpu_daemon_tolerates_every_gpu_taint_and_selects_the_gpu_group():
    values = gpu_daemon_placement(GROUPS)
    tolerations = [Toleration(t["key"], t["operator"], t.get("value"), t.get("effect")) for t in values["tolerations"]]
    assert values["nodeSelector"] == {"NodeGroup": "compute-optimized", "Workload": "ai-ml"}
    assert schedulable_node_groups(values["nodeSelector"], tolerations, GROUPS) == ["compute-optimized"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "NodeGroup", "operator": "In", "values": ["compute-optimized"]},
                {"key": "Workload", "operator": "In", "values": ["ai-ml"]},
            ]
        }
    ]


def test_gpu_daemon_with_two_gpu_groups_uses_affinity_only():
    groups = {**GROUPS, "gpu-spot": _group({"NodeGroup": "gpu-spot"}, [("spot", "true", "NoSchedule")], gpu=True)}
    values = gpu_daemon_placement(groups)
    assert "nodeSelector" not in values
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert len(terms) == 2
    assert {t["key"] for t in values["tolerations"]} == {"compute-optimized", "nvidia.com/gpu", "spot"}


def test_fails_placement_on_an_unknown_group():
    with pytest.raises(ValueError, match="not defined"):
        placement_on("gpu", GROUPS)


def test_fails_placement_on_an_unlabelled_group():
    with pytest.raises(ValueError, match="no labels"):
        placement_on("bare", {"bare": _group({})})


def test_fails_gpu_daemon_without_gpu_group():
    with pytest.raises(ValueError, match="no GPU node group"):
        gpu_daemon_placement({"general": GROUPS["general"]})


def test_fails_bad_toleration_operator():
    with pytest.raises(ValueError, match="Equal or Exists"):
        Toleration("x", "In", "true")
