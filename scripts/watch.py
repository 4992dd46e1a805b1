"""Watch mode (``make watch``): re-synthesise the selected stacks whenever a source file changes.

The cdktf runtime and the provider packages (the 10-30 s and ~1.3 GB of a cold synth) are
loaded once and stay loaded in this process; after an edit under iworkz/, stacks/,
constructs/, config/, helm_values/ or runtime/ (the scripts the ConfigMaps embed, read at
synth time) the selection (STACKS/ENVS, or --stacks/--envs) is synthesised again into
cdktf.out, which takes seconds; an edited Python module of the app is reloaded first. Each cycle prints which stacks changed compared with the previous cycle,
with the resources added, removed and changed (same comparison as ``make diff``).

A configuration error, a policy violation or a Python error is printed and the watch goes
on: fix the file and the next save re-synthesises. Stop with Ctrl-C.

Reloading: every module whose file lives in iworkz/, stacks/ or constructs/ is removed
from ``sys.modules`` and imported again, which reloads all of them in dependency order
(``importlib.reload`` module by module would leave other project modules holding the old
classes through their ``from ... import`` bindings). cdktf, constructs, jsii and the
provider packages are never touched: their jsii assemblies stay loaded in node.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snapshots import PROJECT_ROOT, normalise, path_replacements
from synth_diff import DiffReport, change_lines, compare

WATCHED_DIRS = ("iworkz", "stacks", "constructs", "config", "helm_values", "runtime")
RELOADED_DIRS = ("iworkz", "stacks", "constructs")
WATCHED_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".tpl", ".txt")

StackJson = dict[str, Any]


def project_modules(root: Path = PROJECT_ROOT) -> list[str]:
    """Names of the loaded modules whose source is in the project's reloadable folders."""
    folders = [str((root / name).resolve()) + os.sep for name in RELOADED_DIRS]
    names = []
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        locations = [source] if source else list(getattr(module, "__path__", None) or [])
        if any(str(Path(location).resolve()).startswith(tuple(folders)) for location in locations if location):
            names.append(name)
    return sorted(names)


def needs_reload(changed: Collection[Path], root: Path = PROJECT_ROOT) -> bool:
    """Whether an edited file is a module of the app (runtime/ scripts are data the synth reads, not imports)."""
    folders = [(root / name).resolve() for name in RELOADED_DIRS]
    return any(
        path.suffix == ".py" and any(path.resolve().is_relative_to(folder) for folder in folders) for path in changed
    )


def watched_folders(config_dir: Path, root: Path = PROJECT_ROOT) -> list[Path]:
    """The folders whose changes start a new cycle: the project's sources and data, and the configuration."""
    folders = [root / name for name in WATCHED_DIRS if (root / name).exists()]
    if not config_dir.resolve().is_relative_to(root):
        folders.append(config_dir.resolve())
    return folders


def purge_project_modules(root: Path = PROJECT_ROOT) -> list[str]:
    """Forgets the project's modules so that the next import loads the edited sources."""
    names = project_modules(root)
    for name in names:
        del sys.modules[name]
    return names


@dataclass
class CycleResult:
    seconds: float
    written: list[str] = field(default_factory=list)
    report: DiffReport | None = None
    error: str | None = None
    first: bool = False  # no earlier successful synth to compare with

    def render(self) -> str:
        if self.error is not None:
            return f"error (after {self.seconds:.1f} s), still watching:\n{self.error.rstrip()}"
        assert self.report is not None
        lines = []
        if self.first:
            lines.append(f"synthesised {len(self.written)} stacks in {self.seconds:.1f} s: {', '.join(self.written)}")
            return "\n".join(lines)
        changed = [stack for stack in self.report.stacks if stack.status != "unchanged"]
        unchanged = [stack.name for stack in self.report.stacks if stack.status == "unchanged"]
        lines.append(f"re-synthesised {len(self.written)} stacks in {self.seconds:.1f} s")
        for stack in changed:
            counts = f"+{stack.count('added')} -{stack.count('removed')} ~{stack.count('changed')}"
            lines.append(f"  changed   {stack.name} ({stack.status}, {counts} resources)")
            symbols = {"added": "+", "removed": "-", "changed": "~"}
            for change in stack.resources[:20]:
                lines.append(f"      {symbols[change.kind]} {change.address}")
                # the first line of each: `path: old -> new`, or `path:` for a value shown by `make diff` as lines
                lines.extend(f"          {change_lines(attribute)[0]}" for attribute in change.changes[:6])
            if len(stack.resources) > 20:
                lines.append(f"      ... {len(stack.resources) - 20} more")
            lines.extend(f"      ~ {change_lines(attribute)[0]}" for attribute in stack.other[:10])
        if unchanged:
            lines.append(f"  unchanged {', '.join(unchanged)}")
        lines.extend(f"  !!! {alert}" for alert in self.report.alerts)
        return "\n".join(lines)


