"""Publishes a synth into ``cdktf.out``: the whole tree at once, or nothing.

The synth writes a complete new tree into a staging folder beside ``cdktf.out``; publishing
completes it (the stacks a selection kept, what Terraform keeps in each stack folder, a
manifest that lists exactly the folders) and exchanges it with ``cdktf.out`` in one
``renameat2(RENAME_EXCHANGE)`` (Linux; ``renamex_np(RENAME_SWAP)`` on macOS). A reader, or
an interruption at any point, sees either the complete old tree or the complete new one.
Leftovers of interrupted synths are removed by the next one. Two synths in one checkout take
turns on a lock file; the second says whom it waits for.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from iworkz.errors import Problem, UserError

# What Terraform and the cdktf CLI keep in a stack's working directory: provider plugins and
# the backend they were initialised with, the dependency lock file, local state (e.g. the
# bootstrap of the state stack before it was moved) and saved plans. A re-synth keeps them.
TERRAFORM_FILES = (
    ".terraform",
    ".terraform.lock.hcl",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    "terraform.tfstate.d",
    "plan",
)
STAGING = "staging"
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h
_AT_FDCWD = -100


def staging_path(outdir: Path) -> Path:
    """This process's staging folder beside ``outdir`` (same file system, so the exchange is a rename)."""
    return outdir.parent / f".{outdir.name}.{STAGING}-{os.getpid()}"


def staging_folder(outdir: Path) -> Path:
    """A fresh, empty :func:`staging_path` of ``outdir``."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    folder = staging_path(outdir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def publish(
    staging: Path,
    outdir: Path,
    written: Sequence[str],
    *,
    keep_others: bool,
    dependencies: Callable[[str], Sequence[str] | None],
) -> None:
    """Makes ``staging`` (the synth of ``written``) the new ``outdir``.

    ``keep_others``: a selective synth keeps the other stacks of the current tree as they are;
    a full synth leaves exactly ``written``. ``dependencies(stack)`` names the stacks it deploys
    after (None: a stack the registry no longer knows, whose manifest entry stays as it was).
    """
    try:
        with _lock(outdir):
            remove_leftovers(outdir)
            _complete(staging, outdir, written, keep_others, dependencies)
            _exchange(staging, outdir)
            shutil.rmtree(staging, ignore_errors=True)  # the old tree, now at the staging path
    except PermissionError as error:
        raise UserError(
            [
                Problem(
                    str(outdir),
                    "(folder)",
                    error.filename or str(outdir),
                    f"must be writable: the synth replaces the whole tree ({error.strerror})",
                    f"make it writable (chmod -R u+w {outdir} {outdir.parent}) or synthesise elsewhere "
                    "(CDKTF_OUTDIR=/tmp/cdktf.out)",
                )
            ]
        ) from None


def remove_leftovers(outdir: Path) -> None:
    """The folders interrupted synths left beside ``outdir`` (all but those of synths still running)."""
    for folder in outdir.parent.glob(f".{outdir.name}.*"):
        _, _, pid = folder.name.rpartition(f"{STAGING}-")
        if folder.is_dir() and not (pid.isdigit() and _running(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)


def _complete(
    staging: Path,
    outdir: Path,
    written: Sequence[str],
    keep_others: bool,
    dependencies: Callable[[str], Sequence[str] | None],
) -> None:
    manifest = json.loads((staging / "manifest.json").read_text())
    old_stacks: Mapping[str, object] = {}
    if (outdir / "manifest.json").is_file():
        old_stacks = json.loads((outdir / "manifest.json").read_text()).get("stacks", {})
    for name in written:
        _carry_terraform_files(outdir / "stacks" / name, staging / "stacks" / name)
    if keep_others:
        for name, entry in old_stacks.items():
            source = outdir / "stacks" / name
            if name not in manifest["stacks"] and source.is_dir():
                _link_tree(source, staging / "stacks" / name)
                manifest["stacks"][name] = entry
    present = {name for name in manifest["stacks"] if (staging / "stacks" / name).is_dir()}
    manifest["stacks"] = {name: entry for name, entry in sorted(manifest["stacks"].items()) if name in present}
    for name, entry in manifest["stacks"].items():
        after = dependencies(name)
        if after is not None:
            entry["dependencies"] = [other for other in after if other in present]
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _carry_terraform_files(old_folder: Path, new_folder: Path) -> None:
    for name in TERRAFORM_FILES:
        source = old_folder / name
        if source.is_dir():
            _link_tree(source, new_folder / name)
        elif source.is_file():
            _link(source, new_folder / name)


def _link_tree(source: Path, target: Path) -> None:
    """A copy made of hard links: instant, and the old tree can go without touching the new one."""
    shutil.copytree(source, target, symlinks=True, copy_function=_link)


def _link(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(source, target)


def _exchange(staging: Path, outdir: Path) -> None:
    """``outdir`` becomes the staging tree and the staging path the old tree, in one step."""
    if not outdir.exists():
        staging.rename(outdir)
        staging.mkdir()  # what the caller removes as "the old tree"
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    old, new = os.fsencode(staging), os.fsencode(outdir)
    if sys.platform == "darwin":
        result = libc.renamex_np(old, new, _RENAME_SWAP)
    else:
        result = libc.renameat2(_AT_FDCWD, old, _AT_FDCWD, new, _RENAME_EXCHANGE)
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"could not exchange {staging} with {outdir}: {os.strerror(code)}", str(outdir))


@contextlib.contextmanager
def _lock(outdir: Path) -> Iterator[None]:
    path = outdir.parent / f".{outdir.name}.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            print(f"waiting for the synth of {holder} to finish writing {outdir} ...", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
