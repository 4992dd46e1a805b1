"""Security controls that are on by default and go off only with a written reason.

A section lists what is on (GuardDuty features, Security Hub standards, Defender plans, ...);
its default is every control the platform design asks for. Leaving a default out is allowed
only with an entry ``disabled: {"<field>.<item>": "<reason>"}`` in the same section: the stack
then records the reason as a waiver (:func:`iworkz.policy.waive`), which the synth report lists
next to the policy suppressions. Unknown items, duplicates, a default left out without a reason
and a reason for something that is still on are refused here, at the configuration edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iworkz.config.base import rule_error

# A waiver needs as much of a reason as a policy suppression (iworkz.policy.MIN_REASON_LENGTH).
MIN_REASON_LENGTH = 10


@dataclass(frozen=True)
class ControlList:
    """One configurable list of controls: its field, the known items and the secure default."""

    field: str
    kind: str  # what an item is, for messages: "GuardDuty feature"
    known: Sequence[str]
    defaults: Sequence[str]


def check_controls(
    lists: Sequence[ControlList], chosen: Mapping[str, Sequence[str]], disabled: Mapping[str, str]
) -> None:
    """Raises the configuration error of the first broken rule (see the module docstring)."""
    off: set[str] = set()
    for control in lists:
        items = list(chosen[control.field])
        for index, item in enumerate(items):
            if item not in control.known:
                raise rule_error(
                    f"unknown {control.kind} (known: {', '.join(control.known)})",
                    "use one of the known names (they are case-sensitive)",
                    field=f"{control.field}[{index}]",
                    value=item,
                )
            if items.index(item) != index:
                raise rule_error(
                    f"{control.kind} listed twice", "remove the duplicate", field=control.field, value=item
                )
        for item in control.defaults:
            if item in items:
                continue
            key = f"{control.field}.{item}"
            off.add(key)
            if key not in disabled:
                raise rule_error(
                    f"turning off the {control.kind} {item} needs a written reason",
                    f'list it again, or add disabled: {{"{key}": "<why it is off>"}} (the synth report lists it)',
                    field=control.field,
                    value=items,
                )
    for key, reason in disabled.items():
        if key not in off:
            raise rule_error(
                "names no control that is off (entries are <field>.<item> for a default item left out of its list)",
                f"remove it, or leave the item out of its list{': ' + ', '.join(sorted(off)) if off else ''}",
                field=f"disabled.{key}",
                value=reason,
            )
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
            raise rule_error(
                f"a control goes off only with a written reason (at least {MIN_REASON_LENGTH} characters)",
                "say why the control is not needed here",
                field=f"disabled.{key}",
                value=reason,
            )
