"""Benchmark of the synth loop (``make bench``): floor, full synth, single-stack synths, test suite.

In one run it measures, each in a fresh process:

(a) the floor: ``import cdktf`` and the provider packages a selection needs, nothing else
    (importing a prebuilt provider package loads its whole jsii assembly into node; that
    load is what every synth pays). One floor per distinct provider set; every module of those
    packages is byte-compiled first, so that a floor measures loading, not compiling.
(b) a full synth of every stack of every environment (``iworkz.cli.main``, as ``python main.py``,
    into a temporary outdir),
(c) single-stack synths (STACKS=... ENVS=...),
(d) the test suite (``pytest -q``, nothing excluded),
(s) the scale series: full synths of 3, 6 and 12 environments (the configuration copied into a
    temporary folder, staging copied into the added environments as scripts/new_environment.py
    writes them), each as the app runs it (environment groups in parallel processes) and in one
    process (IWORKZ_SYNTH_JOBS=1); a least-squares line through each gives the fixed and the
    per-environment cost (target: per environment at most 0.6 s of wall time),

and prints wall time, CPU time and peak memory of each with the ratios to its floor, checks
the targets (full synth <= 1.3x its floor; a network-only synth loads neither azurerm nor
kubernetes nor helm; test suite <= 2.5x a full synth; full synth peak <= 1.6 GB) and writes
everything to reports/bench.json (ignored by git); ``--update`` (``make bench UPDATE=1``)
writes docs/bench.json instead, the committed figures the README quotes.

(e) with ``--fresh`` (``make bench BENCH_FRESH=1``; ~10 minutes): a fresh clone's installs and
    first synth, the locked install against the former pip install, with cold and warm
    caches (scripts/fresh_install.py; target: locked at most 0.4x pip). An ``--update`` run
    without ``--fresh`` keeps the committed file's fresh-install figures.

How memory is measured: jsii runs the provider code in a ``node`` child of the Python
process, so the peak of one process is not the peak of the synth. A sampler thread walks
the process tree of the measured command (``/proc/<pid>/stat`` parent links) every
``--interval`` seconds and sums, over every process in it, the proportional set size
(PSS, ``/proc/<pid>/smaps_rollup``: a page shared by n processes counts 1/n in each, so the
sum is the tree's real footprint) and the resident set size (RSS, ``/proc/<pid>/statm``,
which counts shared pages such as the node binary once per process: an over-estimate).
The peak is the largest sum seen; the memory target is checked on PSS. The sampling can
miss a spike shorter than the interval. The sampler disturbs what it measures (reading
``smaps_rollup`` walks a process's page tables; even at nice 19 it added ~5% to the wall time
of the test suite, which keeps both cores busy), so the times come from runs without it
(the fastest of ``--repeat``) and the memory figures from one more run with it. ``wait4`` gives the exact peak of the largest single
process of the tree (``ru_maxrss`` covers the child and its waited-for descendants, as a
maximum, not a sum); it is reported beside the sampled tree peak as a cross-check. Linux
carries the high-water mark across fork and exec, so ``ru_maxrss`` also counts the RSS of
the launching process at spawn time: this script stays small (it never imports cdktf).

CPU time (user + system, from ``wait4`` for the process and its waited-for children) is
reported because this machine is shared: wall time depends on what else runs, CPU time much
less so. The load average before each run is recorded.

The app imports provider submodules on use, in Python and in the jsii node
(iworkz/lazy_providers.py); the floors stay the plain imports of the provider packages,
without the app's node preload, i.e. the cost of loading the providers alone.

Exit status: 0 when every measurement ran (targets missed are reported, not fatal; with
``--strict`` a missed target exits 1), 2 when a measurement failed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fresh_install import FRESH_TARGET, fresh_failed, fresh_targets, measure_fresh_installs, print_fresh

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REPORT = PROJECT_ROOT / "reports" / "bench.json"
COMMITTED_REPORT = PROJECT_ROOT / "docs" / "bench.json"
PROFILE_REPORT = PROJECT_ROOT / "reports" / "bench-profile.txt"
# As this process got it: importing iworkz adds the app's node preload (lazy_providers), which
# the floors, plain provider imports, must not have.
NODE_OPTIONS_OUTSIDE_THE_APP = os.environ.get("NODE_OPTIONS")
PROVIDER_PACKAGES = {
    "aws": "cdktf_cdktf_provider_aws",
    "azurerm": "cdktf_cdktf_provider_azurerm",
    "kubernetes": "cdktf_cdktf_provider_kubernetes",
    "helm": "cdktf_cdktf_provider_helm",
    "azuread": "cdktf_cdktf_provider_azuread",
    "tfe": "cdktf_cdktf_provider_tfe",
    "cloudflare": "cdktf_cdktf_provider_cloudflare",
}
# (label, STACKS, ENVS): single-stack synths; the stack's dependencies are synthesised too.
SINGLE_SYNTHS: tuple[tuple[str, str, str | None], ...] = (
    ("network-production", "network", "production"),
    ("eks-production", "eks", "production"),
    ("dr-azure (every env)", "dr-azure", None),
    ("monitoring-production", "monitoring", "production"),
)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MB = 1_000_000

TARGET_FULL_OVER_FLOOR = 1.3
TARGET_TESTS_OVER_FULL = 2.5
TARGET_FULL_PEAK_BYTES = 1.6e9
TARGET_PER_ENVIRONMENT_S = 0.6
SCALE_ENVIRONMENTS = (3, 6, 12)
SCALE_TEMPLATE = "staging"
ONE_PROCESS = "one process"

# Runs a synth exactly as main.py does, then reports which provider packages were imported.
SYNTH_PROBE = """
import json, os, sys
from iworkz.cli import main
status = main(sys.argv[1:])
loaded = sorted({name.split(".")[0] for name in sys.modules if name.startswith("cdktf_cdktf_provider_")})
with open(os.environ["IWORKZ_BENCH_MODULES"], "w") as handle:
    json.dump(loaded, handle)