class Watcher:
    """Holds the selection and the previous synth; :meth:`cycle` is one re-synth."""

    def __init__(self, config_dir: Path, stacks: list[str] | None, envs: list[str] | None, outdir: Path) -> None:
        self.config_dir = config_dir
        self.stacks = stacks
        self.envs = envs
        self.outdir = outdir
        self.previous: dict[str, StackJson] = {}
        self.cycles = 0

    def cycle(self, changed: Collection[Path] = (), reload: bool = True) -> CycleResult:
        """Reloads the project modules if their sources changed, synthesises, compares with the last synth."""
        started = time.monotonic()
        if reload and needs_reload(changed):
            purge_project_modules()
        try:
            from iworkz.errors import UserError
        except Exception:
            return CycleResult(time.monotonic() - started, error=traceback.format_exc(limit=-3))
        try:
            from iworkz.config import load_settings
            from iworkz.registry import plan
            from iworkz.synth import synthesize

            settings = load_settings(self.config_dir, self.envs)
            planned, _ = plan(settings, self.stacks)
            written = synthesize(settings, planned, self.outdir)
        except UserError as error:
            return CycleResult(time.monotonic() - started, error=error.render())
        except Exception:
            return CycleResult(time.monotonic() - started, error=traceback.format_exc(limit=-4))
        replacements = path_replacements(self.outdir)
        current = {
            stack.name: normalise(json.loads(stack.path.read_text(encoding="utf-8")), replacements)
            for stack in written
            if stack.resources is not None
        }
        previous = {name: document for name, document in self.previous.items() if name in current}
        report = compare(previous, current)
        first = not self.previous
        self.previous = current
        self.cycles += 1
        return CycleResult(time.monotonic() - started, [stack.name for stack in written], report, first=first)


def _watch_filter(change: object, path: str) -> bool:
    name = os.path.basename(path)
    return path.endswith(WATCHED_SUFFIXES) and not name.startswith(".") and "__pycache__" not in path


def _display(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    from iworkz.cli import _split

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default=os.environ.get("STACKS"), help="components or stack names (env STACKS)")
    parser.add_argument("--envs", default=os.environ.get("ENVS"), help="environments (env ENVS)")
    parser.add_argument("--config-dir", type=Path, default=PROJECT_ROOT / "config")
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")))
    args = parser.parse_args(argv)

    from watchfiles import watch

    import iworkz  # noqa: F401  (project Node first on PATH before jsii starts)
    from iworkz.synth_workers import JOBS_VARIABLE

    os.environ[JOBS_VARIABLE] = "1"  # the providers stay loaded in this process: it synthesises alone

    watcher = Watcher(args.config_dir, _split(args.stacks), _split(args.envs), args.outdir)
    selection = f"STACKS={args.stacks or '(all)'} ENVS={args.envs or '(all)'}"
    print(f"watch: {selection}; first synth loads the providers (cold start)...", flush=True)
    result = watcher.cycle(reload=False)
    print(result.render(), flush=True)
    folders = watched_folders(args.config_dir)
    print(f"watching {', '.join(_display(folder) + '/' for folder in folders)} (Ctrl-C to stop)", flush=True)
    try:
        for changes in watch(*folders, watch_filter=_watch_filter, debounce=400):
            paths = sorted({Path(path) for _, path in changes})
            shown = ", ".join(_display(path) for path in paths[:5])
            print(f"\n[{time.strftime('%H:%M:%S')}] changed: {shown}{' ...' if len(paths) > 5 else ''}", flush=True)
            result = watcher.cycle(paths)
            print(result.render(), flush=True)
    except KeyboardInterrupt:
        print("\nwatch stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
