"""Fresh-clone installs for ``make bench BENCH_FRESH=1``: the locked install against the former pip install.

Each measurement clones the checked-out commit (``git clone`` of this repository into a
temporary folder; uncommitted changes are not part of it) and times, step by step, what a
new machine runs before its first synth:

- ``locked``: ``make install`` (uv installs uv.lock without byte-compiling, then
  scripts/compile_bytecode.py compiles what a synth imports; ``npm ci --omit=dev``: Node 22,
  not the cdktf CLI; no checkov), timed as its prerequisites ``make .venv/.installed``, ``make
  .venv/.bytecode`` and ``make node_modules/.installed-node``, then ``make synth``;
- ``pip``: what the Makefile did until commit d1d82cf, where ``make synth`` first installed
  everything: ``python -m venv .venv``, ``pip install --upgrade pip``, ``pip install -e
  '.[dev]'``, ``npm ci``, a checkov venv with ``pip install checkov``, then ``python main.py``.

Caches: ``cold`` gives each method empty uv, pip, npm and jsii package caches of its own
(``UV_CACHE_DIR``, ``PIP_CACHE_DIR``, ``npm_config_cache``, ``JSII_RUNTIME_PACKAGE_CACHE_ROOT``
in a temporary folder), so downloads from PyPI and npm count, as on a new machine; ``warm``
runs again in a new clone with the caches the cold run filled, as on a machine or CI runner
that has installed before. The user's own caches are never read or written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PIP_METHOD_COMMIT = "d1d82cf"
CACHES = ("cold", "warm")
METHODS = ("locked", "pip")
INSTALL, FIRST_SYNTH = "install", "first synth"
TARGET_LOCKED_OVER_PIP = 0.4
FRESH_TARGET = "fresh clone to first synth"
# What the outer `make bench` exports, which must not leak into the clone's own make and synth.
_OUTER_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "VIRTUAL_ENV", "STACKS", "ENVS", "NODE_OPTIONS")


class Measured(Protocol):
    @property
    def wall_s(self) -> float: ...

    @property
    def cpu_s(self) -> float: ...

    @property
    def exit_status(self) -> int | None: ...

    output_tail: str
    load_average_before: float


# (name, argv, env, cwd) -> the measured run (bench.py passes its own `measure`)
Measure = Callable[[str, list[str], dict[str, str], Path], Measured]


@dataclass
class Step:
    phase: str  # install | first synth
    name: str
    command: list[str]
    wall_s: float = 0.0
    cpu_s: float = 0.0
    exit_status: int | None = None
    output_tail: str = ""
    load_average_before: float = 0.0  # the machine is shared: what else ran shows here


@dataclass
class MethodRun:
    method: str
    cache: str
    steps: list[Step] = field(default_factory=list)

    def seconds(self, phase: str | None = None, key: str = "wall_s") -> float:
        return round(sum(getattr(step, key) for step in self.steps if phase in (None, step.phase)), 2)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.exit_status == 0 for step in self.steps)

    def summary(self) -> dict[str, object]:
        return {
            "install_s": self.seconds(INSTALL),
            "first_synth_s": self.seconds(FIRST_SYNTH),
            "total_s": self.seconds(),
            "total_cpu_s": self.seconds(key="cpu_s"),
            "ok": self.ok,
            "steps": [asdict(step) for step in self.steps],
        }


def checkov_version(root: Path = PROJECT_ROOT) -> str:
    """The checkov pin of requirements/checkov.in (the pip method installs the same version)."""
    for line in (root / "requirements" / "checkov.in").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == "checkov" and version:
            return version.strip()
    raise ValueError("requirements/checkov.in pins no checkov==<version>")


def method_steps(method: str, python: str, checkov: str) -> list[Step]:
    if method == "locked":
        # `make install` is exactly its prerequisites; run one by one, they show where its time goes
        return [
            Step(INSTALL, "make install: .venv (uv sync)", ["make", ".venv/.installed", f"PYTHON={python}"]),
            Step(
                INSTALL,
                "make install: byte-compile what a synth imports",
                ["make", ".venv/.bytecode", f"PYTHON={python}"],
            ),
            Step(
                INSTALL,
                "make install: node_modules, Node 22 (npm ci --omit=dev)",
                ["make", "node_modules/.installed-node"],
            ),
            Step(FIRST_SYNTH, "make synth", ["make", "synth", f"PYTHON={python}"]),
        ]
    quiet = ["--quiet", "--disable-pip-version-check"]
    return [
        Step(INSTALL, "python -m venv .venv", [python, "-m", "venv", ".venv"]),
        Step(
            INSTALL,
            "pip install --upgrade pip",
            [".venv/bin/python", "-m", "pip", "install", *quiet, "--upgrade", "pip"],
        ),
        Step(INSTALL, "pip install -e '.[dev]'", [".venv/bin/python", "-m", "pip", "install", *quiet, "-e", ".[dev]"]),
        Step(INSTALL, "npm ci", ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]),
        Step(INSTALL, "python -m venv .venv-checkov", [python, "-m", "venv", ".venv-checkov"]),
        Step(
            INSTALL,
            f"pip install checkov=={checkov}",
            [".venv-checkov/bin/python", "-m", "pip", "install", *quiet, f"checkov=={checkov}"],
        ),
        Step(FIRST_SYNTH, "python main.py", [".venv/bin/python", "main.py"]),
    ]


def clone_env(clone: Path, caches: Path, node_options: str | None, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a new machine's shell in ``clone``, with the given caches."""
    env = {key: value for key, value in base.items() if key not in _OUTER_VARIABLES}
    outside = [entry for entry in env.get("PATH", "").split(os.pathsep) if not entry.startswith(str(PROJECT_ROOT))]
    # as the Makefile exports it: the clone's Node 22 and venv first (they exist once installed)
    env["PATH"] = os.pathsep.join([str(clone / "node_modules" / ".bin"), str(clone / ".venv" / "bin"), *outside])
    if node_options is not None:
        env["NODE_OPTIONS"] = node_options
    env["CHECKPOINT_DISABLE"] = "1"
    env["CDKTF_DISABLE_TELEMETRY"] = "true"
    env["UV_CACHE_DIR"] = str(caches / "uv")
    env["PIP_CACHE_DIR"] = str(caches / "pip")
    env["npm_config_cache"] = str(caches / "npm")
    env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = str(caches / "jsii")
    return env