sys.exit(status)
"""


@dataclass
class Run:
    name: str
    kind: str  # floor | full | single | tests | fresh
    command: list[str]
    env: dict[str, str]
    providers: list[str] = field(default_factory=list)
    exit_status: int | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_tree_rss_bytes: int = 0
    peak_tree_pss_bytes: int = 0
    max_single_process_rss_bytes: int = 0
    peak_processes: int = 0
    load_average_before: float = 0.0
    loaded_provider_packages: list[str] | None = None
    floor: str | None = None
    output_tail: str = ""
    wall_s_each: list[float] = field(default_factory=list)
    cpu_s_each: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Measuring one process tree


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name (2nd field) may contain spaces: parse after its closing parenthesis
        fields = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children = _children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm", "rb") as handle:
        return int(handle.read().split()[1]) * PAGE_SIZE


def _pss(pid: int) -> int:
    """Proportional set size: each shared page counted once across the processes sharing it."""
    with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
        for line in handle:
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_memory(root: int) -> tuple[int, int, int]:
    """(sum of RSS, sum of PSS, number of processes) of ``root`` and its descendants, in bytes."""
    rss = pss = count = 0
    for pid in tree_pids(root):
        try:
            rss += _rss(pid)
            pss += _pss(pid)
            count += 1
        except (OSError, IndexError, ValueError):
            pass
    return rss, pss, count


def measure(run: Run, interval: float | None, cwd: Path = PROJECT_ROOT) -> Run:
    """Runs ``run.command``; samples the tree's memory every ``interval`` seconds (None: no sampling)."""
    run.load_average_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryFile() as output:
        started = time.monotonic()
        process = subprocess.Popen(run.command, cwd=cwd, env=run.env, stdout=output, stderr=subprocess.STDOUT)
        peak = {"rss": 0, "pss": 0, "processes": 0}
        done = threading.Event()

        def sample() -> None:
            # Lowest priority: the sampling must not take CPU from the measured processes (see above).
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            while not done.is_set():
                rss, pss, count = tree_memory(process.pid)
                if rss > peak["rss"]:
                    peak["rss"], peak["processes"] = rss, count
                peak["pss"] = max(peak["pss"], pss)
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        if interval is not None:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        run.wall_s = round(time.monotonic() - started, 2)
        done.set()
        if interval is not None:
            sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        run.output_tail = "\n".join(output.read().decode(errors="replace").strip().splitlines()[-15:])
    run.exit_status = process.returncode
    run.cpu_s = round(usage.ru_utime + usage.ru_stime, 2)
    run.max_single_process_rss_bytes = usage.ru_maxrss * 1024
    run.peak_tree_rss_bytes = peak["rss"]
    run.peak_tree_pss_bytes = peak["pss"]
    run.peak_processes = peak["processes"]
    return run


