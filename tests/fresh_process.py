"""One synth in a fresh process, as ``python main.py --stacks network --envs production`` runs it.

Shared by the tests of selective provider loading (test_selection.py) and of lazy provider
import (test_lazy_providers.py): each fresh process pays the jsii start-up, so they read one
run. The probe reports what the process loaded, in Python and in jsii's node.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
PROBE = f"""
import json, os, sys
from iworkz.cli import main
status = main(["--stacks", "network", "--envs", "production", "--outdir", sys.argv[1]])
sys.path.insert(0, {str(SCRIPTS)!r})
from bench import _rss, tree_pids
print(json.dumps({{
    "status": status,
    "providers": sorted({{m.split(".")[0] for m in sys.modules if m.startswith("cdktf_cdktf_provider_")}}),
    "aws_submodules": sorted(m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.") and m.count(".") == 1),
    "stack_modules": sorted(m for m in sys.modules if m.startswith("stacks.")),
    "node_rss": [_rss(pid) for pid in tree_pids(os.getpid()) if open(f"/proc/{{pid}}/comm").read().strip() == "node"],
}}))
"""


def network_only_synth(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The early command (see conftest.py): argv of the probe."""
    return [sys.executable, "-c", PROBE, str(tmp_path_factory.mktemp("network-only") / "cdktf.out")]


def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """What the probe printed, and where it wrote the synth (``outdir``)."""
    assert result.returncode == 0, result.stderr
    printed = dict(json.loads(result.stdout.strip().splitlines()[-1]))
    assert printed["status"] == 0, result.stdout + result.stderr
    return {**printed, "outdir": Path(result.args[-1])}
