"""PREVENT_DESTROY: stateful resources have lifecycle.prevent_destroy = true."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import STATEFUL_TYPES, Finding, Rule, StackDocument, finding, first, is_true

ID = "PREVENT_DESTROY"
DESCRIPTION = "stateful resources have lifecycle.prevent_destroy = true"
FIX = "pass lifecycle=TerraformResourceLifecycle(prevent_destroy=True)"


def check(stack: StackDocument) -> Iterator[Finding]:
    for resource_type in STATEFUL_TYPES:
        for r in stack.of(resource_type):
            if not is_true(first(r.get("lifecycle")).get("prevent_destroy")):
                yield finding(
                    stack,
                    r,
                    ID,
                    "lifecycle.prevent_destroy",
                    first(r.get("lifecycle")).get("prevent_destroy"),
                    f"{DESCRIPTION} ({resource_type} holds data)",
                    FIX,
                )


RULE = Rule(ID, DESCRIPTION, FIX, check)
