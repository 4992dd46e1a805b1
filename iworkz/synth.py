"""Synthesises into a staging folder and publishes only complete stacks into cdktf.out.

Nothing half-written reaches the output: a failure (bad configuration, a policy
violation, a crash) leaves cdktf.out exactly as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from iworkz.config import Settings
from iworkz.registry import PlannedStack

if TYPE_CHECKING:
    from cdktf import TerraformStack


@dataclass(frozen=True)
class WrittenStack:
    name: str
    path: Path
    resources: int | None
    # The synthesised stack itself, for a caller that reads its outputs (e.g. the stack contracts).
    stack: TerraformStack | None = field(default=None, compare=False, repr=False)


def hcl_output() -> bool:
    return os.environ.get("SYNTH_HCL_OUTPUT", "") in ("true", "1")


def synthesize(settings: Settings, planned: list[PlannedStack], outdir: Path) -> list[WrittenStack]:
    """Builds and synthesises the planned stacks; returns what was written, in build order."""
    from iworkz.app import build_app  # imports cdktf (jsii) only once the input is known good
    from iworkz.policy.aspect import enforce as enforce_policy
    from iworkz.policy.report import REPORT_FILE as POLICY_REPORT_FILE

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        app, built = build_app(settings, planned, staging)
        policy = enforce_policy(app)  # guardrails (iworkz/policy): a violation raises before anything is published
        app.synth()
        report = policy.check_synthesized(staging)
        written = _publish(staging, outdir, {stack.name: built[stack.name] for stack in planned})
        report.write(outdir / POLICY_REPORT_FILE)
        print(report.summary(outdir / POLICY_REPORT_FILE))
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, outdir: Path, stacks: dict[str, TerraformStack]) -> list[WrittenStack]:
    manifest_path = outdir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"stacks": {}}
    new_manifest = json.loads((staging / "manifest.json").read_text())
    (outdir / "stacks").mkdir(parents=True, exist_ok=True)
    written = []
    for name, stack in stacks.items():
        source = staging / "stacks" / name
        target = outdir / "stacks" / name
        # Replace the stack folder in two renames so a reader never sees a mix of old and new.
        previous = target.with_name(f".{name}.old")
        shutil.rmtree(previous, ignore_errors=True)
        if target.exists():
            target.rename(previous)
        shutil.move(str(source), str(target))
        shutil.rmtree(previous, ignore_errors=True)
        manifest["stacks"][name] = new_manifest["stacks"][name]
        written.append(_describe(name, target, stack))
    manifest["version"] = new_manifest.get("version")
    temporary = manifest_path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    temporary.replace(manifest_path)
    return written


def _describe(name: str, folder: Path, stack: TerraformStack) -> WrittenStack:
    json_file = folder / "cdk.tf.json"
    if json_file.exists():
        document = json.loads(json_file.read_text())
        count = sum(len(instances) for instances in document.get("resource", {}).values())
        return WrittenStack(name, json_file, count, stack)
    return WrittenStack(name, folder / "cdk.tf", None, stack)
