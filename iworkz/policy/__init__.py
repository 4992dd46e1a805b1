"""Synth-time policy (cdk-nag style): rules run as cdktf Aspects over every resource.

A construct that must break a rule says so next to itself, with a reason::

    suppress(bucket, "ENCRYPTION_CMK", "S3 server access logs only support SSE-S3 targets")

Suppressions are counted and listed in the synth report.
"""

from __future__ import annotations

from constructs import IConstruct

SUPPRESSION_METADATA = "iworkz:suppress"


def suppress(scope: IConstruct, rule: str, reason: str) -> None:
    """Exempts ``scope`` and everything below it from ``rule``; the reason is mandatory."""
    if len(reason.strip()) < 10:
        raise ValueError(f"suppressing {rule} on {scope.node.path} needs a written reason")
    scope.node.add_metadata(SUPPRESSION_METADATA, {"rule": rule, "reason": reason.strip()})
