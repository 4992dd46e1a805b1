"""Byte-compiles what a synth imports from the virtualenv, and nothing more (``make install``).

Why: uv installs without byte-compiling (the aws provider alone has 2,212 modules; a synth
imports ~250 of them), so Python compiles a module on its first import and caches it in
``__pycache__``. With ``PYTHONDONTWRITEBYTECODE`` set (as on this machine and on many CI
runners) nothing is cached, and every synth compiled the same ~400 modules again (some
provider modules are 3.4 MB of source): ~10 s of CPU in a full synth, paid again by every
process of a parallel synth.

What: every module of the distributions the app requires (its dependencies, transitively),
except the prebuilt provider packages; of those, only their ``_jsii`` package (the assembly
load) and the resource modules the project imports (``from cdktf_cdktf_provider_aws.vpc
import Vpc``, read from the sources of iworkz/, stacks/, constructs/, scripts/ and tests/;
iworkz/lazy_providers.py keeps every other module unimported). A module already compiled
is skipped, so a run after a source change costs well under a second. The project's own
modules (iworkz/, stacks/, constructs/) are compiled too (~0.4 s per process otherwise).

For which interpreter: ``--optimize 1`` writes the ``.opt-1.pyc`` files that the synth reads (it
runs as ``python -O``: see the Makefile's synth); ``--optimize 0`` the plain ones that the test
suite reads (it runs without -O, so that jsii's runtime type checks run over every stack).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
APP_DISTRIBUTION = "iworkz-infrastructure"
SOURCE_FOLDERS = ("iworkz", "stacks", "constructs", "scripts", "tests")
PROJECT_MODULES = ("iworkz", "stacks", "constructs")
PROVIDER_PREFIX = "cdktf_cdktf_provider_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
# `from cdktf_cdktf_provider_aws.vpc import Vpc` / `import cdktf_cdktf_provider_aws.vpc` (a regular
# expression: parsing every source with ast took seconds)
_PROVIDER_IMPORT = re.compile(rf"^[ \t]*(?:from|import)[ \t]+({PROVIDER_PREFIX}[a-z0-9_]+\.[a-z0-9_]+)\b", re.MULTILINE)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions(root: str = APP_DISTRIBUTION) -> list[metadata.Distribution]:
    """``root`` and what it requires at run time (no extras), transitively."""
    seen: dict[str, metadata.Distribution] = {}
    pending = [root]
    while pending:
        name = _canonical(pending.pop())
        if name in seen:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python
        seen[name] = distribution
        for requirement in distribution.requires or []:
            match = _NAME.match(requirement)
            if match and "extra ==" not in requirement:
                pending.append(match.group(0))
    return [distribution for name, distribution in sorted(seen.items()) if name != _canonical(root)]


def imported_provider_modules(folders: list[Path]) -> set[str]:
    """The ``cdktf_cdktf_provider_<name>.<module>`` modules the sources below ``folders`` import."""
    return {
        match.group(1)
        for folder in folders
        for source in sorted(folder.rglob("*.py"))
        for match in _PROVIDER_IMPORT.finditer(source.read_text(encoding="utf-8"))
    }


def _provider_sources(distribution: metadata.Distribution, wanted: set[str]) -> Iterator[Path]:
    """The ``_jsii`` package and the ``wanted`` resource modules (with their ``_private`` parts)."""
    for file in distribution.files or []:
        parts = file.parts
        if file.suffix != ".py" or len(parts) < 3 or not parts[0].startswith(PROVIDER_PREFIX):
            continue
        if parts[1] == "_jsii" or f"{parts[0]}.{parts[1]}" in wanted:
            yield Path(str(distribution.locate_file(file)))


def sources_to_compile() -> list[Path]:
    wanted = imported_provider_modules([PROJECT_ROOT / folder for folder in SOURCE_FOLDERS])
    sources: list[Path] = []
    for distribution in runtime_distributions():
        if _canonical(distribution.metadata["Name"]).startswith(_canonical(PROVIDER_PREFIX)):
            sources.extend(_provider_sources(distribution, wanted))
        else:
            files = distribution.files or []
            sources.extend(Path(str(distribution.locate_file(file))) for file in files if file.suffix == ".py")
    sources.extend(source for folder in PROJECT_MODULES for source in (PROJECT_ROOT / folder).rglob("*.py"))
    return sorted(source for source in sources if source.is_file())


def _compile(source: Path, optimize: int) -> bool:
    return bool(compileall.compile_file(source, quiet=2, optimize=optimize))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimize", type=int, choices=(0, 1), required=True, help="0: plain .pyc; 1: for python -O")
    optimize = parser.parse_args(argv).optimize
    sources = sources_to_compile()
    # compile_file skips a module whose cache is current; the rest compiles on every core.
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        compiled = all(pool.map(partial(_compile, optimize=optimize), sources, chunksize=16))
    print(f"byte-compiled what a synth imports ({'python -O' if optimize else 'python'}): {len(sources)} modules")
    return 0 if compiled else 1


if __name__ == "__main__":
    sys.exit(main())
