"""Which stacks exist, what they depend on and which providers they load.

Stack modules are imported only when a selected stack needs them, so that a selection
loads only its providers (the aws provider alone costs ~10 s; README: performance).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from iworkz.config import EnvironmentConfig, Settings
from iworkz.errors import UserError

if TYPE_CHECKING:  # cdktf starts jsii; the registry is read before the input is validated
    from cdktf import TerraformStack

STATE_STACK = "state"


@dataclass(frozen=True)
class StackSpec:
    component: str
    module: str
    providers: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    per_environment: bool = True
    enabled: Callable[[EnvironmentConfig], bool] = field(default=lambda env: True)

    def stack_name(self, environment: str | None) -> str:
        return f"{self.component}-{environment}" if self.per_environment else self.component

    def load(self) -> Callable[..., TerraformStack]:
        """The module's ``build(scope, context, dependencies)`` function."""
        build: Callable[..., TerraformStack] = importlib.import_module(self.module).build
        return build


SPECS: tuple[StackSpec, ...] = (
    StackSpec(STATE_STACK, "stacks.state", ("aws",), per_environment=False),
    StackSpec("network", "stacks.network", ("aws",)),
    StackSpec("eks", "stacks.eks", ("aws",), ("network",)),
    StackSpec("data", "stacks.data", ("aws",), ("network", "eks")),
    StackSpec(
        "dr-azure",
        "stacks.dr_azure",
        ("aws", "azurerm"),
        ("network",),
        enabled=lambda env: env.dr_azure.enabled,
    ),
    # monitoring's ExternalSecrets need the CRDs that platform installs: platform deploys first.
    StackSpec("monitoring", "stacks.monitoring", ("aws", "helm", "kubernetes"), ("eks", "data", "platform")),
    StackSpec("platform", "stacks.platform", ("aws", "helm", "kubernetes"), ("eks", "data")),
)
BY_COMPONENT = {spec.component: spec for spec in SPECS}


@dataclass(frozen=True)
class PlannedStack:
    spec: StackSpec
    environment: str | None

    @property
    def name(self) -> str:
        return self.spec.stack_name(self.environment)


def plan(settings: Settings, selection: list[str] | None) -> tuple[list[PlannedStack], set[str]]:
    """Resolves a selection (components or stack names) into stacks to build, in dependency order.

    Returns the stacks to build (selected ones plus their dependencies) and the names of
    the selected ones. ``None`` or an empty selection means every stack.
    """
    wanted: list[PlannedStack] = []
    for token in selection or [spec.component for spec in SPECS]:
        wanted.extend(_resolve(settings, token))
    ordered: list[PlannedStack] = []
    for stack in wanted:
        _add_with_dependencies(settings, stack, ordered)
    return ordered, {stack.name for stack in wanted}


def _resolve(settings: Settings, token: str) -> list[PlannedStack]:
    if token in BY_COMPONENT:
        spec = BY_COMPONENT[token]
        if not spec.per_environment:
            return [PlannedStack(spec, None)]
        return [PlannedStack(spec, env) for env, cfg in settings.environments.items() if spec.enabled(cfg)]
    for spec in SPECS:
        for env, cfg in settings.environments.items():
            if spec.per_environment and token == spec.stack_name(env):
                if not spec.enabled(cfg):
                    raise UserError.single(
                        "STACKS",
                        "stack",
                        token,
                        f"is disabled in config/{env}.yaml",
                        "enable it in that file",
                    )
                return [PlannedStack(spec, env)]
    known = [s.component for s in SPECS]
    raise UserError.single(
        "STACKS",
        "stack",
        token,
        f"is neither a component ({', '.join(known)}) nor a <component>-<environment> stack name "
        f"of the selected environments ({', '.join(settings.environments)})",
        "e.g. STACKS=network or STACKS=eks-production",
    )


def _add_with_dependencies(settings: Settings, stack: PlannedStack, ordered: list[PlannedStack]) -> None:
    if stack in ordered:
        return
    for dependency in stack.spec.depends_on:
        _add_with_dependencies(settings, PlannedStack(BY_COMPONENT[dependency], stack.environment), ordered)
    ordered.append(stack)
