"""Shared fixtures: the whole app is synthesised once per test session.

``STACKS=network ENVS=dev pytest tests/test_network.py`` synthesises only a selection (and
its dependencies) for a quicker loop while developing a stack.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import iworkz  # noqa: F401  (puts the project's Node first on PATH before jsii starts)
from iworkz.cli import _split
from iworkz.config import Settings, load_settings
from iworkz.registry import plan
from iworkz.synth import synthesize

StackJson = dict[str, Any]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def synth_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synth") / "cdktf.out"


@pytest.fixture(scope="session")
def synthesized(settings: Settings, synth_outdir: Path) -> dict[str, StackJson]:
    """Every stack of every environment, as parsed cdk.tf.json, keyed by stack name."""
    selected = load_settings(environments=_split(os.environ.get("ENVS"))) if os.environ.get("ENVS") else settings
    planned, _ = plan(selected, _split(os.environ.get("STACKS")))
    written = synthesize(selected, planned, synth_outdir)
    return {stack.name: json.loads(stack.path.read_text()) for stack in written}


@pytest.fixture(scope="session")
def stack(synthesized: dict[str, StackJson]):
    """``stack("network-production")`` returns that stack's JSON (skips when not selected)."""

    def get(name: str) -> StackJson:
        if name not in synthesized:
            if os.environ.get("STACKS") or os.environ.get("ENVS"):
                pytest.skip(f"{name} is not in the STACKS/ENVS selection")
            raise KeyError(f"stack {name} was not synthesised; have {sorted(synthesized)}")
        return synthesized[name]

    return get
