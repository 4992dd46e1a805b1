"""helm_values loader and merge helper: bad values files stop with one clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iworkz.app import HELM_VALUES_DIR
from iworkz.errors import UserError
from iworkz.helm_values import has_key, load_values, merge_values


def _write(tmp_path: Path, text: str, name: str = "release") -> Path:
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_loads_mapping_and_checks_required_keys(tmp_path: Path) -> None:
    directory = _write(tmp_path, "a:\n  b:\n    c: 1\nd: [1, 2]\n")
    values = load_values("release", ["a.b.c", "d"], directory=directory)
    assert values == {"a": {"b": {"c": 1}}, "d": [1, 2]}


def test_fails_invalid_yaml(tmp_path: Path) -> None:
    directory = _write(tmp_path, "a:\n  b: [1, 2\nc: 3\n")
    with pytest.raises(UserError) as error:
        load_values("release", directory=directory)
    message = str(error.value)
    assert "release.yaml" in message
    assert "line " in message
    assert "must be valid YAML" in message


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("", "NoneType")])
def test_fails_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    directory = _write(tmp_path, text)
    with pytest.raises(UserError) as error:
        load_values("release", directory=directory)
    message = str(error.value)
    assert "release.yaml: (document)" in message
    assert f"must be a YAML mapping of Helm values, not {kind}" in message


def test_fails_missing_required_key(tmp_path: Path) -> None:
    directory = _write(tmp_path, "a:\n  b: {}\n")
    with pytest.raises(UserError) as error:
        load_values("release", ["a.b.c"], directory=directory)
    message = str(error.value)
    assert "release.yaml: a.b.c = None" in message
    assert "is required by the stack" in message


def test_fails_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs a static values file"):
        load_values("absent", directory=tmp_path)


def test_merge_is_deep_and_pure() -> None:
    static: dict[str, Any] = {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "k": "static"}
    computed = {"a": {"c": {"e": 3}}, "l": [3], "n": {"x": 1}}
    merged = merge_values(static, computed)
    assert merged == {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "l": [3], "k": "static", "n": {"x": 1}}
    assert static == {"a": {"b": 1, "c": {"d": 2}}, "l": [1, 2], "k": "static"}
    merged["a"]["c"]["d"] = 99
    assert static["a"]["c"]["d"] == 2


def test_computed_scalar_replaces_mapping() -> None:
    assert merge_values({"a": {"b": 1}}, {"a": "flat"}) == {"a": "flat"}


def test_has_key() -> None:
    assert has_key({"a": {"b": None}}, "a.b")
    assert not has_key({"a": {"b": None}}, "a.c")
    assert not has_key({"a": 1}, "a.b")


@pytest.mark.parametrize("path", sorted(HELM_VALUES_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_values_file_in_the_repository_loads(path: Path) -> None:
    assert isinstance(load_values(path.stem), dict)
