"""The lock files agree with what they lock: uv.lock with pyproject.toml, requirements/checkov.txt with checkov.in.

``make install`` installs uv.lock with ``uv sync --frozen``, which does not look at
pyproject.toml: a pin changed there without ``make lock`` would silently not be installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".venv-tools" / "bin" / "uv"
FIX = "run `make lock` and commit uv.lock"


def _uv_lock_check(project: Path) -> subprocess.CompletedProcess[str]:
    if not UV.exists():
        pytest.fail(f"{UV.relative_to(ROOT)} is missing: run `make install` (it installs uv)")
    return subprocess.run(
        [str(UV), "lock", "--check", "--offline", "--quiet", "--project", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )


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


def test_uv_lock_matches_pyproject() -> None:
    result = _uv_lock_check(ROOT)
    assert result.returncode == 0, f"uv.lock does not match pyproject.toml: {FIX}\n{result.stderr}"


def test_the_locked_requirements_are_the_declared_ones() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked, declared = locked_requirements(lock, pyproject["project"]["name"]), declared_requirements(pyproject)
    assert locked == declared, (
        f"only in pyproject.toml: {sorted(declared - locked)}; only in uv.lock: {sorted(locked - declared)}: {FIX}"
    )


def test_a_pin_changed_without_relocking_fails_the_check(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    changed = re.sub(r'"pydantic==[^"]+"', '"pydantic==2.0.0"', text)
    assert changed != text
    pyproject.write_text(changed, encoding="utf-8")
    assert _uv_lock_check(tmp_path).returncode != 0
    declared = declared_requirements(tomllib.loads(changed))
    locked = locked_requirements(
        tomllib.loads((tmp_path / "uv.lock").read_text(encoding="utf-8")), "iworkz-infrastructure"
    )
    assert declared - locked == {"pydantic==2.0.0"}


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
