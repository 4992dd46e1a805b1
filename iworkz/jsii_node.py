"""The node that jsii starts: the kernel runs in it directly, with scripts preloaded.

jsii passes its environment to node, so a script named here (``NODE_OPTIONS --require``) runs in
the kernel before cdktf and the providers load. Set before the first cdktf import (:mod:`iworkz`
does).
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

# cdktf's terraform version validations run their command once per synth, not once each.
TERRAFORM_VERSION_ONCE = Path(__file__).with_name("terraform_version_once.js")
# cdktf's tokens record no JavaScript creation stack (~0.2 s of node CPU per environment).
NO_TOKEN_CREATION_STACKS = Path(__file__).with_name("no_token_creation_stacks.js")


# The kernel in the node jsii starts, without jsii's relaying launcher (see jsii_kernel.js).
KERNEL_ENTRY = Path(__file__).with_name("jsii_kernel.js")
KERNEL_NODE = Path(__file__).with_name("jsii_kernel_node.sh")
# jsii's embedded kernel files (jsii/_embedded/jsii) that the kernel needs beside each other
KERNEL_FILES = {"lib__program.js": "lib/program.js", "lib__runtime-index-worker.js": "lib/runtime-index-worker.js"}


def run_kernel_directly() -> None:
    """Points jsii (``JSII_RUNTIME``, ``JSII_NODE``) at the kernel of its own package, laid out in
    a folder of this process's (removed at exit), started by :data:`KERNEL_NODE`. Leaves jsii as it
    is where a shell script cannot start node (not POSIX), the scripts are missing (a wheel built
    without them) or the caller chose a runtime."""
    if os.name != "posix" or "JSII_RUNTIME" in os.environ or "JSII_NODE" in os.environ:
        return
    # found, not imported: a process that imported jsii synthesises alone (iworkz/synth_workers.py)
    spec = importlib.util.find_spec("jsii")
    if spec is None or spec.origin is None or not (KERNEL_ENTRY.is_file() and os.access(KERNEL_NODE, os.X_OK)):
        return
    embedded = Path(spec.origin).parent / "_embedded" / "jsii"
    folder = Path(tempfile.mkdtemp(prefix="iworkz-jsii-kernel-"))
    atexit.register(shutil.rmtree, folder, True)
    for resource, name in KERNEL_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(embedded / resource, folder / name)
    (folder / "bin").mkdir()
    shutil.copyfile(KERNEL_ENTRY, folder / "bin" / KERNEL_ENTRY.name)
    os.environ["JSII_RUNTIME"] = str(folder / "bin" / KERNEL_ENTRY.name)
    os.environ["JSII_NODE"] = str(KERNEL_NODE)


def preload(script: Path) -> None:
    """Adds ``script`` to NODE_OPTIONS once. A wheel built without the .js (pyproject lists no
    package data) keeps node as it is rather than failing to start it."""
    options = os.environ.get("NODE_OPTIONS", "")
    if script.is_file() and str(script) not in options:
        os.environ["NODE_OPTIONS"] = f"{options} --require {json.dumps(str(script), ensure_ascii=False)}".strip()
