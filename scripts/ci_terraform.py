"""The pipeline's Terraform steps: plan a stack into a reviewed plan file, apply exactly that file.

``plan <stack>`` runs ``terraform plan -out`` in ``cdktf.out/stacks/<stack>`` and writes beside
it the plan file, its text (``plan.txt``, for review) and ``plan-meta.json`` (stack, commit,
pipeline, the plan file's SHA-256, whether it changes anything). ``--speculative`` (merge
requests: the read-only plan role, which may not read secret values) plans without refreshing.
``--drift`` (the scheduled pipeline) records whether reality differs from the code in
``drift.json`` and never fails for it.

``apply <stack>`` applies that plan file and nothing else: it refuses a plan of another stack,
commit or pipeline, a file that changed since the plan, and a plan whose state moved on
(Terraform itself refuses a saved plan once the state's serial changed: "Saved plan is stale").

``drift-report`` reads the ``drift.json`` of every stack, posts the stacks that drifted to the
receiver webhook in ``$IWORKZ_DRIFT_WEBHOOK_URL`` (a masked, protected CI/CD variable: the URL
is in neither the repository nor any state) and exits 1 when something drifted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = PROJECT_ROOT / "cdktf.out" / "stacks"
PLAN_FILE = "plan.tfplan"
PLAN_TEXT = "plan.txt"
PLAN_META = "plan-meta.json"
DRIFT_FILE = "drift.json"
# Files of a stack folder the plan job hands to the apply job (artifacts); the provider
# plugins are installed again from the same lock file.
PLAN_ARTIFACTS = (PLAN_FILE, PLAN_TEXT, PLAN_META, ".terraform.lock.hcl")
# terraform plan -detailed-exitcode: 0 no changes, 1 error, 2 changes.
_NO_CHANGES, _CHANGES = 0, 2


class PlanRefused(Exception):
    """The plan file is not the reviewed plan of this stack in this pipeline."""


def terraform(folder: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args], cwd=folder, text=True, capture_output=capture, check=False)


def _init(folder: Path, *extra: str) -> None:
    if terraform(folder, "init", "-input=false", *extra).returncode != 0:
        raise SystemExit(f"terraform init failed in {folder}")


def pipeline_identity() -> dict[str, str]:
    return {key: os.environ.get(f"CI_{key.upper()}", "") for key in ("commit_sha", "pipeline_id")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan(stack: str, *, speculative: bool, drift: bool, stacks_dir: Path = STACKS_DIR) -> int:
    folder = stacks_dir / stack
    _init(folder)
    options = ["-input=false", "-lock-timeout=5m", "-detailed-exitcode", f"-out={PLAN_FILE}"]
    if speculative:
        options.append("-refresh=false")
    result = terraform(folder, "plan", *options)
    if result.returncode not in (_NO_CHANGES, _CHANGES):
        return result.returncode
    changes = result.returncode == _CHANGES
    shown = terraform(folder, "show", "-no-color", PLAN_FILE, capture=True)
    (folder / PLAN_TEXT).write_text(shown.stdout, encoding="utf-8")
    meta = {"stack": stack, **pipeline_identity(), "plan_sha256": sha256(folder / PLAN_FILE), "changes": changes}
    (folder / PLAN_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if drift:
        (folder / DRIFT_FILE).write_text(json.dumps({"stack": stack, "drift": changes}) + "\n", encoding="utf-8")
    return 0


def check_plan(stack: str, folder: Path) -> dict[str, object]:
    """The reviewed plan's metadata, or PlanRefused naming what does not match."""
    meta_file, plan_file = folder / PLAN_META, folder / PLAN_FILE
    if not meta_file.is_file() or not plan_file.is_file():
        raise PlanRefused(f"{stack}: no saved plan ({PLAN_FILE}, {PLAN_META}): the plan job's artifacts are missing")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    expected = {"stack": stack, **pipeline_identity(), "plan_sha256": sha256(plan_file)}
    wrong = {key: (meta.get(key), value) for key, value in expected.items() if meta.get(key) != value}
    if wrong:
        details = ", ".join(f"{key} {got!r} (expected {want!r})" for key, (got, want) in sorted(wrong.items()))
        raise PlanRefused(f"{stack}: refusing a plan that is not this pipeline's reviewed plan: {details}")
    return dict(meta)


def apply(stack: str, *, stacks_dir: Path = STACKS_DIR) -> int:
    folder = stacks_dir / stack
    try:
        meta = check_plan(stack, folder)
    except PlanRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    if not meta["changes"]:
        print(f"{stack}: the reviewed plan changes nothing")
        return 0
    _init(folder, "-lockfile=readonly")
    # A saved plan carries the state serial it was made from: Terraform refuses it if the
    # state changed since ("Saved plan is stale"); plan again in a new pipeline then.
    return terraform(folder, "apply", "-input=false", "-lock-timeout=5m", PLAN_FILE).returncode


def drift_report(stacks_dir: Path = STACKS_DIR, webhook: str | None = None) -> int:
    reports = sorted(stacks_dir.glob(f"*/{DRIFT_FILE}"))
    if not reports:
        print("error: no drift.json: the scheduled plan jobs wrote none", file=sys.stderr)
        return 2
    drifted = [
        data["stack"] for data in (json.loads(path.read_text(encoding="utf-8")) for path in reports) if data["drift"]
    ]
    if not drifted:
        print(f"no drift in {len(reports)} stacks")
        return 0
    job = os.environ.get("CI_PIPELINE_URL", "the scheduled pipeline")
    text = f"Terraform drift in {len(drifted)} of {len(reports)} stacks: {', '.join(drifted)} (plans: {job})"
    print(text)
    if webhook:
        request = urllib.request.Request(
            webhook, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30):
            pass
    else:
        print("warning: IWORKZ_DRIFT_WEBHOOK_URL is not set: nobody was told", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    plan_parser = commands.add_parser("plan", help="plan a stack into plan.tfplan (+ plan.txt, plan-meta.json)")
    plan_parser.add_argument("stack")
    plan_parser.add_argument("--speculative", action="store_true", help="merge requests: no refresh")
    plan_parser.add_argument("--drift", action="store_true", help="scheduled pipeline: record drift, never fail for it")
    apply_parser = commands.add_parser("apply", help="apply exactly the stack's reviewed plan.tfplan")
    apply_parser.add_argument("stack")
    commands.add_parser("drift-report", help="tell the receivers which stacks drifted")
    args = parser.parse_args(argv)
    if args.command == "plan":
        return plan(args.stack, speculative=args.speculative, drift=args.drift)
    if args.command == "apply":
        return apply(args.stack)
    return drift_report(webhook=os.environ.get("IWORKZ_DRIFT_WEBHOOK_URL") or None)


if __name__ == "__main__":
    sys.exit(main())
