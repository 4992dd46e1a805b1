"""Selective provider loading: a selection loads only the providers its stacks use.

The aws provider alone costs ~10 s and ~1 GB; azurerm, kubernetes and helm add as much
again. A network-only synth (the inner loop of the network engineer) must not pay for them.
The synth runs in a fresh process, exactly as ``python main.py`` (``iworkz.cli.main``),
which then reports the provider packages present in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from iworkz.config import load_settings
from iworkz.registry import BY_COMPONENT, plan

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from iworkz.cli import main
status = main(["--stacks", sys.argv[1], "--envs", sys.argv[2], "--outdir", sys.argv[3]])
print(json.dumps({
    "status": status,
    "providers": sorted({m.split(".")[0] for m in sys.modules if m.startswith("cdktf_cdktf_provider_")}),
    "stack_modules": sorted(m for m in sys.modules if m.startswith("stacks.")),
}))
"""


def test_network_only_synth_loads_neither_azurerm_nor_kubernetes_nor_helm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("STACKS", "ENVS")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "network", "production", str(tmp_path / "cdktf.out")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == 0, result.stdout + result.stderr
    assert (tmp_path / "cdktf.out" / "stacks" / "network-production" / "cdk.tf.json").exists()
    # aws is loaded (the probe sees providers), the others are not
    assert report["providers"] == ["cdktf_cdktf_provider_aws"], report
    # only the selected stack and its dependencies were imported
    expected = {BY_COMPONENT[c].module for c in ("network", *BY_COMPONENT["network"].depends_on)}
    loaded = set(report["stack_modules"]) - {"stacks.base", "stacks.aws_providers"}
    assert loaded == expected, report["stack_modules"]


def test_the_registry_declares_only_aws_for_the_network_selection() -> None:
    planned, selected = plan(load_settings(environments=["production"]), ["network"])
    assert selected == {"network-production"}
    assert {provider for stack in planned for provider in stack.spec.providers} == {"aws"}
