"""Repository habits: Renovate, pre-commit, CODEOWNERS, the merge-request template and the toolchain pins.

The configuration files are validated offline against their own schemas (check-jsonschema's
vendored Renovate and GitLab CI schemas, pre-commit's ``validate-config``), and Renovate's
regex managers are applied here as Renovate applies them, to prove that every chart and
image the synth uses is one that Renovate proposes updates for.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.early import repository_check_results, repository_checks

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
RENOVATE = ROOT / "renovate.json"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
CODEOWNERS = ROOT / ".gitlab" / "CODEOWNERS"
MR_TEMPLATE = ROOT / ".gitlab" / "merge_request_templates" / "Default.md"


def renovate() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RENOVATE.read_text(encoding="utf-8"))
    return document


def failed_files(report: dict[str, Any]) -> set[str]:
    return {Path(error["filename"]).name for error in [*report["errors"], *report["parse_errors"]]}


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.early(command=repository_checks)
def test_renovate_json_is_valid_for_renovates_schema_and_a_broken_one_is_not(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    report = json.loads(repository_check_results(early_result)["renovate"]["stdout"])
    assert failed_files(report) == {"broken-renovate.json"}, report


@pytest.mark.early(command=repository_checks)
def test_the_generated_pipeline_is_valid_for_gitlabs_schema(early_result: subprocess.CompletedProcess[str]) -> None:
    report = json.loads(repository_check_results(early_result)["gitlab-ci"]["stdout"])
    assert report["status"] == "ok", report


@pytest.mark.early(command=repository_checks)
def test_the_pre_commit_configuration_is_valid_and_a_broken_one_is_not(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    results = repository_check_results(early_result)
    good, broken = results["pre-commit"], results["pre-commit-broken"]
    assert good["returncode"] == 0, good["stdout"] + good["stderr"]
    assert broken["returncode"] != 0 and "entry" in broken["stdout"] + broken["stderr"]


# --- pre-commit -------------------------------------------------------------------------------


def pre_commit_hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_every_hook_runs_a_tool_of_the_locked_venv_offline() -> None:
    config = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    for repo in config["repos"]:
        # a remote hook would be downloaded on first use: it must at least be pinned to a tag or commit
        assert repo["repo"] == "local" or re.fullmatch(r"v?\d+\.\d+\.\d+|[0-9a-f]{40}", repo.get("rev", "")), repo
    for hook in pre_commit_hooks():
        executable = ROOT / hook["entry"].split()[0]
        assert hook["language"] == "system", hook["id"]
        assert executable.is_relative_to(ROOT / ".venv") and executable.exists(), (hook["id"], executable)


def test_the_hooks_cover_lint_the_secret_scan_yaml_and_the_generated_files() -> None:
    entries = {hook["id"]: hook["entry"] for hook in pre_commit_hooks()}
    assert entries["ruff"].startswith(".venv/bin/ruff check") and entries["ruff-format"].startswith(
        ".venv/bin/ruff format"
    )
    assert entries["secret-scan"] == ".venv/bin/python -m iworkz.policy.secret_scan"
    assert entries["check-yaml"].startswith(".venv/bin/check-yaml")
    # the same checks the tests make (tests/test_pipeline.py, tests/test_stateful_addresses.py)
    assert entries["gitlab-ci-fresh"] == ".venv/bin/python scripts/gitlab_ci.py --check"
    assert entries["stateful-addresses-fresh"] == ".venv/bin/python scripts/stateful_addresses.py"


# --- Renovate ---------------------------------------------------------------------------------


LOCAL_CHART = "(chart folder of this repository)"


@dataclass(frozen=True)
class Dependency:
    manager: str  # the custom manager's description
    file: str
    datasource: str
    name: str
    version: str
    registry: str | None


def repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.splitlines() if (ROOT / name).is_file()]


def matches_pattern(pattern: str, value: str) -> bool:
    """Renovate's string patterns: ``/regex/``, a glob, or the exact value."""
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return re.search(pattern[1:-1], value) is not None
    return fnmatch.fnmatchcase(value, pattern)


def python_regex(javascript: str) -> re.Pattern[str]:
    """A Renovate (JavaScript) regex in Python's syntax: named groups ``(?<name>`` are ``(?P<name>``."""
    return re.compile(re.sub(r"\(\?<(?![=!])", "(?P<", javascript))


