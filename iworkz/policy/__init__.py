"""Synth-time policy (cdk-nag style): rules run over the synthesised document of every stack.

A construct that must break a rule says so next to the resource, with a reason::

    suppress(bucket, ENCRYPTION_CMK, "S3 server access logs only support SSE-S3 targets")

A suppression covers the construct it names; ``include_children=True`` extends it to every
construct below, for a reason that holds for all of them. Suppressions are counted and listed
in the synth report (``cdktf.out/policy-report.json``).

A security control that the configuration turns off (with its reason, :mod:`iworkz.config.controls`)
is recorded by the stack that would hold it with :func:`waive`; the report lists the waivers too.
Both are recorded on their stack when they are made (:mod:`iworkz.policy.tree`): the check needs
no walk over the construct tree. The rules are in :mod:`iworkz.policy.rules`, one module each,
with their ids as constants (``ENCRYPTION_CMK``, ...); :mod:`iworkz.policy.check` runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iworkz.errors import Problem, UserError
from iworkz.policy.report import Suppression, Waiver
from iworkz.policy.rules import RULES

if TYPE_CHECKING:  # the secret scan (make lint) runs without starting jsii's node
    from constructs import IConstruct

SUPPRESSION_METADATA = "iworkz:suppress"
MIN_REASON_LENGTH = 10


class SuppressionError(UserError, ValueError):
    """A suppression without a written reason, or of a rule that does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("iworkz.policy.suppress()", "suppression", message, "see iworkz/policy/rules/")])


def suppress(scope: IConstruct, rule: str, reason: str, *, include_children: bool = False) -> None:
    """Exempts ``scope`` (and, with ``include_children``, everything below it) from ``rule``.

    The reason is mandatory; ``rule`` is one of the ids of :mod:`iworkz.policy.rules`.
    """
    if rule not in RULES:
        raise SuppressionError(f"{scope.node.path}: unknown policy rule {rule!r} (rules: {', '.join(RULES)})")
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise SuppressionError(
            f"suppressing {rule} on {scope.node.path} needs a written reason (at least {MIN_REASON_LENGTH} characters)"
        )
    from iworkz.policy.tree import record

    node = scope.node
    node.add_metadata(
        SUPPRESSION_METADATA, {"rule": rule, "reason": reason.strip(), "include_children": include_children}
    )
    path = node.path
    record(scope, Suppression(path.split("/")[0], path, rule, reason.strip(), include_children))


def waive(scope: IConstruct, control: str, reason: str) -> None:
    """Records that ``scope`` (a stack) leaves ``control`` off for ``reason`` (the synth report lists it).

    The configuration has already required the reason; this only makes it visible next to the
    suppressions, e.g. ``waive(stack, "guardduty_features.LAMBDA_NETWORK_LOGS", "<reason>")``.
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise SuppressionError(f"waiving {control} on {scope.node.path} needs a written reason")
    from iworkz.policy.tree import record

    record(scope, Waiver(scope.node.path.split("/")[0], control, reason.strip()))
