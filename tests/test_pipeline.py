"""The GitLab pipeline (.gitlab-ci.yml): make targets exist, one plan job per stack, production gated."""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from iworkz.config import load_settings
from iworkz.registry import every_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import ci_terraform
import gitlab_ci

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PIPELINE = PROJECT_ROOT / ".gitlab-ci.yml"
MAKEFILE = PROJECT_ROOT / "Makefile"
DEFAULT_BRANCH_RULE = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
MERGE_REQUEST = '$CI_PIPELINE_SOURCE == "merge_request_event"'


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    return yaml.safe_load(PIPELINE.read_text(encoding="utf-8"))


def jobs(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    reserved = {"image", "stages", "workflow", "variables", "default", "include", "cache"}
    return {name: body for name, body in pipeline.items() if name not in reserved and not name.startswith(".")}


def script_lines(pipeline: dict[str, Any]) -> list[str]:
    lines: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("script", "before_script", "after_script"):
                    lines.extend(str(line) for line in value)
                else:
                    collect(value)

    collect(pipeline)
    return lines


def makefile_targets(text: str) -> set[str]:
    return {match.group(1) for match in re.finditer(r"^([A-Za-z0-9][\w.-]*)\s*:(?!=)", text, re.MULTILINE)}


def install_stamps(makefile: str) -> list[str]:
    """The stamp files of the Makefile's install rules (``$(VENV)/.installed: ...``), variables expanded."""
    variables = dict(re.findall(r"^([A-Z_]+)\s*:=\s*(.*)$", makefile, re.MULTILINE))

    def expand(text: str) -> str:
        return re.sub(r"\$\(([A-Z_]+)\)", lambda match: expand(variables[match.group(1)]), text)

    targets = re.findall(r"^(\S*\.installed\S*|\$\([A-Z_]+\)):(?!=)", makefile, re.MULTILINE)
    return [stamp for stamp in map(expand, targets) if ".installed" in stamp]


def expected_stacks() -> set[str]:
    """Every stack the app synthesises, from the registry and the configuration."""
    return {stack.name for stack in every_stack(load_settings())}


def test_every_make_target_the_pipeline_calls_exists(pipeline: dict[str, Any]) -> None:
    called = {match for line in script_lines(pipeline) for match in re.findall(r"\bmake\s+([a-z][\w-]*)", line)}
    assert {"install", "lint", "test", "synth", "scan", "diff"} <= called, called
    missing = called - makefile_targets(MAKEFILE.read_text(encoding="utf-8"))
    assert not missing, f"the pipeline calls make targets the Makefile lacks: {sorted(missing)}"


def test_the_target_parser_reads_rules_but_not_variables() -> None:
    text = "PY := python\nexport PATH := x\nbench: install ## b\n\tcmd\n.PHONY: bench\n$(VENV)/x: y\n"
    assert makefile_targets(text) == {"bench"}


def test_stages_in_order(pipeline: dict[str, Any]) -> None:
    assert pipeline["stages"] == ["lint", "test", "synth", "scan", "diff", "plan", "deploy"]
    assert pipeline["image"].startswith("python:3.11")
    for name, job in jobs(pipeline).items():
        assert job.get("stage") in pipeline["stages"], name


def test_every_stack_has_a_plan_job_saving_its_plan(pipeline: dict[str, Any]) -> None:
    all_jobs = jobs(pipeline)
    stacks = expected_stacks()
    assert {"state", "delivery", "network-production", "eks-production"} <= stacks
    for stack in stacks:
        job = all_jobs.get(f"plan:{stack}")
        assert job is not None, f"no plan job for stack {stack}"
        assert job["stage"] == "plan"
        assert any(re.search(rf"ci_terraform\.py plan {re.escape(stack)}(\s|$)", line) for line in script_lines(job)), (
            job
        )
    planned = {name.removeprefix("plan:") for name in all_jobs if name.startswith("plan:")}
    assert planned == stacks, f"plan jobs for unknown stacks: {sorted(planned - stacks)}"


def test_plan_artifacts_are_what_the_deploy_applies(pipeline: dict[str, Any]) -> None:
    """The deploy job gets its plan job's plan file (and lock file) and applies exactly that."""
    all_jobs = jobs(pipeline)
    for stack in every_stack(load_settings()):
        if stack.environment is None:
            continue
        plan_job, deploy = all_jobs[f"plan:{stack.name}"], all_jobs[f"deploy:{stack.name}"]
        folder = f"cdktf.out/stacks/{stack.name}"
        assert {f"{folder}/{file}" for file in ci_terraform.PLAN_ARTIFACTS} <= set(plan_job["artifacts"]["paths"])
        assert plan_job["artifacts"]["access"] == "developer"  # a plan holds state values
        assert {"job": f"plan:{stack.name}", "artifacts": True} in deploy["needs"]
        assert deploy["script"] == [f"python scripts/ci_terraform.py apply {stack.name}"]
        # the plan that is applied is made with the environment's deploy identity, in its environment
        assert plan_job["variables"] == deploy["variables"] == gitlab_ci.DEPLOY_IDENTITY
        assert plan_job["environment"] == {"name": stack.environment, "action": "prepare"}
        assert not any("--speculative" in line for line in plan_job["script"])


def test_merge_requests_plan_with_the_plan_identity_only(pipeline: dict[str, Any]) -> None:
    all_jobs = jobs(pipeline)
    for name, job in all_jobs.items():
        rules = job.get("rules", [])
        runs_in_merge_requests = not rules or any(MERGE_REQUEST in rule.get("if", "") for rule in rules)
        if name.startswith(("review:", "plan:", "deploy:")) and runs_in_merge_requests:
            assert name.startswith("review:"), name
            assert job["variables"] == gitlab_ci.PLAN_IDENTITY, name
            assert "environment" not in job, name
            assert any("--speculative" in line for line in job["script"]), name
    reviewed = {name.removeprefix("review:") for name in all_jobs if name.startswith("review:")}
    assert reviewed == expected_stacks() - {"state"}


def test_every_environment_stack_has_a_deploy_job_after_its_dependencies(pipeline: dict[str, Any]) -> None:
    all_jobs = jobs(pipeline)
    settings = load_settings()
    for stack in every_stack(settings):
        name = stack.name
        if stack.environment is None:
            # local backend (state) or an administrator's stack (delivery): never deployed from CI
            assert f"deploy:{name}" not in all_jobs
            continue
        job = all_jobs[f"deploy:{name}"]
        needed = {need["job"] for need in job["needs"]}
        assert f"plan:{name}" in needed
        plan_needs = {need["job"] for need in all_jobs[f"plan:{name}"]["needs"]}
        for dependency in stack.producers(settings):
            if dependency.environment is not None:
                assert f"deploy:{dependency.name}" in needed, (name, needed)
                # the plan is made against what the producer applied in this pipeline
                assert f"deploy:{dependency.name}" in plan_needs, (name, plan_needs)


def test_production_deploys_are_manual_and_only_on_the_default_branch(pipeline: dict[str, Any]) -> None:
    deploys = {
        name: job for name, job in jobs(pipeline).items() if job.get("stage") == "deploy" and "environment" in job
    }
    production = {name: job for name, job in deploys.items() if job["environment"]["name"] == "production"}
    assert production and set(production) == {name for name in deploys if name.endswith("-production")}
    for name, job in deploys.items():
        rules = job["rules"]
        # every rule that can start the job is limited to the default branch, never a schedule
        assert rules and all(DEFAULT_BRANCH_RULE in rule.get("if", "") for rule in rules), (name, rules)
        assert all('$CI_PIPELINE_SOURCE != "schedule"' in rule["if"] for rule in rules), (name, rules)
        if name in production:
            assert job.get("when", "manual") == "manual", name
            assert all(rule.get("when") == "manual" for rule in rules), (name, rules)
            assert rules[0].get("allow_failure", False) is False, name  # blocks the pipeline until someone decides
        else:
            assert all(rule.get("when", "on_success") != "manual" for rule in rules), name


def test_a_schedule_plans_every_stack_reports_drift_and_applies_nothing(pipeline: dict[str, Any]) -> None:
    all_jobs = jobs(pipeline)
    schedule = '$CI_PIPELINE_SOURCE == "schedule"'
    scheduled = {
        name for name, job in all_jobs.items() if any(schedule in rule.get("if", "") for rule in job.get("rules", []))
    }
    assert scheduled == {f"plan:{s}" for s in expected_stacks() - {"state"}} | {"drift-report"}
    for name in scheduled - {"drift-report"}:
        rule = next(rule for rule in all_jobs[name]["rules"] if schedule in rule["if"])
        assert rule["variables"] == {"PLAN_OPTIONS": "--drift"}
        assert f"cdktf.out/stacks/{name.removeprefix('plan:')}/drift.json" in all_jobs[name]["artifacts"]["paths"]
    report = all_jobs["drift-report"]
    assert {need["job"] for need in report["needs"]} == scheduled - {"drift-report"}
    assert report["script"] == ["python scripts/ci_terraform.py drift-report"]


def test_merge_requests_get_the_synth_diff_as_an_artifact(pipeline: dict[str, Any]) -> None:
    job = jobs(pipeline)["synth-diff"]
    assert job["stage"] == "diff"
    assert [rule["if"] for rule in job["rules"]] == ['$CI_PIPELINE_SOURCE == "merge_request_event"']
    assert any("make diff BASE=" in line and "CI_MERGE_REQUEST_DIFF_BASE_SHA" in line for line in job["script"])
    assert "reports/synth-diff.md" in job["artifacts"]["paths"]
    assert job["artifacts"]["when"] == "always"


def test_caches_the_venvs_and_uv_cache_keyed_on_the_locks_and_node_modules_on_package_lock(
    pipeline: dict[str, Any],
) -> None:
    caches = {cache["key"]["prefix"]: cache for cache in pipeline["default"]["cache"]}
    python, node = caches["python"], caches["node"]
    assert set(python["key"]["files"]) == {"uv.lock", "requirements/checkov.txt"}
    assert {".venv/", ".venv-tools/", ".venv-checkov/", ".cache/uv/"} <= set(python["paths"])
    assert pipeline["variables"]["UV_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/uv"
    assert node["key"]["files"] == ["package-lock.json"] and "node_modules/" in node["paths"]
    # every stamp make checks is touched after the restore, so that make does not reinstall
    install = pipeline["default"]["before_script"]
    touch = next(line for line in install if line.startswith("touch -c "))
    assert install.index(touch) < install.index("make install")
    globs = touch.split()[2:]
    stamps = install_stamps(MAKEFILE.read_text(encoding="utf-8"))
    assert {".venv/.installed", "node_modules/.installed-node", "node_modules/.installed"} <= set(stamps), stamps
    for stamp in stamps:
        assert any(fnmatch.fnmatchcase(stamp, glob) for glob in globs), (stamp, touch)
    uv_stamp = next(stamp for stamp in stamps if stamp.startswith(".venv-tools/"))
    assert fnmatch.fnmatchcase(uv_stamp, globs[0]), "uv's stamp comes first: the venvs' stamps depend on it"
    # the make targets the pipeline runs install exactly the lock (uv sync --frozen)
    assert re.search(r"^\t\$\(UV\) sync .*--frozen", MAKEFILE.read_text(encoding="utf-8"), re.MULTILINE)


def test_the_pipeline_file_is_what_the_generator_writes() -> None:
    assert PIPELINE.read_text(encoding="utf-8") == gitlab_ci.render(), (
        ".gitlab-ci.yml is out of date: run .venv/bin/python scripts/gitlab_ci.py"
    )