def clone_commit(commit: str, target: Path) -> None:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(PROJECT_ROOT), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "--quiet", commit], check=True)


def run_method(
    method: str,
    cache: str,
    commit: str,
    workdir: Path,
    caches: Path,
    measure: Measure,
    python: str,
    node_options: str | None,
) -> MethodRun:
    """One fresh clone, then the method's steps in it until one fails; the clone is deleted afterwards."""
    clone = workdir / f"{method}-{cache}"
    clone_commit(commit, clone)
    result = MethodRun(method, cache)
    try:
        env = clone_env(clone, caches, node_options, os.environ)
        for step in method_steps(method, python, checkov_version(clone)):
            print(f"  {cache} {method}: {step.name} ...", flush=True)
            measured = measure(f"fresh {method} {cache}: {step.name}", step.command, env, clone)
            step.wall_s, step.cpu_s = measured.wall_s, measured.cpu_s
            step.exit_status, step.output_tail = measured.exit_status, measured.output_tail
            step.load_average_before = measured.load_average_before
            result.steps.append(step)
            if step.exit_status != 0:
                break
    finally:
        shutil.rmtree(clone, ignore_errors=True)
    return result


def measure_fresh_installs(measure: Measure, node_options: str | None, python: str = "python3.11") -> dict[str, Any]:
    """Every method with both cache states (cold first: it fills the caches the warm runs use).

    ``node_options``: NODE_OPTIONS as the shell had it (without the app's node preload).
    """
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    if dirty:
        print(f"note: the fresh clones install commit {commit[:12]}; uncommitted changes are not measured", flush=True)
    runs: dict[str, dict[str, MethodRun]] = {}
    with tempfile.TemporaryDirectory(prefix="iworkz-bench-fresh-") as temporary:
        workdir = Path(temporary)
        for cache in CACHES:
            runs[cache] = {}
            for method in METHODS:
                cache_root = workdir / "caches" / method  # the warm run reuses what the cold run filled
                runs[cache][method] = run_method(
                    method, cache, commit, workdir, cache_root, measure, python, node_options
                )
    results = {cache: {method: run.summary() for method, run in by_method.items()} for cache, by_method in runs.items()}
    return {"commit": commit, "method": __doc__, "results": results, **locked_over_pip(results)}


def locked_over_pip(results: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, float]]:
    """Locked / pip per cache state, in wall time (``ratios``, the target) and in CPU time (``cpu_ratios``:
    steadier on a shared machine, where other work stretches the wall time of both)."""
    return {
        name: {
            cache: round(by_method["locked"][field] / by_method["pip"][field], 2)
            for cache, by_method in results.items()
            if by_method["locked"]["ok"] and by_method["pip"]["ok"]
        }
        for name, field in (("ratios", "total_s"), ("cpu_ratios", "total_cpu_s"))
    }


def fresh_targets(report: Mapping[str, Any]) -> list[dict[str, object]]:
    return [
        {
            "target": f"{FRESH_TARGET}, locked install <= {TARGET_LOCKED_OVER_PIP}x the pip install ({cache} caches)",
            "value": ratio,
            "met": ratio <= TARGET_LOCKED_OVER_PIP,
        }
        for cache, ratio in report["ratios"].items()
    ]


def fresh_failed(report: Mapping[str, Any]) -> bool:
    return any(not summary["ok"] for by_method in report["results"].values() for summary in by_method.values())


def print_fresh(report: Mapping[str, Any]) -> None:
    print(f"\nfresh clone of {report['commit'][:12]} to first synth:")
    header = f"{'caches':<6} {'method':<7} {'install s':>9} {'synth s':>8} {'total s':>8} {'cpu s':>7}  steps (wall s)"
    print(header)
    print("-" * len(header))
    for cache, by_method in report["results"].items():
        for method, summary in by_method.items():
            steps = ", ".join(
                f"{step['name']} {step['wall_s']:.1f}{'' if step['exit_status'] == 0 else ' FAILED'}"
                for step in summary["steps"]
            )
            print(
                f"{cache:<6} {method:<7} {summary['install_s']:>9.1f} {summary['first_synth_s']:>8.1f} "
                f"{summary['total_s']:>8.1f} {summary['total_cpu_s']:>7.1f}  {steps}"
            )
    for cache, ratio in report["ratios"].items():
        print(f"locked / pip ({cache} caches): {ratio:.2f}x wall, {report['cpu_ratios'][cache]:.2f}x CPU")
