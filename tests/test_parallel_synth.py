"""A synth of several environments in parallel processes (iworkz/synth_workers.py) writes the
tree a single-process synth writes, byte for byte, and keeps its error paths."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from iworkz.config import load_settings
from iworkz.errors import Problem, UserError
from iworkz.policy.check import PolicyFacts
from iworkz.policy.report import Suppression
from iworkz.registry import PlannedStack, every_stack, plan
from iworkz.synth import synthesize
from iworkz.synth_workers import (
    JOBS_VARIABLE,
    WorkerInputError,
    environment_groups,
    synth_jobs,
    synthesize_in_workers,
)
from tests.early import PARALLEL_SELECTION, parallel_synth


def _tree(outdir: Path) -> dict[str, Any]:
    """Every file of a synth output; a Lambda package as its members (the zip records the time it was made)."""
    files: dict[str, Any] = {}
    for path in sorted(p for p in outdir.rglob("*") if p.is_file()):
        key = str(path.relative_to(outdir))
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                files[key] = {name: archive.read(name) for name in archive.namelist()}
        else:
            files[key] = path.read_bytes()
    return files


@pytest.mark.early(command=parallel_synth)
def test_a_parallel_synth_writes_what_one_process_writes(
    early_result: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    assert early_result.returncode == 0, early_result.stderr
    assert "synthesised in 2 processes: " in early_result.stdout, early_result.stdout
    stacks, envs = PARALLEL_SELECTION
    settings = load_settings(environments=envs.split(","))
    planned, names = plan(settings, stacks.split(","))
    # this process runs jsii: it synthesises alone
    synthesize(settings, planned, tmp_path / "cdktf.out")
    parallel = _tree(Path(early_result.args[-1]))
    single = _tree(tmp_path / "cdktf.out")
    assert {key.split("/")[1] for key in single if key.startswith("stacks/")} == names
    assert any(key.endswith(".zip") for key in single)  # the alert forwarder's package
    assert parallel.keys() == single.keys()
    for key, content in single.items():
        assert parallel[key] == content, key


def _planned(environments: list[str] | None = None) -> list[PlannedStack]:
    return every_stack(load_settings(environments=environments))


def test_environments_are_grouped_whole_in_build_order_with_the_account_stacks_in_one_group() -> None:
    planned = _planned()
    groups = environment_groups(planned, 2)
    assert len(groups) == 2
    assert sorted((s for group in groups for s in group), key=planned.index) == planned
    for group in groups:
        assert group == sorted(group, key=planned.index)
    environments = [{s.environment for s in group} for group in groups]
    assert not (environments[0] & environments[1]), "an environment is split"
    assert [None in envs for envs in environments].count(True) == 1, "the account-level stacks are split"
    assert environment_groups(planned, 2) == groups  # deterministic
    assert len(environment_groups(planned, 8)) == len(load_settings().environments)


@pytest.mark.parametrize(("jobs", "environments"), [(1, None), (4, ["staging"])])
def test_one_process_or_one_environment_is_one_group(jobs: int, environments: list[str] | None) -> None:
    planned = _planned(environments)
    assert environment_groups(planned, jobs) == [planned]


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_job_count_is_bad_input_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(JOBS_VARIABLE, value)
    with pytest.raises(UserError) as raised:
        synth_jobs()
    (problem,) = raised.value.problems
    assert (problem.field, problem.value) == (JOBS_VARIABLE, value)
    assert f"{JOBS_VARIABLE}=1" in problem.fix


def test_a_process_running_jsii_synthesises_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import jsii  # noqa: F401  (loaded by the session synth anyway)

    monkeypatch.setenv(JOBS_VARIABLE, "2")
    assert synth_jobs() == 1


# --- the workers' mechanics, with a stand-in for the cdktf synth --------------------------------


def _fake_synth(settings: Any, stacks: list[PlannedStack], folder: Path) -> PolicyFacts:
    """Writes cdktf's layout for ``stacks``; a stack named in the environment's failure raises."""
    for stack in stacks:
        if stack.environment == "staging" and stack.spec.component == "network":
            raise UserError([Problem("config/staging.yaml", "network.vpc_cidr", "x", "must be a CIDR", "fix it")])
        if stack.environment == "dev" and stack.spec.component == "network" and settings == "crash":
            raise RuntimeError("a bug in a construct")
        (folder / "stacks" / stack.name).mkdir(parents=True)
        (folder / "stacks" / stack.name / "cdk.tf.json").write_text(json.dumps({"stack": stack.name}))
    manifest = {"stacks": {stack.name: {"name": stack.name} for stack in stacks}, "version": "0.21.0"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    suppressions = tuple(Suppression(stack.name, f"{stack.name}/x", "RULE", "why") for stack in stacks)
    return PolicyFacts(suppressions, (), frozenset({stacks[0].name}))


def _alerts_and_network(environments: list[str]) -> tuple[list[PlannedStack], list[list[PlannedStack]]]:
    planned, _ = plan(load_settings(environments=environments), ["alerts", "network"])
    return planned, environment_groups(planned, 2)


def test_the_workers_trees_and_facts_are_merged_in_build_order(tmp_path: Path) -> None:
    planned, groups = _alerts_and_network(["dev", "production"])
    parts = synthesize_in_workers(None, groups, tmp_path, _fake_synth)  # type: ignore[arg-type]
    names = [stack.name for stack in planned]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "stacks"]  # the parts are merged away
    assert sorted(json.loads((tmp_path / "manifest.json").read_text())["stacks"]) == sorted(names)
    for name in names:
        assert json.loads((tmp_path / "stacks" / name / "cdk.tf.json").read_text()) == {"stack": name}
    merged = PolicyFacts.merge(parts, names)
    assert [s.stack for s in merged.suppressions] == names
    assert merged.taggable_types == {group[0].name for group in groups}


def test_bad_input_in_a_worker_is_its_one_message(tmp_path: Path) -> None:
    _, groups = _alerts_and_network(["dev", "staging"])
    with pytest.raises(WorkerInputError) as raised:
        synthesize_in_workers(None, groups, tmp_path, _fake_synth)  # type: ignore[arg-type]
    (problem,) = raised.value.problems
    assert problem.field == "network.vpc_cidr"
    assert raised.value.render().startswith("invalid input (1 problem):\n")
    assert "config/staging.yaml" in raised.value.render()


def test_a_crash_in_a_worker_is_an_error_with_its_traceback(tmp_path: Path) -> None:
    _, groups = _alerts_and_network(["dev", "production"])
    with pytest.raises(RuntimeError, match=r"(?s)the synth of .*network-dev.* failed.*a bug in a construct"):
        synthesize_in_workers("crash", groups, tmp_path, _fake_synth)  # type: ignore[arg-type]
