"""The policy check over synthesised stacks, apart from the construct tree (no cdktf import).

A parallel synth (iworkz/synth_workers.py) collects :class:`PolicyFacts` in each worker and
checks the merged tree once in the parent, which never starts jsii: one report for the whole
tree, the same as a single-process synth writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iworkz.policy.report import PolicyReport, Suppression, Waiver
from iworkz.policy.rules import StackDocument, evaluate, evaluate_tree


@dataclass(frozen=True)
class PolicyFacts:
    """What only the construct tree knows: suppressions (with their scope), waivers, and which
    azurerm resource types accept tags."""

    suppressions: tuple[Suppression, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    taggable_types: frozenset[str] = frozenset()

    @classmethod
    def merge(cls, parts: Iterable[PolicyFacts], stack_order: Sequence[str]) -> PolicyFacts:
        """The facts of several synths, in ``stack_order`` (the order one synth visits the stacks)."""
        parts = list(parts)
        position = {name: index for index, name in enumerate(stack_order)}

        def in_order(items: list[Suppression] | list[Waiver]) -> Any:
            return tuple(sorted(items, key=lambda item: position.get(item.stack, len(position))))

        return cls(
            in_order([s for part in parts for s in part.suppressions]),
            in_order([w for part in parts for w in part.waivers]),
            frozenset().union(*(part.taggable_types for part in parts)),
        )


def check(documents: dict[str, dict[str, Any]], facts: PolicyFacts) -> PolicyReport:
    """Evaluates the rules over the synthesised stacks; raises PolicyError on any violation."""
    report = PolicyReport(stacks=sorted(documents))
    report.suppressions = [s for s in facts.suppressions if s.stack in documents]
    report.waivers = [w for w in facts.waivers if w.stack in documents]
    findings = [
        item
        for name in report.stacks
        for item in evaluate(StackDocument(name, documents[name], frozenset(facts.taggable_types)))
    ]
    for item in [*findings, *evaluate_tree(documents)]:
        covering = next((s for s in report.suppressions if s.covers(item)), None)
        if covering is None:
            report.violations.append(item)
        else:
            report.suppressed.append((covering, item))
    report.raise_for_violations()
    return report


def synthesized_documents(
    outdir: Path, names: Iterable[str], unwritten: Callable[[str], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The documents of the stacks ``names`` that cdktf wrote into ``outdir``, in that order.

    HCL output (SYNTH_HCL_OUTPUT) writes no JSON: ``unwritten(name)`` asks the stack object instead.
    """
    documents = {}
    for name in names:
        json_file = outdir / "stacks" / name / "cdk.tf.json"
        documents[name] = json.loads(json_file.read_text()) if json_file.exists() else unwritten(name)
    return documents
