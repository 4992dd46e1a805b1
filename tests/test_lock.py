"""The lock files agree with what they lock: uv.lock with pyproject.toml, requirements/checkov.txt with checkov.in.

``make install`` installs uv.lock with ``uv sync --frozen``, which does not look at
pyproject.toml: a pin changed there without ``make lock`` would silently not be installed.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.early import CHANGED_PIN, repository_check_results, repository_checks, with_changed_pin

ROOT = Path(__file__).resolve().parents[1]
FIX = "run `make lock` and commit uv.lock"


def locked_requirements(lock: dict[str, Any], name: str) -> set[str]:
    """The root package's requirements as uv.lock recorded them (``name==version; extra == 'dev'``)."""
    (package,) = [package for package in lock["package"] if package["name"] == name]
    requirements = set()
    for entry in package["metadata"]["requires-dist"]:
        marker = f"; {entry['marker']}" if "marker" in entry else ""
        requirements.add(f"{entry['name']}{entry.get('specifier', '')}{marker}")
    return requirements


def declared_requirements(pyproject: dict[str, Any]) -> set[str]:
    """pyproject.toml's dependencies in the same form (names normalised as uv writes them)."""
    project = pyproject["project"]
    requirements = {_normalise(requirement) for requirement in project["dependencies"]}
    for extra, listed in project.get("optional-dependencies", {}).items():
        requirements |= {f"{_normalise(requirement)}; extra == '{extra}'" for requirement in listed}
    return requirements


def _normalise(requirement: str) -> str:
    name, specifier = re.fullmatch(r"([A-Za-z0-9._-]+)\s*(.*)", requirement.strip()).groups()  # type: ignore[union-attr]
    return re.sub(r"[-_.]+", "-", name).lower() + specifier.replace(" ", "")


@pytest.mark.early(command=repository_checks)
def test_uv_lock_matches_pyproject(early_result: subprocess.CompletedProcess[str]) -> None:
    check = repository_check_results(early_result)["uv-lock"]
    assert check["returncode"] == 0, f"uv.lock does not match pyproject.toml: {FIX}\n{check['stderr']}"


def test_the_locked_requirements_are_the_declared_ones() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked, declared = locked_requirements(lock, pyproject["project"]["name"]), declared_requirements(pyproject)
    assert locked == declared, (
        f"only in pyproject.toml: {sorted(declared - locked)}; only in uv.lock: {sorted(locked - declared)}: {FIX}"
    )


@pytest.mark.early(command=repository_checks)
def test_a_pin_changed_without_relocking_fails_both_checks(early_result: subprocess.CompletedProcess[str]) -> None:
    assert repository_check_results(early_result)["uv-lock-changed-pin"]["returncode"] != 0
    changed = tomllib.loads(with_changed_pin((ROOT / "pyproject.toml").read_text(encoding="utf-8")))
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    assert declared_requirements(changed) - locked_requirements(lock, changed["project"]["name"]) == {CHANGED_PIN}


def test_the_checkov_requirements_lock_the_pinned_checkov() -> None:
    pins = {
        line.split("==")[0].strip().lower(): line.split("==")[1].strip()
        for line in (ROOT / "requirements" / "checkov.in").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    locked = (ROOT / "requirements" / "checkov.txt").read_text(encoding="utf-8")
    for name, version in pins.items():
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)}\s", locked, re.MULTILINE | re.IGNORECASE), (
            f"requirements/checkov.txt does not lock {name}=={version} of checkov.in: run `make lock`"
        )
    assert "--hash=sha256:" in locked