def extracted(manager: dict[str, Any], files: list[str]) -> Iterator[Dependency]:
    """What a regex manager extracts from the repository, as Renovate would."""
    for name in files:
        if not any(matches_pattern(pattern, name) for pattern in manager["managerFilePatterns"]):
            continue
        text = (ROOT / name).read_text(encoding="utf-8")
        for expression in manager["matchStrings"]:
            for match in python_regex(expression).finditer(text):
                groups = match.groupdict()
                yield Dependency(
                    manager["description"],
                    name,
                    groups.get("datasource") or manager["datasourceTemplate"],
                    groups.get("depName") or manager["depNameTemplate"],
                    groups["currentValue"],
                    groups.get("registryUrl") or manager.get("registryUrlTemplate"),
                )


@pytest.fixture(scope="module")
def renovate_dependencies() -> list[Dependency]:
    files = repository_files()
    return [dependency for manager in renovate()["customManagers"] for dependency in extracted(manager, files)]


def synthesised_pins(synthesized: dict[str, Any]) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """(chart, repository, version) of every helm_release, (image, tag) of every container image."""
    charts, images = set(), set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                # An image in the account's own ECR (the SageMaker model's: its registry is known only
                # at plan time) is pinned by the ML pipeline that pushes it; Renovate cannot look it up.
                own_registry = isinstance(value, str) and value.startswith("${data.aws_caller_identity.")
                if key == "image" and isinstance(value, str) and ":" in value.rsplit("/", 1)[-1] and not own_registry:
                    repository, _, tag = value.rpartition(":")
                    images.add((repository, tag))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for document in synthesized.values():
        for release in (document.get("resource") or {}).get("helm_release", {}).values():
            # A chart folder of this repository (charts/<name>, shipped as an asset) has no repository.
            charts.add((release["chart"], release.get("repository", LOCAL_CHART), release["version"]))
        walk(document.get("resource") or {})
    return charts, images


def test_renovate_proposes_updates_for_every_chart_and_image_the_synth_uses(
    synthesized: dict[str, Any], renovate_dependencies: list[Dependency]
) -> None:
    charts, images = synthesised_pins(synthesized)
    assert charts and images
    found_charts = {(d.name, d.registry, d.version) for d in renovate_dependencies if d.datasource == "helm"}
    # a vendored chart (charts/<name>) follows its upstream release: its Chart.yaml appVersion
    releases = {(d.name, d.version) for d in renovate_dependencies if d.datasource == "github-releases"}
    local = {pin for pin in charts if pin[1] == LOCAL_CHART}
    assert all(("kubernetes-sigs/gateway-api", f"v{version}") in releases for _, _, version in local), local
    charts -= local
    found_images = {(d.name, d.version) for d in renovate_dependencies if d.datasource == "docker"}
    missing = sorted(charts - found_charts) + sorted(images - found_images)
    assert not missing, (
        f"pinned in the synth but found by no Renovate manager of renovate.json: {missing}; keep the "
        "Chart(...) / image: {repository, tag} / ImageConfig(...) shapes or add a customManagers entry"
    )


def test_every_custom_manager_finds_what_it_is_for(renovate_dependencies: list[Dependency]) -> None:
    for manager in renovate()["customManagers"]:
        assert any(d.manager == manager["description"] for d in renovate_dependencies), manager["description"]
    by_name = {d.name: d for d in renovate_dependencies}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"UV_VERSION := {by_name['uv'].version}\n" in makefile


def test_the_cdktf_toolchain_is_frozen_and_nothing_turns_it_back_on() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    pinned = [re.split(r"[=<>~! ]", requirement)[0] for requirement in pyproject["project"]["dependencies"]]
    frozen = [name for name in pinned if name.startswith("cdktf") or name in ("constructs", "jsii")]
    frozen += [name for name in [*package["dependencies"], *package["devDependencies"]] if name.startswith("cdktf")]
    assert {"cdktf", "cdktf-cdktf-provider-aws", "jsii", "cdktf-cli"} <= set(frozen)
    rules = renovate()["packageRules"]
    for name in frozen:
        applying = [rule for rule in rules if any(matches_pattern(p, name) for p in rule.get("matchPackageNames", []))]
        enabled = [rule["enabled"] for rule in applying if "enabled" in rule]
        assert enabled and enabled[-1] is False, f"{name} is not frozen in renovate.json"
        assert "archived" in next(rule for rule in applying if rule.get("enabled") is False)["description"]


def test_generated_files_are_left_to_their_generators() -> None:
    ignored = renovate()["ignorePaths"]
    assert {"tests/snapshots/**", ".gitlab-ci.yml"} <= set(ignored)


