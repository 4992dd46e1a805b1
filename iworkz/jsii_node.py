"""Scripts preloaded into the node that jsii starts (``NODE_OPTIONS --require``).

jsii passes its environment to node (and node to the kernel process it spawns), so a script
named here runs in the kernel before cdktf and the providers load. Set before the first cdktf
import (:mod:`iworkz` does).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# cdktf's terraform version validations run their command once per synth, not once each.
TERRAFORM_VERSION_ONCE = Path(__file__).with_name("terraform_version_once.js")


def preload(script: Path) -> None:
    """Adds ``script`` to NODE_OPTIONS once. A wheel built without the .js (pyproject lists no
    package data) keeps node as it is rather than failing to start it."""
    options = os.environ.get("NODE_OPTIONS", "")
    if script.is_file() and str(script) not in options:
        os.environ["NODE_OPTIONS"] = f"{options} --require {json.dumps(str(script), ensure_ascii=False)}".strip()
