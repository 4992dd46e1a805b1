"""Builds the cdktf App: each planned stack, wired to the contracts of the stacks it reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iworkz.config import Settings
from iworkz.registry import BY_COMPONENT, PlannedStack

if TYPE_CHECKING:
    from cdktf import App

    from stacks.base import IworkzStack

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HELM_VALUES_DIR = PROJECT_ROOT / "helm_values"


def cdktf_context() -> dict[str, Any]:
    """The feature flags of cdktf.json, so that `python main.py` and the CLI agree on logical IDs."""
    return dict(json.loads((PROJECT_ROOT / "cdktf.json").read_text())["context"])


def build_stack(app: App, settings: Settings, planned: PlannedStack) -> IworkzStack:
    """Builds one stack: its contracts in, its own contract published."""
    context = planned.context(settings)
    stack = planned.spec.load()(app, context)
    contracts = {}
    for producer in planned.producers(settings):
        contract = BY_COMPONENT[producer.spec.component].contract
        if contract is not None:
            contracts[producer.spec.component.replace("-", "_")] = contract.remote(stack, producer.context(settings))
    outputs = stack.build(**contracts)
    if outputs is not None:
        outputs.publish(stack, context)
    stack.outputs = outputs
    return stack


def build_app(settings: Settings, planned: list[PlannedStack], outdir: Path) -> tuple[App, dict[str, IworkzStack]]:
    from cdktf import App

    app = App(outdir=str(outdir), context=cdktf_context())
    return app, {stack.name: build_stack(app, settings, stack) for stack in planned}
