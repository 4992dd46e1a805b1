"""Selective provider loading: a selection loads only the providers its stacks use.

The aws provider alone costs ~10 s and ~1 GB; azurerm, kubernetes and helm add as much
again. A network-only synth (the inner loop of the network engineer) must not pay for them.
The synth runs in a fresh process, exactly as ``python main.py`` (``iworkz.cli.main``),
which then reports the provider packages present in ``sys.modules``. The probe passes
``--stacks``/``--envs``, which take precedence over a STACKS/ENVS selection of the session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iworkz.config import load_settings
from iworkz.registry import BY_COMPONENT, plan

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


def _network_production_synth(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    outdir = tmp_path_factory.mktemp("network-only") / "cdktf.out"
    return [sys.executable, "-c", PROBE, "network", "production", str(outdir)]


@pytest.mark.early(command=_network_production_synth)
def test_network_only_synth_loads_neither_azurerm_nor_kubernetes_nor_helm(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    assert early_result.returncode == 0, early_result.stderr
    report = json.loads(early_result.stdout.strip().splitlines()[-1])
    assert report["status"] == 0, early_result.stdout + early_result.stderr
    outdir = Path(early_result.args[-1])
    assert (outdir / "stacks" / "network-production" / "cdk.tf.json").exists()
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