# ---------------------------------------------------------------------------------------------
# What to measure


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("STACKS", None)
    env.pop("ENVS", None)
    env["PATH"] = f"{PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("CDKTF_DISABLE_TELEMETRY", "true")
    return env


def providers_of(stacks: str | None, envs: str | None) -> list[str]:
    """The providers the selection's stacks load (iworkz.registry.SPECS), as the synth resolves it."""
    from iworkz.cli import _split
    from iworkz.config import load_settings
    from iworkz.registry import plan

    settings = load_settings(environments=_split(envs))
    planned, _ = plan(settings, _split(stacks))
    return sorted({provider for stack in planned for provider in stack.spec.providers})


def compile_provider_packages(providers: list[str]) -> None:
    """Byte-compiles every module of the floors' provider packages once (``make install`` compiles
    only those the app imports), so that a floor measures loading the providers, not compiling
    thousands of modules the app never imports (~2 minutes per run for the seven)."""
    import compileall
    import importlib.util

    print("byte-compiling the provider packages for the floors ...", flush=True)
    for provider in providers:
        spec = importlib.util.find_spec(PROVIDER_PACKAGES[provider])
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                compileall.compile_dir(location, quiet=1, workers=os.cpu_count() or 1)


def floor_run(providers: list[str]) -> Run:
    imports = "; ".join(["import cdktf", *(f"import {PROVIDER_PACKAGES[p]}" for p in providers)])
    env = base_env()
    env.pop("NODE_OPTIONS", None)
    for variable in ("JSII_RUNTIME", "JSII_NODE"):  # jsii's own launcher, not the app's kernel
        env.pop(variable, None)
    if NODE_OPTIONS_OUTSIDE_THE_APP is not None:
        env["NODE_OPTIONS"] = NODE_OPTIONS_OUTSIDE_THE_APP
    return Run(f"floor {'+'.join(providers)}", "floor", [sys.executable, "-c", imports], env, providers)


def synth_run(name: str, kind: str, stacks: str | None, envs: str | None, outdir: Path, modules: Path) -> Run:
    env = base_env()
    if stacks:
        env["STACKS"] = stacks
    if envs:
        env["ENVS"] = envs
    env["IWORKZ_BENCH_MODULES"] = str(modules)
    command = [sys.executable, "-O", "-c", SYNTH_PROBE, "--outdir", str(outdir)]
    return Run(name, kind, command, env, providers_of(stacks, envs))


def scale_config(environments: int, target: Path) -> Path:
    """The configuration with environments added from SCALE_TEMPLATE up to ``environments``, in ``target``."""
    from new_environment import environment_text

    from iworkz.config import DEFAULT_CONFIG_DIR, free_vpc_cidr, load_settings

    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    settings = load_settings(target)
    template = settings.environments[SCALE_TEMPLATE]
    text = (target / f"{SCALE_TEMPLATE}.yaml").read_text(encoding="utf-8")
    added = 0
    while len(settings.environments) < environments:
        added += 1
        name = f"scale{added}"
        cidr = free_vpc_cidr(settings.environments)
        copy_ = environment_text(name, SCALE_TEMPLATE, text, template.network.vpc_cidr, cidr)
        (target / f"{name}.yaml").write_text(copy_, encoding="utf-8")
        settings = load_settings(target)
    return target


