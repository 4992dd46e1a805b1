"""`make scan`: checkov over every synthesised stack, offline; prints passed/failed/skipped per stack.

    python scripts/scan.py [--outdir cdktf.out] [--config .checkov.yaml] [stack ...]

checkov (pinned in the Makefile, installed in its own venv .venv-checkov because its
dependencies conflict with cdktf's) runs once over ``<outdir>/stacks`` with
``--framework terraform_json --skip-download``, offline. The results are split by stack
(the folder of each ``cdk.tf.json``); results of the checks that ``.checkov.yaml`` skips
(each with its reason there) count as skipped, so the report shows what each skip hides.

Exit status: 0 when no check fails, 1 when any check fails, 2 when the scan cannot run
(no synthesised stacks, checkov missing or crashing).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
RESULT_KINDS = ("passed", "failed", "skipped")


@dataclass
class StackResult:
    name: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", help="stack names to scan (default: every synthesised stack)")
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--config", type=Path, default=ROOT / ".checkov.yaml")
    parser.add_argument("--checkov", type=Path, default=Path(os.environ.get("CHECKOV", DEFAULT_CHECKOV)))
    parser.add_argument("--json", type=Path, help="also write the per-stack summary as JSON to this file")
    return parser.parse_args(argv)


def synthesised_stacks(outdir: Path, wanted: list[str]) -> list[str]:
    found = sorted(p.parent.name for p in (outdir / "stacks").glob("*/cdk.tf.json"))
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise SystemExit(_fail(f"not synthesised in {outdir}/stacks: {', '.join(missing)} (run make synth)"))
    return [name for name in found if not wanted or name in wanted]


def run_checkov(checkov: Path, stacks_dir: Path) -> list[dict[str, Any]]:
    """Runs checkov once over every stack folder; returns its reports."""
    # Every check runs (no --config-file, no --quiet): results of the checks that .checkov.yaml
    # skips are counted as skipped here, so the report shows what each skip hides.
    command = [str(checkov), "--framework", "terraform_json", "--skip-download", "--output", "json"]
    # --compact leaves out each result's code block, which nothing here reads: a fifth of the output.
    command += ["--compact"]
    # One --directory: with several, checkov 3.3.30 prints one cumulative report per directory.
    command += ["--directory", str(stacks_dir)]
    environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    environment.pop("BC_API_KEY", None)  # never upload results to a platform
    with tempfile.TemporaryDirectory() as scratch:
        # checkov writes nothing we need into its working directory; keep the checkout clean.
        completed = subprocess.run(command, cwd=scratch, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1):
        raise SystemExit(_fail(f"checkov exited with {completed.returncode}:\n{completed.stderr[-4000:]}"))
    reports: list[dict[str, Any]] = []
    decoder, text, position = json.JSONDecoder(), completed.stdout, 0
    try:
        while text[position:].strip():
            position += len(text[position:]) - len(text[position:].lstrip())
            parsed, length = decoder.raw_decode(text, position)
            position = length
            reports.extend(parsed if isinstance(parsed, list) else [parsed])
    except json.JSONDecodeError as error:
        raise SystemExit(_fail(f"checkov printed no JSON ({error}):\n{text[-2000:]}")) from error
    return reports


STATE_MOVE_BLOCKS = ("import", "moved", "removed")


def prepare(stacks_dir: Path, scanned: Path, names: list[str]) -> list[str]:
    """Copies the stacks to scan, working around checkov's terraform_json parser; returns notes.

    checkov 3.3.30 aborts the whole file ("this method receives only dicts") on a plain value
    in the ``terraform`` block, e.g. ``required_version``, and on the state-move blocks
    (``moved``, ``import``, ``removed``: lists at the top level). No check reads them, so the
    copy leaves them out. Nothing else changes.
    """
    notes = []
    for name in names:
        document = json.loads((stacks_dir / name / "cdk.tf.json").read_text())
        moves = sorted(block for block in STATE_MOVE_BLOCKS if document.pop(block, None) is not None)
        if moves:
            notes.append(f"{name}: {', '.join(moves)} blocks left out for checkov's parser")
        settings = document.get("terraform")
        if isinstance(settings, dict):
            plain = sorted(key for key, value in settings.items() if not isinstance(value, (dict, list)))
            for key in plain:
                del settings[key]
            if plain:
                notes.append(f"{name}: terraform.{', terraform.'.join(plain)} left out for checkov's parser")
        (scanned / name).mkdir(parents=True)
        (scanned / name / "cdk.tf.json").write_text(json.dumps(document, indent=2))
    return notes


def parsing_errors(reports: list[dict[str, Any]], scanned: Path) -> list[str]:
    """Stacks whose file checkov could not parse (a silent gap otherwise: no check runs on them)."""
    stacks = set()
    for report in reports:
        for path in (report.get("results") or {}).get("parsing_errors", []):
            stacks.add(_stack_of({"file_abs_path": path}, scanned))
    return sorted(stacks)


def configured_skips(config: Path) -> set[str]:
    """The check ids under ``skip-check`` in .checkov.yaml."""
    loaded = yaml.safe_load(config.read_text()) or {}
    skips = loaded.get("skip-check") or []
    if not isinstance(skips, list) or not all(isinstance(s, str) for s in skips):
        raise SystemExit(_fail(f"{config}: skip-check must be a list of check ids"))
    return set(skips)


def tally(
    reports: list[dict[str, Any]], stacks_dir: Path, names: list[str], skips: set[str]
) -> tuple[dict[str, StackResult], set[str]]:
    """Results per stack, and the skips that matched at least one result."""
    results = {name: StackResult(name) for name in names}
    used: set[str] = set()
    seen: set[tuple[str, str, str, str]] = set()
    for report in reports:
        for kind in RESULT_KINDS:
            for item in (report.get("results") or {}).get(f"{kind}_checks", []):
                stack = _stack_of(item, stacks_dir)
                key = (kind, stack, str(item.get("check_id")), str(item.get("resource")))
                if stack not in results or key in seen:
                    continue  # a stack that was not selected, or a result reported twice
                seen.add(key)
                if item.get("check_id") in skips:
                    used.add(item["check_id"])
                    results[stack].counts["skipped"] += 1
                    continue
                results[stack].counts[kind] += 1
                if kind == "failed":
                    results[stack].failures.append({**item, "resource": _address(item, stacks_dir / stack)})
    return results, used


_TYPES_BY_NAME: dict[Path, dict[str, list[str]]] = {}


def _address(item: dict[str, Any], folder: Path) -> str:
    """``type.name`` of a result (checkov names some terraform_json resources ``resource.<name>``)."""
    resource = str(item.get("resource", ""))
    if not resource.startswith("resource."):
        return resource
    if folder not in _TYPES_BY_NAME:
        document = json.loads((folder / "cdk.tf.json").read_text())
        by_name: dict[str, list[str]] = {}
        for resource_type, instances in (document.get("resource") or {}).items():
            for name in instances:
                by_name.setdefault(name, []).append(resource_type)
        _TYPES_BY_NAME[folder] = by_name
    name = resource.removeprefix("resource.")
    types = _TYPES_BY_NAME[folder].get(name, [])
    return f"{types[0]}.{name}" if len(types) == 1 else resource


def _stack_of(item: dict[str, Any], stacks_dir: Path) -> str:
    absolute = item.get("file_abs_path") or ""
    try:
        return Path(absolute).resolve().relative_to(stacks_dir.resolve()).parts[0]
    except (ValueError, IndexError):
        raise SystemExit(_fail(f"checkov reported a file outside {stacks_dir}: {absolute!r}")) from None


def render(results: dict[str, StackResult]) -> str:
    width = max([len("stack"), *(len(name) for name in results)])
    lines = [f"{'stack':<{width}}  {'passed':>7}  {'failed':>7}  {'skipped':>7}"]
    totals: Counter[str] = Counter()
    for name, result in results.items():
        totals.update(result.counts)
        lines.append(f"{name:<{width}}  " + "  ".join(f"{result.counts[k]:>7}" for k in RESULT_KINDS))
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{totals[k]:>7}" for k in RESULT_KINDS))
    failures = [(name, item) for name, result in results.items() for item in result.failures]
    if failures:
        lines.append("")
        lines.append("failed checks:")
        for name, item in sorted(failures, key=lambda f: (f[0], f[1].get("check_id", ""), f[1].get("resource", ""))):
            lines.append(f"  {name}: {item.get('check_id')} {item.get('resource')}  {item.get('check_name')}")
            if item.get("guideline"):
                lines.append(f"      {item['guideline']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.checkov.exists():
        return _fail(f"{args.checkov} not found: run `make scan` (it installs checkov into .venv-checkov)")
    if not args.config.exists():
        return _fail(f"{args.config} not found")
    stacks_dir = args.outdir / "stacks"
    names = synthesised_stacks(args.outdir, args.stacks)
    if not names:
        return _fail(f"no synthesised stacks in {stacks_dir}: run `make synth` first")
    skips = configured_skips(args.config)
    with tempfile.TemporaryDirectory() as scratch:
        scanned = Path(scratch) / "stacks"
        adjustments = prepare(stacks_dir, scanned, names)
        reports = run_checkov(args.checkov, scanned)
        results, used = tally(reports, scanned, names, skips)
        unparsed = parsing_errors(reports, scanned)
    print(render(results))
    for note in adjustments:
        print(f"note: {note}", file=sys.stderr)
    for name in unparsed:
        print(f"error: checkov could not parse {name}/cdk.tf.json: none of its checks ran", file=sys.stderr)
    for check_id in sorted(skips - used):
        print(f"note: {args.config.name} skips {check_id}, which no scanned resource is checked by", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {name: {k: r.counts[k] for k in RESULT_KINDS} for name, r in results.items()}
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    failed = sum(r.counts["failed"] for r in results.values()) + len(unparsed)
    if failed:
        print(f"\ncheckov: {failed} failed checks", file=sys.stderr)
        return 1
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
