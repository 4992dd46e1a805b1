"""Synthesises into a staging folder and publishes the whole tree into cdktf.out (iworkz/publish.py).

Nothing half-written reaches the output: a failure (bad configuration, a policy violation,
a crash, an interruption) leaves cdktf.out exactly as it was.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from iworkz.config import Settings
from iworkz.policy.check import PolicyFacts, synthesized_documents
from iworkz.policy.check import check as check_policy
from iworkz.publish import publish, staging_folder, staging_path
from iworkz.registry import PlannedStack, every_stack
from iworkz.synth_workers import describe_groups, environment_groups, synth_jobs, synthesize_in_workers

if TYPE_CHECKING:
    from cdktf import TerraformStack


@dataclass(frozen=True)
class WrittenStack:
    name: str
    path: Path
    resources: int | None
    # The synthesised stack itself, for a caller that reads its outputs (e.g. the stack contracts);
    # None when a parallel synth built it in another process.
    stack: TerraformStack | None = field(default=None, compare=False, repr=False)


def hcl_output() -> bool:
    return os.environ.get("SYNTH_HCL_OUTPUT", "") in ("true", "1")


def synthesize(settings: Settings, planned: list[PlannedStack], outdir: Path) -> list[WrittenStack]:
    """Builds and synthesises the planned stacks; returns what was written, in build order.

    A synth of every stack of every environment leaves exactly those in ``outdir``; a
    selection keeps the other stacks there as they were. Several environments synthesise in
    parallel processes (iworkz/synth_workers.py) into the same tree a single process writes.
    """
    from iworkz.policy.report import REPORT_FILE as POLICY_REPORT_FILE

    outdir = outdir.resolve()
    staging = staging_path(outdir)
    # cdktf --hcl: the policy reads the stacks' documents from the stack objects, in this process
    groups = environment_groups(planned, 1 if hcl_output() else synth_jobs())
    built: dict[str, TerraformStack] = {}
    # Interrupted while node writes the synth, jsii's node finishes that request after Python has
    # stopped waiting: the removal below can run before its last files land. This one runs at exit,
    # after jsii's own exit hook (registered later, run earlier) has waited for node to stop.
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    try:  # created inside the try: a Ctrl-C right after the mkdir still removes it
        staging_folder(outdir)
        names = [stack.name for stack in planned]
        if len(groups) > 1:
            facts = synthesize_in_workers(settings, groups, staging, synthesize_group)
            print(f"synthesised in {len(groups)} processes: {describe_groups(groups)}")
            checked = names
        else:
            own, built = _synthesize_here(settings, planned, staging)
            facts, checked = [own], list(built)  # every stack of the app, in build order
        # guardrails (iworkz/policy) over the whole tree: a violation raises before anything is published
        documents = synthesized_documents(staging, checked, lambda name: built[name].to_terraform())
        report = check_policy(documents, PolicyFacts.merge(facts, checked))
        report.write(staging / POLICY_REPORT_FILE)
        graph = {stack.name: [d.name for d in stack.producers(settings)] for stack in every_stack(settings)}
        complete = set(names) == set(graph) and len(settings.environments) == len(_configured(settings))
        publish(staging, outdir, names, keep_others=not complete, dependencies=graph.get)
        print(report.summary(outdir / POLICY_REPORT_FILE))
        return [_describe(stack.name, outdir / "stacks" / stack.name, built.get(stack.name)) for stack in planned]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def synthesize_group(settings: Settings, planned: list[PlannedStack], folder: Path) -> PolicyFacts:
    """One process's share of a parallel synth: the stacks written into ``folder``, the policy facts."""
    return _synthesize_here(settings, planned, folder)[0]


def _synthesize_here(
    settings: Settings, planned: list[PlannedStack], folder: Path
) -> tuple[PolicyFacts, dict[str, TerraformStack]]:
    from iworkz.app import build_app  # imports cdktf (jsii) only once the input is known good
    from iworkz.policy.tree import facts as policy_facts

    app, built = build_app(settings, planned, folder)
    app.synth()
    return policy_facts(built.values()), dict(built)


def _configured(settings: Settings) -> list[str]:
    from iworkz.config import available_environments

    return available_environments(settings.config_dir)


def _describe(name: str, folder: Path, stack: TerraformStack | None) -> WrittenStack:
    json_file = folder / "cdk.tf.json"
    if json_file.exists():
        document = json.loads(json_file.read_text())
        count = sum(len(instances) for instances in document.get("resource", {}).values())
        return WrittenStack(name, json_file, count, stack)
    return WrittenStack(name, folder / "cdk.tf", None, stack)