def scale_runs(work: Path) -> list[Run]:
    """A full synth of each SCALE_ENVIRONMENTS configuration, parallel (as the app runs) and in one process."""
    runs = []
    for environments in SCALE_ENVIRONMENTS:
        config = scale_config(environments, work / f"config-{environments}")
        for mode in ("parallel", ONE_PROCESS):
            env = base_env()
            env["IWORKZ_CONFIG_DIR"] = str(config)
            env["IWORKZ_SYNTH_JOBS"] = "1" if mode == ONE_PROCESS else env.get("IWORKZ_SYNTH_JOBS", "")
            outdir = work / f"scale-{environments}-{mode.replace(' ', '-')}.out"
            command = [sys.executable, "-O", "main.py", "--outdir", str(outdir)]
            runs.append(Run(f"scale {environments} envs, {mode}", "scale", command, env))
    return runs


def scale_fit(runs: dict[str, Run]) -> dict[str, dict[str, float]]:
    """Fixed and per-environment cost (least squares over the scale series), wall and CPU, per mode."""
    fits = {}
    for mode in ("parallel", ONE_PROCESS):
        points = [
            (float(environments), run.wall_s, run.cpu_s)
            for environments in SCALE_ENVIRONMENTS
            if (run := runs.get(f"scale {environments} envs, {mode}")) and run.exit_status == 0
        ]
        if len(points) < 2:
            continue
        fit = {}
        for label, column in (("wall", 1), ("cpu", 2)):
            xs, ys = [p[0] for p in points], [p[column] for p in points]
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
                (x - mean_x) ** 2 for x in xs
            )
            fit[f"{label}_per_environment_s"] = round(slope, 2)
            fit[f"{label}_fixed_s"] = round(mean_y - slope * mean_x, 2)
        fits[mode] = fit
    return fits


def profile_full_synth(outdir: Path, report: Path) -> None:
    """cProfile of a full synth (the Python side; time spent waiting for node shows as jsii calls)."""
    code = (
        "import cProfile, pstats, sys\n"
        "from iworkz.cli import main\n"
        "profile = cProfile.Profile()\n"
        f"profile.runcall(main, ['--outdir', {str(outdir)!r}])\n"
        f"with open({str(report)!r}, 'w') as out:\n"
        "    for key in ('cumulative', 'tottime'):\n"
        "        pstats.Stats(profile, stream=out).sort_stats(key).print_stats(45)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=base_env(), check=True)


TESTS_PROBE = """
import os, sys
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider"]))
"""


# ---------------------------------------------------------------------------------------------
# Report


def _ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 2) if reference else None


