"""Builds modified copies of config/ for bad-input tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from iworkz.config import DEFAULT_CONFIG_DIR, available_environments, load_yaml

ENVIRONMENTS = tuple(available_environments(DEFAULT_CONFIG_DIR))
"""The configured environments: tests run over them, never over a hard-coded list."""
UNCONFIGURED = "no-such-environment"

DELETE = object()
"""Patch value that removes a key."""


def deep_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is DELETE:
                merged.pop(key, None)
            else:
                merged[key] = deep_merge(base.get(key), value)
        return merged
    return patch


def write_config(tmp_path: Path, env: str | None = None, patch: dict[str, Any] | None = None) -> Path:
    """Copies config/ into tmp_path and deep-merges ``patch`` into ``<env>.yaml``; returns the folder.

    ``env=None`` patches common.yaml.
    """
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target, dirs_exist_ok=True)
    if patch is not None:
        path = target / f"{env or 'common'}.yaml"
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        dumper = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper
        path.write_text(yaml.dump(deep_merge(data, patch), Dumper=dumper, allow_unicode=True, sort_keys=False))
    return target


def write_raw(tmp_path: Path, env: str, text: str) -> Path:
    """Copies config/ and replaces ``<env>.yaml`` with raw text (for YAML syntax errors)."""
    target = write_config(tmp_path)
    (target / f"{env}.yaml").write_text(text, encoding="utf-8")
    return target
