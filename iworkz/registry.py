"""Which stacks exist, which contracts they read and publish, and which providers they load.

Stack modules are imported only when a selected stack is built, so that a selection loads
only its providers (the aws provider alone costs ~10 s). A stack reads the stacks it depends
on only through their contracts (:mod:`iworkz.contracts`), from their state: building a stack
never builds its producers, so a selection writes exactly the stacks it names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from iworkz.backend import STATE_STACK
from iworkz.config import Settings
from iworkz.context import StackContext
from iworkz.contract import Contract
from iworkz.contracts import (
    AiOutputs,
    AlertsOutputs,
    ClusterOutputs,
    DataOutputs,
    DeliveryOutputs,
    DrAzureOutputs,
    DrPlatformOutputs,
    DrSyncOutputs,
    DrWorkloadsOutputs,
    EdgeOutputs,
    MonitoringOutputs,
    NetworkOutputs,
    PlatformOutputs,
    SecurityOutputs,
    StateOutputs,
    WorkloadsOutputs,
)
from iworkz.errors import UserError

if TYPE_CHECKING:  # cdktf starts jsii; the registry is read before the input is validated
    from stacks.base import IworkzStack


@dataclass(frozen=True)
class StackSpec:
    component: str
    # "<module>:<class>" of the stack; its build(<dependency>=<contract>, ...) returns `contract`.
    stack: str
    providers: tuple[str, ...]
    contract: type[Contract] | None = None
    depends_on: tuple[str, ...] = ()
    per_environment: bool = True
    enabled: Callable[[StackContext], bool] = field(default=lambda context: True)

    def stack_name(self, environment: str | None) -> str:
        return f"{self.component}-{environment}" if self.per_environment else self.component

    @property
    def module(self) -> str:
        return self.stack.partition(":")[0]

    def load(self) -> type[IworkzStack]:
        module, _, name = self.stack.partition(":")
        stack_class: type[IworkzStack] = getattr(importlib.import_module(module), name)
        return stack_class


SPECS: tuple[StackSpec, ...] = (
    # Terraform Cloud keeps the state itself: the state stack exists only for the S3 backend.
    StackSpec(
        STATE_STACK,
        "stacks.state:StateStack",
        ("aws",),
        StateOutputs,
        per_environment=False,
        enabled=lambda context: context.common.backend.type == "s3",
    ),
    # Once per account, like state; a second account is a second configuration directory (README).
    StackSpec("security", "stacks.security:SecurityStack", ("aws",), SecurityOutputs, per_environment=False),
    # The pipelines' identities (GitLab OIDC, Entra ID) and, with backend.type cloud, the Terraform
    # Cloud workspaces. Applied by an administrator after state (README: Deploying); with the cloud
    # backend the state stack does not exist and the plan role needs no state bucket.
    StackSpec(
        "delivery",
        "stacks.delivery:DeliveryStack",
        ("aws", "azuread", "tfe"),
        DeliveryOutputs,
        (STATE_STACK,),
        per_environment=False,
    ),
    # The alert topics: every stack whose resources alarm names them, so they deploy first.
    StackSpec("alerts", "stacks.alerts:AlertsStack", ("aws",), AlertsOutputs),
    StackSpec("network", "stacks.network:NetworkStack", ("aws",), NetworkOutputs, ("alerts",)),
    StackSpec("eks", "stacks.eks:EksStack", ("aws",), ClusterOutputs, ("network", "alerts")),
    StackSpec("data", "stacks.data:DataStack", ("aws",), DataOutputs, ("network", "eks", "alerts")),
    StackSpec("ai", "stacks.ai:AiStack", ("aws",), AiOutputs, ("network", "data")),
    StackSpec(
        "dr-azure",
        "stacks.dr_azure:DrAzureStack",
        ("aws", "azurerm", "azuread"),
        DrAzureOutputs,
        ("network", "delivery", "alerts"),
        enabled=lambda context: context.env.dr_azure.enabled,
    ),
    # The cluster add-ons install CRDs; the stacks holding objects of those kinds deploy after them.
    StackSpec("platform", "stacks.platform:PlatformStack", ("aws", "helm", "kubernetes"), PlatformOutputs, ("eks",)),
    StackSpec(
        "workloads",
        "stacks.workloads:WorkloadsStack",
        ("aws", "kubernetes"),
        WorkloadsOutputs,
        ("network", "eks", "data", "platform", "ai"),
    ),
    StackSpec(
        "monitoring",
        "stacks.monitoring:MonitoringStack",
        ("aws", "helm", "kubernetes"),
        MonitoringOutputs,
        ("eks", "data", "platform", "workloads", "alerts"),
    ),
    # Cloudflare in front of the ALB the workloads' Gateway gets, AWS WAF on it.
    StackSpec(
        "edge",
        "stacks.edge:EdgeStack",
        ("aws", "cloudflare"),
        EdgeOutputs,
        ("workloads", "alerts"),
        enabled=lambda context: context.env.edge.enabled,
    ),
    # The DR site's AKS add-ons (CRDs), then the standby workloads on them.
    StackSpec(
        "dr-platform",
        "stacks.dr_platform:DrPlatformStack",
        ("helm", "kubernetes", "azurerm"),
        DrPlatformOutputs,
        ("dr-azure",),
        enabled=lambda context: context.env.dr_azure.enabled,
    ),
    StackSpec(
        "dr-workloads",
        "stacks.dr_workloads:DrWorkloadsStack",
        ("kubernetes", "azurerm"),
        DrWorkloadsOutputs,
        ("dr-azure", "dr-platform", "ai"),
        enabled=lambda context: context.env.dr_azure.enabled,
    ),
    # Replication, object copy and secrets of the DR site, from the primary cluster.
    StackSpec(
        "dr-sync",
        "stacks.dr_sync:DrSyncStack",
        ("aws", "kubernetes", "azurerm"),
        DrSyncOutputs,
        ("eks", "data", "workloads", "monitoring", "dr-azure"),
        enabled=lambda context: context.env.dr_azure.enabled,
    ),
)
BY_COMPONENT = {spec.component: spec for spec in SPECS}


@dataclass(frozen=True)
class PlannedStack:
    spec: StackSpec
    environment: str | None

    @property
    def name(self) -> str:
        return self.spec.stack_name(self.environment)

    def context(self, settings: Settings) -> StackContext:
        return StackContext(settings, self.name, self.spec.component, self.environment)

    def dependencies(self) -> list[PlannedStack]:
        """The stacks this one reads (and deploys after), in the same environment."""
        return [
            PlannedStack(BY_COMPONENT[component], self.environment if BY_COMPONENT[component].per_environment else None)
            for component in self.spec.depends_on
        ]

    def producers(self, settings: Settings) -> list[PlannedStack]:
        """The dependencies that exist in this configuration (the state stack does not with
        Terraform Cloud): the stacks whose contracts this one reads."""
        return [stack for stack in self.dependencies() if stack.spec.enabled(stack.context(settings))]


def plan(settings: Settings, selection: list[str] | None) -> tuple[list[PlannedStack], set[str]]:
    """Resolves a selection (components or stack names) into the stacks to build, in dependency order.

    Returns the stacks and their names. ``None`` or an empty selection means every stack.
    """
    wanted: set[PlannedStack] = set()
    for token in selection or [spec.component for spec in SPECS]:
        wanted.update(_resolve(settings, token))
    ordered = [stack for stack in every_stack(settings) if stack in wanted]
    return ordered, {stack.name for stack in ordered}


def every_stack(settings: Settings) -> list[PlannedStack]:
    """Every enabled stack of the selected environments, in dependency order (producers first)."""
    stacks = []
    for spec in SPECS:
        environments = list(settings.environments) if spec.per_environment else [None]
        for environment in environments:
            stack = PlannedStack(spec, environment)
            if spec.enabled(stack.context(settings)):
                stacks.append(stack)
    return stacks


def _resolve(settings: Settings, token: str) -> list[PlannedStack]:
    if token in BY_COMPONENT:
        return [stack for stack in every_stack(settings) if stack.spec.component == token]
    for spec in SPECS:
        for env in settings.environments if spec.per_environment else [None]:
            stack = PlannedStack(spec, env)
            if token == stack.name:
                if not spec.enabled(stack.context(settings)):
                    raise UserError.single(
                        "STACKS",
                        "stack",
                        token,
                        f"is disabled in {stack.context(settings).config_file}",
                        "enable it in that file",
                    )
                return [stack]
    known = [s.component for s in SPECS]
    raise UserError.single(
        "STACKS",
        "stack",
        token,
        f"is neither a component ({', '.join(known)}) nor a <component>-<environment> stack name "
        f"of the selected environments ({', '.join(settings.environments)})",
        "e.g. STACKS=network or STACKS=eks-production",
    )