def targets(runs: dict[str, Run]) -> list[dict[str, object]]:
    checks: list[dict[str, object]] = []
    full = runs.get("full synth")
    if full and full.exit_status == 0 and full.floor in runs:
        floor = runs[full.floor]
        checks.append(
            {
                "target": f"full synth wall <= {TARGET_FULL_OVER_FLOOR}x its floor",
                "value": _ratio(full.wall_s, floor.wall_s),
                "cpu_ratio": _ratio(full.cpu_s, floor.cpu_s),
                "met": full.wall_s <= TARGET_FULL_OVER_FLOOR * floor.wall_s,
            }
        )
        checks.append(
            {
                "target": f"full synth peak memory <= {TARGET_FULL_PEAK_BYTES / 1e9:.1f} GB (process tree, PSS)",
                "value": f"{full.peak_tree_pss_bytes / 1e9:.2f} GB (RSS sum {full.peak_tree_rss_bytes / 1e9:.2f} GB)",
                "met": full.peak_tree_pss_bytes <= TARGET_FULL_PEAK_BYTES,
            }
        )
    network = runs.get("network-production")
    if network and network.loaded_provider_packages is not None:
        unwanted = [
            p for p in ("azurerm", "kubernetes", "helm") if PROVIDER_PACKAGES[p] in network.loaded_provider_packages
        ]
        checks.append(
            {
                "target": "network-only synth loads neither azurerm nor kubernetes nor helm",
                "value": network.loaded_provider_packages,
                "met": not unwanted and network.exit_status == 0,
            }
        )
    fits = scale_fit(runs)
    if "parallel" in fits:
        per_environment = fits["parallel"]["wall_per_environment_s"]
        checks.append(
            {
                "target": f"full synth per environment <= {TARGET_PER_ENVIRONMENT_S} s (wall, scale series)",
                "value": per_environment,
                "met": per_environment <= TARGET_PER_ENVIRONMENT_S,
            }
        )
    parallel, single = (
        runs.get(f"scale {SCALE_ENVIRONMENTS[0]} envs, parallel"),
        runs.get(f"scale {SCALE_ENVIRONMENTS[0]} envs, {ONE_PROCESS}"),
    )
    if parallel and single and parallel.exit_status == 0 and single.exit_status == 0:
        checks.append(
            {
                "target": f"a full synth of {SCALE_ENVIRONMENTS[0]} environments uses more than one core",
                "value": f"{_ratio(single.wall_s, parallel.wall_s)}x faster than one process; "
                f"cpu/wall {_ratio(parallel.cpu_s, parallel.wall_s)}",
                "met": parallel.cpu_s > 1.2 * parallel.wall_s and parallel.wall_s < single.wall_s,
            }
        )
    tests = runs.get("test suite")
    if tests and full and full.exit_status == 0:
        checks.append(
            {
                "target": f"test suite wall <= {TARGET_TESTS_OVER_FULL}x a full synth",
                "value": _ratio(tests.wall_s, full.wall_s),
                "cpu_ratio": _ratio(tests.cpu_s, full.cpu_s),
                "met": tests.wall_s <= TARGET_TESTS_OVER_FULL * full.wall_s,
            }
        )
    return checks


def print_table(runs: dict[str, Run], checks: list[dict[str, object]]) -> None:
    header = (
        f"{'measurement':<34} {'exit':>4} {'wall s':>7} {'cpu s':>7} {'PSS MB':>7} {'RSS MB':>7} {'1-proc MB':>9} "
        f"{'wall/floor':>10} {'cpu/floor':>9} {'load':>5}  providers loaded"
    )
    print(header)
    print("-" * len(header))
    for run in runs.values():
        floor = runs.get(run.floor or "")
        wall_ratio = _ratio(run.wall_s, floor.wall_s) if floor else None
        cpu_ratio = _ratio(run.cpu_s, floor.cpu_s) if floor else None
        loaded = (
            ",".join(name.removeprefix("cdktf_cdktf_provider_") for name in run.loaded_provider_packages)
            if run.loaded_provider_packages is not None
            else "+".join(run.providers)
            if run.kind == "floor"
            else "-"
        )
        print(
            f"{run.name:<34} {run.exit_status!s:>4} {run.wall_s:>7.1f} {run.cpu_s:>7.1f} "
            f"{run.peak_tree_pss_bytes / MB:>7.0f} {run.peak_tree_rss_bytes / MB:>7.0f} "
            f"{run.max_single_process_rss_bytes / MB:>9.0f} "
            f"{_fmt(wall_ratio):>10} {_fmt(cpu_ratio):>9} {run.load_average_before:>5.1f}  {loaded}"
        )
    if "test suite" in runs and runs["test suite"].floor:
        print("(the test suite's ratios are to the full synth)")
    if checks:
        print("\ntargets:")
        for check in checks:
            extra = f" (cpu ratio {check['cpu_ratio']})" if "cpu_ratio" in check else ""
            print(f"  [{'met' if check['met'] else 'MISSED'}] {check['target']}: {check['value']}{extra}")


def report_path(output: Path | None, update: bool) -> Path:
    """Where the report goes: --output, else docs/bench.json with --update, else the ignored reports/bench.json."""
    if output is not None:
        return output
    return COMMITTED_REPORT if update else REPORT


