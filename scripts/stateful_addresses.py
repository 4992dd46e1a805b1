"""Checks or regenerates tests/stateful_addresses.json (Terraform addresses of stateful resources).

    python scripts/stateful_addresses.py            # compare with a fresh synth of every stack
    python scripts/stateful_addresses.py --update   # rewrite the list from a fresh synth
    python scripts/stateful_addresses.py --from-outdir cdktf.out [--update]   # use existing output

Exit status: 0 when the list matches, 1 when it differs (without --update), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iworkz.errors import UserError  # noqa: E402  (needs the project root on sys.path)
from iworkz.policy.addresses import (  # noqa: E402
    ADDRESSES_FILE,
    KEEP_ADDRESS_HELP,
    NEW_ADDRESS_HELP,
    disappeared,
    load,
    merge,
    save,
    unlisted,
)


def synthesised_documents(outdir: Path | None) -> dict[str, dict[str, Any]]:
    if outdir is not None:
        files = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
        if not files:
            raise SystemExit(f"error: no stacks in {outdir}/stacks (run make synth)")
        return {f.parent.name: json.loads(f.read_text()) for f in files}
    import iworkz  # noqa: F401  (puts the project's Node first on PATH)
    from iworkz.config import load_settings
    from iworkz.registry import plan
    from iworkz.synth import synthesize

    settings = load_settings()
    planned, _ = plan(settings, None)
    with tempfile.TemporaryDirectory() as scratch:
        written = synthesize(settings, planned, Path(scratch) / "cdktf.out")
        return {stack.name: json.loads(stack.path.read_text()) for stack in written}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite the list")
    parser.add_argument("--from-outdir", type=Path, help="read cdktf.out instead of synthesising")
    parser.add_argument("--file", type=Path, default=ADDRESSES_FILE, help="the list (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        documents = synthesised_documents(args.from_outdir)
    except UserError as error:  # bad configuration or a policy violation: the synth wrote nothing
        print(f"error: {error.render()}", file=sys.stderr)
        return 2
    expected = load(args.file)
    if args.update:
        merged = merge(expected, documents)
        save(merged, args.file)
        total = sum(len(v) for v in merged.values())
        print(f"wrote {args.file}: {total} addresses in {len(merged)} stacks")
        return 0
    gone, new = disappeared(expected, documents), unlisted(expected, documents)
    for line in gone:
        print(line)
    if gone:
        print(KEEP_ADDRESS_HELP)
    for line in new:
        print(line)
    if new:
        print(NEW_ADDRESS_HELP)
    if not gone and not new:
        print("stateful addresses match tests/stateful_addresses.json")
    return 1 if gone or new else 0


if __name__ == "__main__":
    sys.exit(main())