# --- toolchain pins ---------------------------------------------------------------------------


def test_python_version_matches_pyproject_and_the_pipeline_image() -> None:
    version = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert version == "3.11" and pyproject["project"]["requires-python"] == ">=3.11,<3.12"
    pipeline = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert pipeline["image"] == f"python:{version}"


def test_nvmrc_matches_the_node_of_package_json() -> None:
    major = (ROOT / ".nvmrc").read_text(encoding="utf-8").strip()
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["node"].split(".")[0] == major == "22"
    assert package["engines"]["node"] == f">={major}"


def test_editorconfig_keeps_tabs_for_make_and_ruffs_line_length() -> None:
    text = (ROOT / ".editorconfig").read_text(encoding="utf-8")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "[Makefile]\nindent_style = tab" in text
    assert f"max_line_length = {pyproject['tool']['ruff']['line-length']}" in text


# --- review -----------------------------------------------------------------------------------


def codeowners_sections() -> dict[str, tuple[list[str], list[str]]]:
    """Section name -> (owners, path patterns)."""
    sections: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] = []
    for line in CODEOWNERS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        header = re.fullmatch(r"\^?\[([^\]]+)\](?:\[\d+\])?((?:\s+@\S+)*)", line)
        if header:
            current = []
            sections[header.group(1)] = (header.group(2).split(), current)
        else:
            current.append(line.split()[0])
    return sections


def test_codeowners_are_gitlab_groups_and_name_existing_paths() -> None:
    sections = codeowners_sections()
    assert sections["Platform"] == (["@iworkz/platform"], ["*"])
    for name, (owners, patterns) in sections.items():
        assert owners and all(re.fullmatch(r"@iworkz/[a-z-]+", owner) for owner in owners), name
        for pattern in patterns:
            if pattern != "*":
                assert (ROOT / pattern.lstrip("/")).exists(), f"CODEOWNERS [{name}]: {pattern} does not exist"


def test_state_iam_and_production_need_stricter_owners() -> None:
    header = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\[([^\]]+)\]\[(\d+)\]", CODEOWNERS.read_text(encoding="utf-8"), re.MULTILINE)
    }
    sections = codeowners_sections()

    def section_of(path: str) -> set[str]:
        return {name for name, (_, patterns) in sections.items() if f"/{path}" in patterns}

    for path in (
        "stacks/state.py",
        "tests/stateful_addresses.json",
        "constructs/addon_policies.py",
        "config/production.yaml",
    ):
        strict = section_of(path) - {"Platform"}
        assert strict and all(int(header.get(name, "1")) >= 2 for name in strict), path
        owners = {owner for name in strict for owner in sections[name][0]}
        assert "@iworkz/platform-leads" in owners or "@iworkz/security" in owners, path


def test_the_merge_request_template_holds_the_review_checklist() -> None:
    checklist = [line for line in MR_TEMPLATE.read_text(encoding="utf-8").splitlines() if line.startswith("- [ ]")]
    text = "\n".join(checklist)
    for item in ("Synth diff read", "Stateful changes justified", "Snapshots refreshed", "Secrets: none"):
        assert item in text, item


# --- make -------------------------------------------------------------------------------------


@pytest.mark.early(command=repository_checks)
def test_make_fmt_formats_even_when_ruff_check_leaves_an_error(early_result: subprocess.CompletedProcess[str]) -> None:
    fmt = repository_check_results(early_result)["make-fmt"]
    assert fmt["returncode"] != 0 and "F821" in fmt["stdout"] + fmt["stderr"]  # the error is reported...
    argv = json.loads(early_result.args[-1])["make-fmt"]  # the runner's commands, by name
    unfixable = Path(next(arg for arg in argv if arg.startswith("FMT_PATHS=")).removeprefix("FMT_PATHS="))
    assert unfixable.read_text(encoding="utf-8") == "print(undefined_name)\n"  # ...after fixing and formatting


def test_the_readme_names_every_stack_with_its_module_contract_and_producers() -> None:
    """The README's table of stacks follows the registry (a new stack without its row fails)."""
    from iworkz.registry import SPECS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for spec in SPECS:
        name = spec.component + ("-E" if spec.per_environment else "")
        contract = spec.contract.__name__ if spec.contract else "-"
        reads = ", ".join(spec.depends_on) or "-"
        row = f"| `{name}` | `{spec.module.replace('.', '/')}.py` | `{contract}` | {reads} |"
        assert row in readme, f"README.md: no row {row!r} in 'Stacks, contracts and owners'"
