"""Snapshots of the synthesised stacks: tests/snapshots/<stack>.json, checked in and compared by the tests.

A snapshot is the stack's cdk.tf.json with the volatile parts removed so that a merge
request shows every infrastructure change and nothing else:

- every ``"//"`` block (cdktf metadata: the construct path and uniqueId of each resource,
  the stack's backend/name, the cdktf version, the cross-stack output index). The logical
  ID (the resource's key) stays: renaming it replaces the resource, so it must show.
- absolute paths of the checkout or the synth folder inside values (replaced by ``<root>``
  and ``<outdir>``), so that a synth in another directory or a CI runner gives the same file.

Keys are sorted and indented by two spaces: one attribute per line, easy to review. The
documents Terraform holds in strings (policies, Helm values, ConfigMap files, dashboards,
scripts, long ``jsonencode(...)`` expressions) are written in their readable form
(scripts/readable.py: pretty-printed JSON, or a list of lines), so that a one-word change
shows as one changed line; :func:`load_snapshot` turns a snapshot back into the exact
Terraform JSON (the tests check both directions).

Usage: ``python scripts/snapshots.py [--stacks ...] [--envs ...]`` (``make snapshots``)
synthesises the selection into a temporary folder and rewrites its snapshots; without a
selection it synthesises everything and also deletes snapshots of stacks that no longer exist.
The same from the test session's synth: ``UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_snapshots.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from readable import readable, restore

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_DIR = PROJECT_ROOT / "tests" / "snapshots"
REFRESH_COMMAND = "make snapshots   (or: UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_snapshots.py)"
METADATA_KEY = "//"

StackJson = dict[str, Any]


def normalise(document: Any, replacements: Mapping[str, str] | None = None) -> Any:
    """The document without ``"//"`` metadata blocks, with the given path prefixes replaced.

    ``replacements`` maps an absolute path (e.g. the checkout) to a placeholder; longer
    paths are replaced first so that a synth folder inside the checkout keeps its own name.
    """
    ordered = sorted((replacements or {}).items(), key=lambda item: len(item[0]), reverse=True)
    return _normalise(document, [(old, new) for old, new in ordered if old])


def _normalise(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, dict):
        return {key: _normalise(item, replacements) for key, item in value.items() if key != METADATA_KEY}
    if isinstance(value, list):
        return [_normalise(item, replacements) for item in value]
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    return value


def path_replacements(outdir: Path | None = None, root: Path = PROJECT_ROOT) -> dict[str, str]:
    replacements = {str(root.resolve()): "<root>"}
    if outdir is not None:
        replacements[str(outdir.resolve())] = "<outdir>"
    return replacements


def render(document: StackJson) -> str:
    """The snapshot file's text: the readable form (sorted keys), two-space indent, non-ASCII kept, final newline."""
    return json.dumps(readable(document), indent=2, ensure_ascii=False) + "\n"


def load_snapshot(text: str) -> StackJson:
    """The normalised Terraform JSON a snapshot's text holds (the inverse of :func:`render`)."""
    document: StackJson = restore(json.loads(text))
    return document


def snapshot_path(stack: str, directory: Path = SNAPSHOT_DIR) -> Path:
    return directory / f"{stack}.json"


def existing_snapshots(directory: Path = SNAPSHOT_DIR) -> set[str]:
    return {path.stem for path in directory.glob("*.json")} if directory.exists() else set()


def write_snapshots(
    stacks: Mapping[str, StackJson],
    outdir: Path | None = None,
    directory: Path = SNAPSHOT_DIR,
    prune: bool = False,
) -> tuple[list[str], list[str]]:
    """Writes one snapshot per stack; with ``prune`` deletes snapshots of other stacks.

    Returns (the stacks whose snapshot changed or is new, the snapshots deleted).
    """
    directory.mkdir(parents=True, exist_ok=True)
    replacements = path_replacements(outdir)
    changed = []
    for name, document in sorted(stacks.items()):
        path = snapshot_path(name, directory)
        text = render(normalise(document, replacements))
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    deleted = []
    if prune:
        for name in sorted(existing_snapshots(directory) - set(stacks)):
            snapshot_path(name, directory).unlink()
            deleted.append(name)
    return changed, deleted


def synthesize_to_json(stacks: Iterable[str] | None, envs: Iterable[str] | None, outdir: Path) -> dict[str, StackJson]:
    """Synthesises a selection (None: everything) into ``outdir``; returns the parsed stacks by name."""
    import iworkz  # noqa: F401  (the project's Node first on PATH)
    from iworkz.config import load_settings
    from iworkz.registry import plan
    from iworkz.synth import synthesize

    # Always the whole app: a stack's cross-stack outputs depend on which consumers are
    # synthesised with it, so a partial synth would write wrong snapshots. Keep the selection.
    selection = load_settings(environments=list(envs) if envs else None)
    _, selected = plan(selection, list(stacks) if stacks else None)
    settings = load_settings()
    planned, _ = plan(settings, None)
    written = synthesize(settings, planned, outdir)
    return {
        stack.name: json.loads(stack.path.read_text(encoding="utf-8")) for stack in written if stack.name in selected
    }


def main(argv: list[str] | None = None) -> int:
    from iworkz.cli import _split
    from iworkz.errors import EXIT_USER_ERROR, UserError

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default=None, help="components or stack names (default: env STACKS, else all)")
    parser.add_argument("--envs", default=None, help="environments (default: env ENVS, else all)")
    args = parser.parse_args(argv)
    stacks = _split(args.stacks if args.stacks is not None else os.environ.get("STACKS"))
    envs = _split(args.envs if args.envs is not None else os.environ.get("ENVS"))
    with tempfile.TemporaryDirectory(prefix="iworkz-snapshots-") as temporary:
        outdir = Path(temporary) / "cdktf.out"
        try:
            synthesized = synthesize_to_json(stacks, envs, outdir)
        except UserError as error:
            print(f"error: {error.render()}", file=sys.stderr)
            return EXIT_USER_ERROR
        changed, deleted = write_snapshots(synthesized, outdir, prune=not stacks and not envs)
    for name in sorted(synthesized):
        state = "updated" if name in changed else "unchanged"
        print(f"  {state:<9} {_relative(snapshot_path(name))}")
    for name in deleted:
        print(f"  deleted   {_relative(snapshot_path(name))}")
    print(f"{len(synthesized)} snapshots, {len(changed)} updated, {len(deleted)} deleted")
    return 0


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
