"""Builds the cdktf App: the planned stacks, wired to their dependencies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktf import App, TerraformStack

from iworkz.config import CommonConfig, EnvironmentConfig, Settings
from iworkz.registry import BY_COMPONENT, PlannedStack

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HELM_VALUES_DIR = PROJECT_ROOT / "helm_values"


@dataclass(frozen=True)
class StackContext:
    """What a stack module needs to build itself: its name and its configuration."""

    settings: Settings
    name: str
    component: str
    environment_name: str | None

    @property
    def common(self) -> CommonConfig:
        return self.settings.common

    @property
    def env(self) -> EnvironmentConfig:
        if self.environment_name is None:
            raise RuntimeError(f"stack {self.name} is not per environment")
        return self.settings.environments[self.environment_name]

    @property
    def prefix(self) -> str:
        """Name prefix of the stack's resources, e.g. ``iworkz-production`` (seed naming)."""
        return f"{self.common.project}-{self.environment_name}" if self.environment_name else self.common.project

    @property
    def config_file(self) -> str:
        name = self.environment_name or "common"
        return f"config/{name}.yaml"


def cdktf_context() -> dict[str, Any]:
    """The feature flags of cdktf.json, so that `python main.py` and the CLI agree on logical IDs."""
    return dict(json.loads((PROJECT_ROOT / "cdktf.json").read_text())["context"])


def build_app(settings: Settings, planned: list[PlannedStack], outdir: Path) -> tuple[App, dict[str, TerraformStack]]:
    app = App(outdir=str(outdir), context=cdktf_context())
    built: dict[str, TerraformStack] = {}
    for stack in planned:
        dependencies: Mapping[str, TerraformStack] = {
            component: built[PlannedStack(BY_COMPONENT[component], stack.environment).name]
            for component in stack.spec.depends_on
        }
        context = StackContext(settings, stack.name, stack.spec.component, stack.environment)
        built[stack.name] = stack.spec.load()(app, context, dependencies)
        # Declared dependencies order `cdktf deploy` even where no value crosses the stacks.
        for dependency in dependencies.values():
            built[stack.name].add_dependency(dependency)
    return app, built
