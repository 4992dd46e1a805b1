"""Static Helm values from ``helm_values/<release>.yaml`` and the merge with values computed in code.

Each Helm release keeps its static values in one YAML file; values that come from other stacks
(endpoints, role ARNs, cluster name) or from configuration are merged in code with
:func:`merge_values`. A broken values file stops the synth with one :class:`UserError` naming
the file, the field, the value and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from iworkz.app import HELM_VALUES_DIR, PROJECT_ROOT
from iworkz.config import load_yaml
from iworkz.errors import UserError

_MISSING = object()


def values_path(release_name: str, directory: Path = HELM_VALUES_DIR) -> Path:
    return directory / f"{release_name}.yaml"


def load_values(
    release_name: str,
    required: Sequence[str] = (),
    *,
    directory: Path = HELM_VALUES_DIR,
) -> dict[str, Any]:
    """Reads ``<directory>/<release_name>.yaml`` as one mapping.

    ``required`` lists dotted key paths (``prometheus.prometheusSpec``) the caller relies on;
    each must be present. Raises :class:`UserError` for a missing file, invalid YAML, a
    document that is not a mapping, or a missing required key.
    """
    path = values_path(release_name, directory)
    shown = _display(path)
    if not path.is_file():
        raise UserError.single(
            shown,
            "(file)",
            None,
            f"the Helm release '{release_name}' needs a static values file",
            f"create {shown} with the release's static values (an empty mapping is '{{}}')",
        )
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(document)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError.single(
            shown,
            where,
            problem,
            "must be valid YAML",
            "fix the syntax at that position (indentation, quoting, a missing ':')",
        ) from None
    if not isinstance(document, dict):
        raise UserError.single(
            shown,
            "(document)",
            document,
            f"must be a YAML mapping of Helm values, not {type(document).__name__}",
            "write the values as 'key: value' pairs at the top level",
        )
    for dotted in required:
        if lookup(document, dotted) is _MISSING:
            raise UserError.single(
                shown,
                dotted,
                None,
                "is required by the stack that installs this release",
                f"add '{dotted}' to {shown}",
            )
    return document


def lookup(values: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key path, or a private sentinel when any part is missing."""
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def has_key(values: Mapping[str, Any], dotted: str) -> bool:
    return lookup(values, dotted) is not _MISSING


def merge_values(static: Mapping[str, Any], computed: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else in ``computed`` replaces ``static``.

    Neither argument is modified; lists are replaced, not concatenated (as Helm does).
    """
    merged: dict[str, Any] = {key: _copy(value) for key, value in static.items()}
    for key, value in computed.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
