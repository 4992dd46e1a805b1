"""Shared fixtures: the whole app is synthesised once per test session.

``STACKS=network ENVS=dev pytest tests/test_network.py`` synthesises only a selection (and
its dependencies) for a quicker loop while developing a stack.

Tests whose time goes to a subprocess (checkov scans, fresh-process synths, the benchmark's
memory probe) are marked ``@pytest.mark.early(command=...)``: their command starts when the
session starts (after the session synth for a command that needs it), so it runs on the
second core while the in-process tests run; the test then waits for it (``early_result``)
and asserts on its exit status and output as before. Tests marked with the same command share
one run of it.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import iworkz  # noqa: F401  (puts the project's Node first on PATH before jsii starts)
from iworkz.cli import _split
from iworkz.config import Settings, load_settings
from iworkz.registry import plan
from iworkz.synth import WrittenStack, synthesize

if TYPE_CHECKING:
    from cdktf import TerraformStack

StackJson = dict[str, Any]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def synth_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synth") / "cdktf.out"


@pytest.fixture(scope="session")
def session_synth(settings: Settings, synth_outdir: Path) -> list[WrittenStack]:
    """The one synth of the session: every stack of every environment (or the STACKS/ENVS selection)."""
    selected = load_settings(environments=_split(os.environ.get("ENVS"))) if os.environ.get("ENVS") else settings
    planned, _ = plan(selected, _split(os.environ.get("STACKS")))
    return synthesize(selected, planned, synth_outdir)


@pytest.fixture(scope="session")
def synthesized(session_synth: list[WrittenStack]) -> dict[str, StackJson]:
    """Every stack of the session synth, as parsed cdk.tf.json, keyed by stack name."""
    return {stack.name: json.loads(stack.path.read_text()) for stack in session_synth}


def _selected(available: dict[str, Any], name: str) -> Any:
    if name not in available:
        if os.environ.get("STACKS") or os.environ.get("ENVS"):
            pytest.skip(f"{name} is not in the STACKS/ENVS selection")
        raise KeyError(f"stack {name} was not synthesised; have {sorted(available)}")
    return available[name]


@pytest.fixture(scope="session")
def stack(synthesized: dict[str, StackJson]) -> Callable[[str], StackJson]:
    """``stack("network-production")`` returns that stack's JSON (skips when not selected)."""
    return lambda name: _selected(synthesized, name)


@pytest.fixture(scope="session")
def stack_construct(session_synth: list[WrittenStack]) -> Callable[[str], TerraformStack]:
    """``stack_construct("data-staging")`` returns the synthesised stack object, to read its contract."""
    constructs = {written.name: written.stack for written in session_synth}
    return lambda name: _selected(constructs, name)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Moves everything imported so far (the provider bindings, every test module) out of the
    garbage collector's reach: they live until the end, and each full collection would walk
    them again (about 0.6 s over a session)."""
    gc.freeze()


# --- commands started early -------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that wait for an early command run last (in their order): the second core has the
    whole session to finish the commands while the in-process tests run."""
    items.sort(key=lambda item: item.get_closest_marker("early") is not None)  # stable


# A command takes session fixtures as keyword arguments (by parameter name) and returns the argv.
EarlyCommand = Callable[..., list[str]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "early(command=...): command(**session fixtures) returns an argv started when the session starts; "
        "the test gets its CompletedProcess from the early_result fixture",
    )


_POOL = ThreadPoolExecutor(thread_name_prefix="early")
_STARTED: dict[EarlyCommand, Future[subprocess.CompletedProcess[str]]] = {}


def _start(command: EarlyCommand, fixture: Callable[[str], Any]) -> Future[subprocess.CompletedProcess[str]]:
    argv = command(**{name: fixture(name) for name in inspect.signature(command).parameters})
    if not _needs_synth(command):
        # Lower priority: the session synth, and the scan of its output that waits for it, go first.
        argv = ["nice", "-n", "10", *argv]
    return _POOL.submit(subprocess.run, argv, cwd=ROOT, capture_output=True, text=True, check=False)


def _needs_synth(command: EarlyCommand) -> bool:
    return "synthesized" in inspect.signature(command).parameters


@pytest.fixture(scope="session", autouse=True)
def _start_early_commands(request: pytest.FixtureRequest) -> Iterator[None]:
    commands = {
        marker.kwargs["command"]: None for item in request.session.items if (marker := item.get_closest_marker("early"))
    }
    # The others start first and run while the session synth builds.
    for command in sorted(commands, key=_needs_synth):
        try:
            _STARTED[command] = _start(command, request.getfixturevalue)
        except Exception:  # e.g. the synth fails: the test reports it when it requests the synth itself
            continue
    yield
    _POOL.shutdown(cancel_futures=True)


@pytest.fixture
def early_result(request: pytest.FixtureRequest) -> subprocess.CompletedProcess[str]:
    """The finished command of this test's ``early`` marker (started now if the session could not)."""
    marker = request.node.get_closest_marker("early")
    assert marker is not None, "early_result needs @pytest.mark.early(command=...)"
    command = marker.kwargs["command"]
    if command not in _STARTED:
        _STARTED[command] = _start(command, request.getfixturevalue)
    return _STARTED[command].result()
