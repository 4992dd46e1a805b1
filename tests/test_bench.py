"""The benchmark's measurement: peak memory of a whole process tree (python + its node child)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.early import measure_a_process_tree

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
MB = 1_000_000


@pytest.mark.early(command=measure_a_process_tree)
def test_peak_memory_sums_the_process_tree_and_wait4_sees_only_the_largest_process(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    assert early_result.returncode == 0, early_result.stderr
    run = json.loads(early_result.stdout.strip().splitlines()[-1])
    assert run["exit_status"] == 0, run["output_tail"]
    # wait4's ru_maxrss is the largest single process (the child, ~110 MB), not the sum
    assert 100 * MB <= run["max_single_process_rss_bytes"] < 155 * MB, run
    # the sampled tree peak sees both at once, in RSS and in PSS
    assert run["peak_tree_rss_bytes"] >= 160 * MB, run
    assert run["peak_tree_pss_bytes"] >= 155 * MB, run
    assert run["peak_processes"] >= 2
    assert run["wall_s"] >= 0.5 and run["cpu_s"] > 0


def test_a_failing_command_reports_its_exit_status_and_output() -> None:
    sys.path.insert(0, str(SCRIPTS))
    from bench import Run, measure

    run = measure(Run("fails", "test", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"], env={}), 0.05)
    assert run.exit_status == 3
    assert "boom" in asdict(run)["output_tail"]


def test_the_report_goes_to_an_ignored_file_unless_the_committed_figures_are_updated() -> None:
    sys.path.insert(0, str(SCRIPTS))
    from bench import COMMITTED_REPORT, PROJECT_ROOT, REPORT, report_path

    assert report_path(None, update=False) == REPORT == PROJECT_ROOT / "reports" / "bench.json"
    assert report_path(None, update=True) == COMMITTED_REPORT == PROJECT_ROOT / "docs" / "bench.json"
    assert report_path(Path("/tmp/x.json"), update=True) == Path("/tmp/x.json")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(REPORT)], cwd=PROJECT_ROOT, check=False)
    assert ignored.returncode == 0, "reports/bench.json must be ignored by git"
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(COMMITTED_REPORT)], cwd=PROJECT_ROOT, capture_output=True
    )
    assert tracked.returncode == 0


def test_a_fresh_install_runs_each_method_in_its_own_clone_with_its_own_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(SCRIPTS))
    import fresh_install

    def fake_clone(commit: str, target: Path) -> None:
        (target / "requirements").mkdir(parents=True)
        (target / "requirements" / "checkov.in").write_text("checkov==3.3.30\n")

    seen: list[tuple[str, list[str], dict[str, str], Path]] = []

    @dataclass
    class Result:
        wall_s: float
        cpu_s: float
        exit_status: int
        output_tail: str = ""
        load_average_before: float = 0.5

    def fake_measure(name: str, command: list[str], env: dict[str, str], cwd: Path) -> Result:
        seen.append((name, command, env, cwd))
        return Result(2.0, 1.0, 1 if "main.py" in command else 0)

    monkeypatch.setattr(fresh_install, "clone_commit", fake_clone)
    monkeypatch.setenv("MAKEFLAGS", "-j2")
    caches = tmp_path / "caches"
    locked = fresh_install.run_method("locked", "cold", "HEAD", tmp_path, caches, fake_measure, "python3.11", None)
    assert [step.command[:2] for step in locked.steps] == [
        ["make", ".venv/.installed"],
        ["make", ".venv/.bytecode"],
        ["make", "node_modules/.installed-node"],
        ["make", "synth"],
    ]
    assert locked.ok and locked.summary()["install_s"] == 6.0 and locked.summary()["total_s"] == 8.0
    # the two install steps are exactly what `make install` runs
    makefile = (SCRIPTS.parent / "Makefile").read_text(encoding="utf-8")
    prerequisites = re.search(r"^install: (.*?) ##", makefile, re.MULTILINE).group(1).split()  # type: ignore[union-attr]
    variables = dict(re.findall(r"^([A-Z_]+) := (\S+)$", makefile, re.MULTILINE))
    assert [re.sub(r"\$\(([A-Z_]+)\)", lambda m: variables[m.group(1)], item) for item in prerequisites] == [
        step.command[1] for step in locked.steps if step.phase == fresh_install.INSTALL
    ]
    _, _, env, cwd = seen[0]
    assert cwd == tmp_path / "locked-cold" and not cwd.exists()  # the clone is gone afterwards
    assert env["UV_CACHE_DIR"] == str(caches / "uv") and env["npm_config_cache"] == str(caches / "npm")
    assert env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] == str(caches / "jsii") and "MAKEFLAGS" not in env
    assert not [entry for entry in env["PATH"].split(":") if entry.startswith(str(SCRIPTS.parent) + "/")]

    pip = fresh_install.run_method("pip", "cold", "HEAD", tmp_path, caches, fake_measure, "python3.11", None)
    commands = [" ".join(step.command) for step in pip.steps]
    assert commands[2].endswith("pip install --quiet --disable-pip-version-check -e .[dev]")
    assert "npm ci --no-audit --no-fund --loglevel=error" in commands
    assert commands[-2].endswith("pip install --quiet --disable-pip-version-check checkov==3.3.30")
    assert not pip.ok and pip.steps[-1].exit_status == 1  # the failed first synth is recorded, not hidden


def test_the_scale_series_adds_valid_environments_in_a_copy_of_the_configuration(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPTS))
    from bench import SCALE_TEMPLATE, scale_config

    from iworkz.config import DEFAULT_CONFIG_DIR, load_settings

    before = sorted(p.name for p in DEFAULT_CONFIG_DIR.iterdir())
    config = scale_config(6, tmp_path / "config")
    settings = load_settings(config)  # validates every file (overlapping VPC ranges are an error)
    assert len(settings.environments) == 6
    added = sorted(set(settings.environments) - set(load_settings().environments))
    assert added == ["scale1", "scale2", "scale3"]
    assert all(settings.environments[name].edge == settings.environments[SCALE_TEMPLATE].edge for name in added)
    assert sorted(p.name for p in DEFAULT_CONFIG_DIR.iterdir()) == before, "the repository's config is untouched"


def test_the_scale_fit_is_the_least_squares_line_of_each_mode() -> None:
    sys.path.insert(0, str(SCRIPTS))
    from bench import ONE_PROCESS, Run, scale_fit

    def run(environments: int, mode: str, wall: float, cpu: float) -> tuple[str, Run]:
        name = f"scale {environments} envs, {mode}"
        return name, Run(name, "scale", [], {}, exit_status=0, wall_s=wall, cpu_s=cpu)

    parallel = [run(3, "parallel", 4.0, 7.0), run(6, "parallel", 5.5, 10.0), run(12, "parallel", 8.5, 16.0)]
    single = [run(3, ONE_PROCESS, 5.0, 5.0), run(6, ONE_PROCESS, 8.0, 8.0), run(12, ONE_PROCESS, 14.0, 14.0)]
    runs = dict([*parallel, *single])
    fits = scale_fit(runs)
    assert fits["parallel"] == {
        "wall_per_environment_s": 0.5,
        "wall_fixed_s": 2.5,
        "cpu_per_environment_s": 1.0,
        "cpu_fixed_s": 4.0,
    }
    assert fits[ONE_PROCESS]["wall_per_environment_s"] == 1.0 and fits[ONE_PROCESS]["wall_fixed_s"] == 2.0
