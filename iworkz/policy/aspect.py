"""The policy as a cdktf Aspect on every stack of the app.

cdktf (0.21) invokes aspects stack by stack, starting at each stack: an aspect added to
the App itself is never visited (``invokeAspects(stack)`` inherits nothing from above).
:func:`enforce` therefore adds one :class:`PolicyAspect` to every stack of the app, so a
stack that lands later is covered without any change here.

While cdktf synthesises, the aspect visits every construct and collects what only the
construct tree knows: suppressions (with their scope) and which azurerm resource types
accept tags. Once the stacks are synthesised (references resolved), :meth:`PolicyAspect.check`
runs the rules of :mod:`iworkz.policy.rules` over each stack's document (:mod:`iworkz.policy.check`)
and raises :class:`~iworkz.policy.report.PolicyError` listing every violation.
The visit costs one Python callback per construct and no further jsii round trip, except for
the few suppressed constructs (their path) and once per azurerm resource class.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from cdktf import App, Aspects, IAspect, TerraformResource, TerraformStack, Testing
from constructs import IConstruct

from iworkz.policy import SUPPRESSIONS_ATTRIBUTE, WAIVERS_ATTRIBUTE
from iworkz.policy.check import PolicyFacts, check, synthesized_documents
from iworkz.policy.report import PolicyReport, Suppression, Waiver

_AZURERM_MODULE = "cdktf_cdktf_provider_azurerm"


@jsii.implements(IAspect)
class PolicyAspect:
    """Collects suppressions and taggable azurerm types; :meth:`check` evaluates the rules."""

    def __init__(self) -> None:
        self.stacks: dict[str, TerraformStack] = {}
        self.suppressions: list[Suppression] = []
        self.waivers: list[Waiver] = []
        self.taggable_types: set[str] = set()
        self._classes: dict[type, str | None] = {}

    def visit(self, node: IConstruct) -> None:
        entries = getattr(node, SUPPRESSIONS_ATTRIBUTE, None)
        if entries:
            path = node.node.path
            for rule, reason, include_children in entries:
                self.suppressions.append(Suppression(path.split("/")[0], path, rule, reason, include_children))
        for control, reason in getattr(node, WAIVERS_ATTRIBUTE, None) or ():
            self.waivers.append(Waiver(node.node.path.split("/")[0], control, reason))
        if isinstance(node, TerraformResource):
            cls = type(node)
            if cls not in self._classes:
                self._classes[cls] = self._taggable_type(cls)
            taggable = self._classes[cls]
            if taggable is not None:
                self.taggable_types.add(taggable)
        elif isinstance(node, TerraformStack):
            self.stacks[node.node.id] = node

    @staticmethod
    def _taggable_type(cls: type) -> str | None:
        if not cls.__module__.startswith(_AZURERM_MODULE) or not isinstance(getattr(cls, "tags", None), property):
            return None
        return str(cls.TF_RESOURCE_TYPE)  # type: ignore[attr-defined]

    def facts(self) -> PolicyFacts:
        return PolicyFacts(tuple(self.suppressions), tuple(self.waivers), frozenset(self.taggable_types))

    def check(self, documents: dict[str, dict[str, Any]]) -> PolicyReport:
        """Evaluates the rules over the synthesised stacks; raises PolicyError on any violation."""
        return check(documents, self.facts())

    def check_synthesized(self, outdir: Path) -> PolicyReport:
        """:meth:`check` over the stacks that ``app.synth()`` wrote into ``outdir``."""
        return self.check(synthesized_documents(outdir, self.stacks, lambda name: self.stacks[name].to_terraform()))


def enforce(app: App) -> PolicyAspect:
    """Adds the policy aspect to every stack of ``app``; call ``check_synthesized`` after ``app.synth()``."""
    aspect = PolicyAspect()
    for child in app.node.children:
        if TerraformStack.is_stack(child):
            Aspects.of(child).add(aspect)
    return aspect


def check_stack(stack: TerraformStack) -> PolicyReport:
    """Synthesises one hand-built stack (tests) and checks it; raises PolicyError on violations."""
    aspect = PolicyAspect()
    Aspects.of(stack).add(aspect)
    # full_synth writes the document with the construct paths ("//" metadata); Testing.synth strips them.
    outdir = Path(Testing.full_synth(stack))
    try:
        return aspect.check_synthesized(outdir)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