def _measure_step(name: str, command: list[str], env: dict[str, str], cwd: Path) -> Run:
    """One step of a fresh-clone install (scripts/fresh_install.py), timed like every other run, no sampler."""
    return measure(Run(name, "fresh", command, env), None, cwd)


def _parse_single(item: str) -> tuple[str, str, str | None]:
    stacks, _, envs = item.partition(":")
    label = f"{stacks}-{envs}" if envs and "," not in stacks + envs else f"{stacks} ({envs or 'every env'})"
    return label, stacks, envs or None


def _fmt(ratio: float | None) -> str:
    return f"{ratio:.2f}x" if ratio is not None else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--parts",
        default="floor,full,single,scale,tests",
        help="comma-separated parts to run: floor, full, single, scale, tests, fresh (default: all but fresh)",
    )
    parser.add_argument(
        "--single",
        action="append",
        metavar="STACKS[:ENVS]",
        help="a single-stack synth to measure instead of the default ones (repeatable), e.g. network:production",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each N times and keep the fastest run (the machine is shared: noise only adds time)",
    )
    parser.add_argument("--interval", type=float, default=0.1, help="memory sampling interval in seconds")
    parser.add_argument("--output", type=Path, default=None, help="JSON report (default reports/bench.json)")
    parser.add_argument(
        "--update", action="store_true", help="write the committed figures, docs/bench.json (unless --output)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="also measure fresh-clone installs and first synth, locked vs pip (same as adding 'fresh' to --parts)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile a full synth into reports/bench-profile.txt"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    parts = {part.strip() for part in args.parts.split(",") if part.strip()} | ({"fresh"} if args.fresh else set())
    output = report_path(args.output, args.update)

    import iworkz  # noqa: F401  (project Node first on PATH for providers_of's imports; no cdktf loaded here)

    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="iworkz-bench-") as temporary:
        work = Path(temporary)
        planned: list[Run] = []
        if "full" in parts:
            planned.append(synth_run("full synth", "full", None, None, work / "full.out", work / "full.modules"))
        if "single" in parts:
            singles = SINGLE_SYNTHS
            if args.single:
                singles = tuple(_parse_single(item) for item in args.single)
            for index, (label, stacks, envs) in enumerate(singles):
                planned.append(
                    synth_run(label, "single", stacks, envs, work / f"s{index}.out", work / f"s{index}.modules")
                )
        floors: dict[tuple[str, ...], Run] = {}
        for run in planned:
            key = tuple(run.providers)
            floors.setdefault(key, floor_run(run.providers))
            run.floor = floors[key].name
        if "floor" in parts and not floors:
            floors[tuple(PROVIDER_PACKAGES)] = floor_run(sorted(PROVIDER_PACKAGES))
        if "floor" in parts and floors:
            compile_provider_packages(sorted({p for key in floors for p in key}))
        ordered = [*(floors.values() if "floor" in parts else []), *planned]
        if "scale" in parts:
            ordered.extend(scale_runs(work))
        if "tests" in parts:
            ordered.append(
                Run(
                    "test suite",
                    "tests",
                    [sys.executable, "-c", TESTS_PROBE],
                    base_env(),
                    floor="full synth" if "full" in parts else None,
                )
            )
        for run in ordered:
            print(f"measuring {run.name} ...", flush=True)
            best: Run | None = None
            for _ in range(max(1, args.repeat)):
                attempt = measure(copy.copy(run), None)
                run.wall_s_each.append(attempt.wall_s)
                run.cpu_s_each.append(attempt.cpu_s)
                if best is None or attempt.exit_status != 0 or attempt.wall_s < best.wall_s:
                    best = attempt
                if attempt.exit_status != 0:
                    break
            assert best is not None
            if best.exit_status == 0 and run.kind != "scale":  # the series is about time: no memory run
                sampled = measure(copy.copy(run), args.interval)
                best.peak_tree_rss_bytes = sampled.peak_tree_rss_bytes
                best.peak_tree_pss_bytes = sampled.peak_tree_pss_bytes
                best.peak_processes = sampled.peak_processes
                if sampled.exit_status != 0:  # its memory figures are not those of a whole run
                    best.exit_status, best.output_tail = sampled.exit_status, sampled.output_tail
            best.wall_s_each, best.cpu_s_each = run.wall_s_each, run.cpu_s_each
            run = best
            modules = run.env.get("IWORKZ_BENCH_MODULES")
            if modules and Path(modules).exists():
                run.loaded_provider_packages = json.loads(Path(modules).read_text())
            runs[run.name] = run
            if run.exit_status != 0:
                print(f"  {run.name} failed (exit {run.exit_status}):\n{run.output_tail}", file=sys.stderr)
        if "floor" not in parts:
            for run in runs.values():
                run.floor = None
        if args.profile:
            PROFILE_REPORT.parent.mkdir(parents=True, exist_ok=True)
            print("profiling a full synth ...", flush=True)
            profile_full_synth(work / "profile.out", PROFILE_REPORT)
            print(f"wrote {PROFILE_REPORT}")

    fresh = None
    if "fresh" in parts:
        print("measuring fresh-clone installs ...", flush=True)
        fresh = measure_fresh_installs(_measure_step, NODE_OPTIONS_OUTSIDE_THE_APP)
    elif args.update and output.exists():
        fresh = json.loads(output.read_text()).get("fresh_install")  # not measured now: keep the committed figures
    if "fresh" in parts and fresh and not runs and output.exists():  # only the fresh part ran: keep the rest
        report = json.loads(output.read_text())
        report["fresh_install"] = fresh
        kept = [check for check in report.get("targets", []) if not str(check["target"]).startswith(FRESH_TARGET)]
        report["targets"] = kept + fresh_targets(fresh)
        output.write_text(json.dumps(report, indent=2) + "\n")
        print_fresh(fresh)
        print(f"\nwrote {output}")
        return 2 if fresh_failed(fresh) else 0

    checks = targets(runs) + (fresh_targets(fresh) if fresh else [])
    print()
    print_table(runs, checks)
    fits = scale_fit(runs)
    for mode, fit in fits.items():
        print(
            f"scale series, {mode}: {fit['wall_fixed_s']} s fixed + {fit['wall_per_environment_s']} s per environment"
            f" (cpu {fit['cpu_fixed_s']} s + {fit['cpu_per_environment_s']} s)"
        )
    if fresh:
        print_fresh(fresh)
    node_version = subprocess.run(
        ["node", "--version"], env=base_env(), capture_output=True, text=True, check=False
    ).stdout.strip()
    report = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": node_version,
            "platform": platform.platform(),
        },
        "method": {
            "wall_s": f"time.monotonic() around one fresh subprocess, fastest of {max(1, args.repeat)} runs without the memory sampler",
            "cpu_s": "user+system seconds from wait4 (the process and its waited-for children)",
            "peak_tree_pss_bytes": f"largest sum of PSS (smaps_rollup) over the process tree (python + node), sampled every {args.interval} s in one more run; shared pages counted once",
            "peak_tree_rss_bytes": f"largest sum of RSS over the process tree, sampled every {args.interval} s via /proc (counts shared pages once per process)",
            "max_single_process_rss_bytes": "wait4 ru_maxrss: exact peak of the largest single process of the tree",
            "floor": "fresh `python -c 'import cdktf; import <provider packages the selection needs>'` outside the app (no lazy loading, no node preload, jsii's own launcher)",
        },
        "runs": {name: {k: v for k, v in asdict(run).items() if k not in ("env",)} for name, run in runs.items()},
        "targets": checks,
    }
    if fits:
        report["scale"] = {"environments": list(SCALE_ENVIRONMENTS), "template": SCALE_TEMPLATE, "fit": fits}
    if fresh:
        report["fresh_install"] = fresh
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {output.relative_to(PROJECT_ROOT) if output.is_relative_to(PROJECT_ROOT) else output}")
    if any(run.exit_status != 0 for run in runs.values()) or ("fresh" in parts and fresh and fresh_failed(fresh)):
        return 2
    if args.strict and not all(check["met"] for check in checks):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
