"""Shared fixtures: the whole app is synthesised once per test session.

``STACKS=network ENVS=dev pytest tests/test_network.py`` synthesises only a selection (and
its dependencies) for a quicker loop while developing a stack.

Tests whose time goes to a subprocess (checkov scans, fresh-process synths, the benchmark's
memory probe) are marked ``@pytest.mark.early(command=...)``: their command starts before
collection (or, if it needs the session synth, once that is written), so it runs on the
second core while the in-process tests run; the test then waits for it (``early_result``)
and asserts on its exit status and output. See tests/early.py.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import iworkz  # noqa: F401  (puts the project's Node first on PATH before jsii starts)
from iworkz.cli import _split
from iworkz.config import Settings, load_settings
from iworkz.registry import plan
from iworkz.synth import WrittenStack, synthesize
from tests.early import BEFORE_COLLECTION, EarlyCommand, EarlyRun

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


# --- commands started early (tests/early.py) ----------------------------------------------------

_RUNS: dict[EarlyCommand, EarlyRun] = {}
_FAILED_TO_START: dict[EarlyCommand, BaseException] = {}
_EARLY_ROOT = Path(tempfile.mkdtemp(prefix="pytest-early-"))
EARLY_TIMEOUT_S = 600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "early(command=...): command(workdir, **session fixtures) returns an argv that runs in a subprocess "
        "from the start of the session (tests/early.py); the test gets its CompletedProcess from early_result",
    )


def _start(command: EarlyCommand, fixture: Callable[[str], Any]) -> EarlyRun:
    parameters = inspect.signature(command).parameters
    workdir = Path(tempfile.mkdtemp(prefix=f"{command.__name__}-", dir=_EARLY_ROOT))
    arguments = {name: workdir if name == "workdir" else fixture(name) for name in parameters}
    return EarlyRun(command(**arguments), workdir, nice="synthesized" not in parameters)


def _no_fixture(name: str) -> Any:
    raise LookupError(f"{name} is not available before collection")


def _start_or_remember(command: EarlyCommand, fixture: Callable[[str], Any]) -> None:
    """A command that cannot start fails the tests that use it (early_result), not the session."""
    try:
        _RUNS[command] = _start(command, fixture)
    except (Exception, pytest.skip.Exception, pytest.fail.Exception) as error:
        _FAILED_TO_START[command] = error


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session: pytest.Session) -> None:
    # SIGTERM ends the session as Ctrl-C does: pytest_unconfigure still stops the commands.
    signal.signal(signal.SIGTERM, _interrupt)
    for command in BEFORE_COLLECTION:
        _start_or_remember(command, _no_fixture)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that wait for an early command run last (in their order): the second core has the
    whole session to finish the commands while the in-process tests run."""
    items.sort(key=lambda item: item.get_closest_marker("early") is not None)  # stable


def _commands_of(items: list[pytest.Item]) -> list[EarlyCommand]:
    marked = (item.get_closest_marker("early") for item in items)
    return list(dict.fromkeys(marker.kwargs["command"] for marker in marked if marker))


@pytest.fixture(scope="session", autouse=True)
def _early_commands(request: pytest.FixtureRequest) -> None:
    """Stops the commands no selected test uses; starts the others (those that need the synth)."""
    wanted = _commands_of(request.session.items)
    for command in [command for command in _RUNS if command not in wanted]:
        _RUNS.pop(command).stop()
    for command in wanted:
        if command not in _RUNS and command not in _FAILED_TO_START:
            # e.g. the synth fails: each test that needs the command reports it
            _start_or_remember(command, request.getfixturevalue)


def pytest_unconfigure(config: pytest.Config) -> None:
    for run in _RUNS.values():
        run.stop()
    shutil.rmtree(_EARLY_ROOT, ignore_errors=True)


@pytest.fixture
def early_result(request: pytest.FixtureRequest) -> subprocess.CompletedProcess[str]:
    """The finished command of this test's ``early`` marker (started now if the session could not)."""
    marker = request.node.get_closest_marker("early")
    assert marker is not None, "early_result needs @pytest.mark.early(command=...)"
    command = marker.kwargs["command"]
    if command in _FAILED_TO_START:
        raise _FAILED_TO_START[command]
    if command not in _RUNS:
        _RUNS[command] = _start(command, request.getfixturevalue)
    try:
        return _RUNS[command].result(EARLY_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(_RUNS[command].argv)[:200]} did not finish within {EARLY_TIMEOUT_S} s")
