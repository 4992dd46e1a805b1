"""Selective provider loading: a selection loads only the providers its stacks use.

The aws provider alone costs ~10 s and ~1 GB; azurerm, kubernetes and helm add as much
again. A network-only synth (the inner loop of the network engineer) must not pay for them.
The synth runs in a fresh process, exactly as ``python main.py`` (``iworkz.cli.main``),
which then reports the provider packages present in ``sys.modules``. The probe passes
``--stacks``/``--envs``, which take precedence over a STACKS/ENVS selection of the session.
"""

from __future__ import annotations

import subprocess

import pytest

from iworkz.config import load_settings
from iworkz.registry import BY_COMPONENT, plan
from tests.early import network_only_report, network_only_synth


@pytest.mark.early(command=network_only_synth)
def test_network_only_synth_loads_neither_azurerm_nor_kubernetes_nor_helm(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    probe = network_only_report(early_result)
    assert (probe["outdir"] / "stacks" / "network-production" / "cdk.tf.json").exists()
    # aws is loaded (the probe sees providers), the others are not
    assert probe["providers"] == ["cdktf_cdktf_provider_aws"], probe
    # only the selected stack was imported: it reads its producers' contracts (the alerts
    # stack's) from their state, so their modules stay unloaded
    loaded = set(probe["stack_modules"]) - {"stacks.base", "stacks.aws_providers"}
    assert loaded == {BY_COMPONENT["network"].module}, probe["stack_modules"]


def test_the_registry_declares_only_aws_for_the_network_selection() -> None:
    planned, selected = plan(load_settings(environments=["production"]), ["network"])
    assert selected == {"network-production"}
    assert {provider for stack in planned for provider in stack.spec.providers} == {"aws"}
