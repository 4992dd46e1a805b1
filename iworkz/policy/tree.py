"""What the policy needs from the construct tree, recorded as it is built rather than walked.

A cdktf Aspect would visit every construct of every stack: one Python callback, a jsii round trip,
per construct (~1,100 per environment, about half a second). The tree holds three facts the
synthesised documents do not: suppressions with their scope and waivers, which :func:`record`
keeps on their stack when :func:`iworkz.policy.suppress` / :func:`iworkz.policy.waive` make them,
and which azurerm resource types accept tags, read from the resource classes the process loaded.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from cdktf import TerraformResource, TerraformStack, Testing
from constructs import IConstruct

from iworkz.policy.check import PolicyFacts, check, synthesized_documents
from iworkz.policy.report import PolicyReport, Suppression, Waiver

_RECORDS = "_iworkz_policy_records"
_AZURERM_MODULE = "cdktf_cdktf_provider_azurerm."


def record(scope: IConstruct, entry: Suppression | Waiver) -> None:
    """Keeps ``entry`` on the stack that holds ``scope`` (in the order they are made)."""
    stack = TerraformStack.of(scope)
    entries = getattr(stack, _RECORDS, None)
    if entries is None:
        entries = []
        setattr(stack, _RECORDS, entries)
    entries.append(entry)


def facts(stacks: Iterable[TerraformStack]) -> PolicyFacts:
    """The suppressions and waivers of ``stacks`` (in their order) and the taggable azurerm types."""
    entries = [entry for stack in stacks for entry in getattr(stack, _RECORDS, ())]
    return PolicyFacts(
        tuple(e for e in entries if isinstance(e, Suppression)),
        tuple(e for e in entries if isinstance(e, Waiver)),
        taggable_azurerm_types(),
    )


def taggable_azurerm_types() -> frozenset[str]:
    """The azurerm resource types (of the classes loaded in this process) that take ``tags``.

    Every resource a stack of this process holds was built from a loaded class, so the types the
    documents contain are all here; the rule looks only at types a document contains.
    """
    classes = {
        cls
        for name, module in list(sys.modules.items())
        if name.startswith(_AZURERM_MODULE) and module is not None
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, TerraformResource)
        and isinstance(getattr(cls, "tags", None), property)
    }
    return frozenset(_resource_type(cls) for cls in classes)


@cache
def _resource_type(cls: type[TerraformResource]) -> str:
    # a jsii static read: once per class
    return str(cls.TF_RESOURCE_TYPE)  # type: ignore[attr-defined]


def check_stack(stack: TerraformStack) -> PolicyReport:
    """Synthesises one hand-built stack (tests) and checks it; raises PolicyError on violations."""
    # full_synth writes the document with the construct paths ("//" metadata); Testing.synth strips them.
    outdir = Path(Testing.full_synth(stack))
    try:
        name = stack.node.id
        documents = synthesized_documents(outdir, [name], lambda _: stack.to_terraform())
        return check(documents, facts([stack]))
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
