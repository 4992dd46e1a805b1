"""Command line of the synth: `python main.py [--stacks ...] [--envs ...]` (also run by the cdktf CLI).

Exit status: 0 on success, 2 on bad input (configuration, selection, policy), with one
message naming the file, field, value and rule, and no traceback; 130 when interrupted
(Ctrl-C or SIGTERM), with one line: ``cdktf.out`` then holds the complete old tree.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from iworkz.config import DEFAULT_CONFIG_DIR, load_settings
from iworkz.errors import EXIT_USER_ERROR, UserError

EXIT_INTERRUPTED = 130
# The synth holds a large heap that lives to its end (provider modules, jsii's object references)
# while making short-lived objects: the default threshold (700) ran ~140 collections per
# environment, most walking that heap. 100,000 runs a handful (profiled: ~0.1 s per environment).
GC_THRESHOLD = (100_000, 50, 100)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the synth stops, whatever it was waiting for (jsii's node gets it too)."""


_signals: list[int] = []


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _signals.append(signum)
    raise Interrupted(signal.Signals(signum).name)


def _split(value: str | None) -> list[str] | None:
    items = [item.strip() for item in (value or "").replace(" ", ",").split(",") if item.strip()]
    return items or None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stacks", default=os.environ.get("STACKS"), help="components or stack names (env STACKS)")
    parser.add_argument("--envs", default=os.environ.get("ENVS"), help="environments (env ENVS)")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=Path(os.environ.get("IWORKZ_CONFIG_DIR", DEFAULT_CONFIG_DIR)),
    )
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    gc.set_threshold(*GC_THRESHOLD)
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        from iworkz.registry import plan
        from iworkz.synth import synthesize

        settings = load_settings(args.config_dir, _split(args.envs))
        for warning in settings.warnings:
            print(warning, file=sys.stderr)
        planned, _selected = plan(settings, _split(args.stacks))
        written = synthesize(settings, planned, args.outdir)
    except UserError as error:
        print(f"error: {error.render()}", file=sys.stderr)
        print(f"nothing was written to {args.outdir}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (Interrupted, KeyboardInterrupt):
        return _interrupted(args.outdir)
    except Exception:
        if _signals:
            # The signal reached jsii's node first and the kernel call failed: still an interruption.
            return _interrupted(args.outdir)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for stack in written:
        count = f"{stack.resources:4d} resources" if stack.resources is not None else "     (hcl)    "
        print(f"  wrote {stack.name:<24} {count}  {_relative(stack.path)}")
    print(f"synthesised {len(written)} stacks in {time.monotonic() - started:.1f} s")
    return 0


def _interrupted(outdir: Path) -> int:
    print(f"interrupted: {outdir} is as it was before this synth", file=sys.stderr, flush=True)
    # jsii forwards its node's stderr from a thread; what node says about the channel closing
    # under it (ECONNRESET) after this line is no news to the user.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (open until the process exits)
    return EXIT_INTERRUPTED


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
