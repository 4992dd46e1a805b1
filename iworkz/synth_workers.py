"""A synth of several environments in parallel processes, merged into one tree.

Stacks of different environments share nothing (a stack reads other stacks only through their
contracts, from state), so each group of environments synthesises in a process of its own
into a folder of its own, and the parent merges the folders and their manifests into the
staging tree. The parent then checks the policy over the whole tree and publishes it exactly as
after a single-process synth: the same files, byte for byte (tests/test_parallel_synth.py).

The workers are forked before this process imports jsii: jsii's node belongs to the process
that started it, so a process running jsii synthesises alone (the test session, watch mode).
``IWORKZ_SYNTH_JOBS`` sets the number of processes (default: the cores this process may use;
1 synthesises in this process). The account-level stacks (state, security, delivery) join the
group with the fewest stacks.

Errors keep the single-process contract: bad input in a worker is raised here as the one
message the worker rendered (exit 2), a crash as an error with the worker's traceback, and an
interruption (Ctrl-C reaches every process of the group; SIGTERM only this one, which passes
it on) stops every worker before the staging tree is removed.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pickle
import shutil
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from iworkz.config import Settings
from iworkz.errors import Problem, UserError
from iworkz.policy.check import PolicyFacts
from iworkz.registry import PlannedStack

JOBS_VARIABLE = "IWORKZ_SYNTH_JOBS"
PART_PREFIX = "part-"
OUTCOME_FILE = "outcome.pickle"

# synthesises the stacks into the folder (cdktf's layout: manifest.json, stacks/<name>/)
GroupSynth = Callable[[Settings, list[PlannedStack], Path], PolicyFacts]


def synth_jobs() -> int:
    """The number of synth processes: ``IWORKZ_SYNTH_JOBS`` or the cores this process may use;
    1 once this process runs jsii (a fork would share its node)."""
    value = os.environ.get(JOBS_VARIABLE, "").strip()
    if not value:
        value = str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        raise UserError.single(
            "environment",
            JOBS_VARIABLE,
            value,
            "must be a whole number of synth processes, 1 or more",
            f"unset it (one per core) or set e.g. {JOBS_VARIABLE}=1 (this process only)",
        )
    return 1 if "jsii" in sys.modules else int(value)


def environment_groups(planned: Sequence[PlannedStack], jobs: int) -> list[list[PlannedStack]]:
    """``planned`` in at most ``jobs`` groups of whole environments, each in build order (one
    group for one environment)."""
    by_environment: dict[str, list[PlannedStack]] = {}
    account_level: list[PlannedStack] = []
    for stack in planned:
        if stack.environment is None:
            account_level.append(stack)
        else:
            by_environment.setdefault(stack.environment, []).append(stack)
    if jobs < 2 or len(by_environment) < 2:
        return [list(planned)] if planned else []
    groups: list[list[PlannedStack]] = [[] for _ in range(min(jobs, len(by_environment)))]
    # the largest environments first, each into the group with the fewest stacks (ties: the first)
    for _, stacks in sorted(by_environment.items(), key=lambda item: (-len(item[1]), item[0])):
        min(groups, key=len).extend(stacks)
    min(groups, key=len).extend(account_level)
    order = {stack: index for index, stack in enumerate(planned)}
    return [sorted(group, key=order.__getitem__) for group in groups]


def describe_groups(groups: list[list[PlannedStack]]) -> str:
    """``production + account | staging, dev``: the environments of each process."""
    return " | ".join(", ".join(dict.fromkeys(stack.environment or "account" for stack in group)) for group in groups)


@dataclass
class _Outcome:
    facts: PolicyFacts | None = None
    problems: list[Problem] = field(default_factory=list)
    message: str = ""  # the worker's rendering of its UserError
    crash: str = ""  # the worker's traceback
    interrupted: bool = False


class WorkerInputError(UserError):
    """Bad input a worker found, with the message it rendered (e.g. a policy or config error)."""

    def __init__(self, problems: list[Problem], message: str) -> None:
        self.message = message
        super().__init__(problems)

    def render(self) -> str:
        return self.message


def synthesize_in_workers(
    settings: Settings, groups: list[list[PlannedStack]], staging: Path, synth: GroupSynth
) -> list[PolicyFacts]:
    """Synthesises each group in a forked process, merges their trees into ``staging``.

    Returns each group's policy facts; raises what the first failing group raised.
    """
    folders = [staging / f"{PART_PREFIX}{index}" for index in range(len(groups))]
    running: dict[int, Path] = {}
    sys.stdout.flush()  # or each worker would print again what this process had buffered
    sys.stderr.flush()
    try:
        for group, folder in zip(groups, folders, strict=True):
            pid = os.fork()
            if pid == 0:
                _work(settings, group, folder, synth)
            running[pid] = folder
        for pid in list(running):
            os.waitpid(pid, 0)
            del running[pid]
    finally:
        _stop(running)
    outcomes = [_read_outcome(folder) for folder in folders]
    for group, outcome in zip(groups, outcomes, strict=True):
        _raise_for(group, outcome)
    _merge_trees(folders, staging)
    return [outcome.facts for outcome in outcomes if outcome.facts is not None]


def _work(settings: Settings, group: list[PlannedStack], folder: Path, synth: GroupSynth) -> NoReturn:
    """The forked worker: synthesises ``group`` into ``folder``, leaves its outcome there, exits."""
    atexit._clear()  # the parent's exit handlers are the parent's; jsii registers its own here
    outcome = _Outcome()
    try:
        folder.mkdir()
        outcome.facts = synth(settings, group, folder)
    except UserError as error:
        outcome.problems, outcome.message = error.problems, error.render()
    except KeyboardInterrupt:  # Ctrl-C, or the parent's SIGTERM (iworkz.cli.Interrupted)
        outcome.interrupted = True
    except BaseException:
        outcome.crash = traceback.format_exc()
    if outcome.interrupted:
        # what node says about its channel closing under it is no news to the user
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (open until the process exits)
    with contextlib.suppress(BaseException):
        (folder / OUTCOME_FILE).write_bytes(pickle.dumps(outcome))
        sys.stdout.flush()
        atexit._run_exitfuncs()  # stops jsii's node, removes the temporary Lambda packages
    os._exit(0)


def _stop(running: dict[int, Path]) -> None:
    """Stops the workers still running (this process was interrupted) and waits for them."""
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in running:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _read_outcome(folder: Path) -> _Outcome:
    try:
        outcome = pickle.loads((folder / OUTCOME_FILE).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        return _Outcome(crash=f"the synth process of {folder.name} ended without reporting (killed?)")
    assert isinstance(outcome, _Outcome)
    return outcome


def _raise_for(group: list[PlannedStack], outcome: _Outcome) -> None:
    if outcome.interrupted:
        raise KeyboardInterrupt
    if outcome.message:
        raise WorkerInputError(outcome.problems, outcome.message)
    if outcome.crash:
        names = ", ".join(stack.name for stack in group)
        raise RuntimeError(f"the synth of {names} failed in its process:\n{outcome.crash}")


def _merge_trees(folders: list[Path], staging: Path) -> None:
    """Moves every worker's stack folders into ``staging`` and joins their manifests."""
    manifest: dict[str, object] | None = None
    (staging / "stacks").mkdir()
    for folder in folders:
        part = json.loads((folder / "manifest.json").read_text())
        if manifest is None:
            manifest = part
        else:
            manifest["stacks"].update(part["stacks"])  # type: ignore[attr-defined]
        for stack_folder in sorted((folder / "stacks").iterdir()):
            stack_folder.rename(staging / "stacks" / stack_folder.name)
        shutil.rmtree(folder)
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
