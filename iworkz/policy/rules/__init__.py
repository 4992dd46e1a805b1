"""The guardrail rules, one module per rule (cdk-nag's layout), and their registry.

Each module holds one rule: its ``ID`` (the constant callers pass to
``iworkz.policy.suppress()``), ``DESCRIPTION``, ``FIX`` and ``check`` (a function of the
synthesised stack document that yields a finding per resource breaking the rule), bundled as
``RULE``. :data:`REGISTRY` lists every rule; :func:`evaluate` runs them over one stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iworkz.policy.rules import (
    access_logging,
    audit_trail,
    azure_delete_lock,
    backup_coverage,
    backup_vault_lock,
    bucket_replication,
    deletion_protection,
    eks_public_endpoint,
    encryption_cmk,
    imdsv2,
    mandatory_tags,
    network_policy_enforced,
    open_ingress,
    prevent_destroy,
    public_bucket,
    public_database,
    public_ip,
    tls_only,
)
from iworkz.policy.rules.base import STATEFUL_TYPES, Finding, Resource, Rule, StackDocument, StackJson, TreeRule

ENCRYPTION_CMK = encryption_cmk.ID
PUBLIC_IP = public_ip.ID
OPEN_INGRESS = open_ingress.ID
PUBLIC_BUCKET = public_bucket.ID
PUBLIC_DATABASE = public_database.ID
EKS_PUBLIC_ENDPOINT = eks_public_endpoint.ID
DELETION_PROTECTION = deletion_protection.ID
PREVENT_DESTROY = prevent_destroy.ID
MANDATORY_TAGS = mandatory_tags.ID
IMDSV2 = imdsv2.ID
TLS_ONLY = tls_only.ID
ACCESS_LOGGING = access_logging.ID
BACKUP_COVERAGE = backup_coverage.ID
BACKUP_VAULT_LOCK = backup_vault_lock.ID
BUCKET_REPLICATION = bucket_replication.ID
AZURE_DELETE_LOCK = azure_delete_lock.ID
AUDIT_TRAIL = audit_trail.ID
NETWORK_POLICY_ENFORCED = network_policy_enforced.ID

REGISTRY: tuple[Rule, ...] = (
    encryption_cmk.RULE,
    public_ip.RULE,
    open_ingress.RULE,
    public_bucket.RULE,
    public_database.RULE,
    eks_public_endpoint.RULE,
    deletion_protection.RULE,
    prevent_destroy.RULE,
    mandatory_tags.RULE,
    imdsv2.RULE,
    tls_only.RULE,
    access_logging.RULE,
    backup_coverage.RULE,
    backup_vault_lock.RULE,
    bucket_replication.RULE,
    azure_delete_lock.RULE,
    audit_trail.RULE,
)
# Rules that read every stack of the synth at once.
TREE_REGISTRY: tuple[TreeRule, ...] = (network_policy_enforced.RULE,)
# Rule id -> what it requires (the policy report lists it; suppress() accepts only these ids).
RULES: dict[str, str] = {rule.id: rule.description for rule in REGISTRY} | {
    rule.id: rule.description for rule in TREE_REGISTRY
}


def evaluate(stack: StackDocument) -> list[Finding]:
    """Every finding of every rule in one stack, in a stable order."""
    found = [item for rule in REGISTRY for item in rule.check(stack)]
    return sorted(found, key=lambda f: (f.path, f.rule, f.attribute))


def evaluate_tree(documents: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """Every finding of the cross-stack rules over the whole synth."""
    return [item for rule in TREE_REGISTRY for item in rule.check(documents)]


__all__ = [
    "ACCESS_LOGGING",
    "AUDIT_TRAIL",
    "AZURE_DELETE_LOCK",
    "BACKUP_COVERAGE",
    "BACKUP_VAULT_LOCK",
    "BUCKET_REPLICATION",
    "DELETION_PROTECTION",
    "EKS_PUBLIC_ENDPOINT",
    "ENCRYPTION_CMK",
    "IMDSV2",
    "MANDATORY_TAGS",
    "NETWORK_POLICY_ENFORCED",
    "OPEN_INGRESS",
    "PREVENT_DESTROY",
    "PUBLIC_BUCKET",
    "PUBLIC_DATABASE",
    "PUBLIC_IP",
    "REGISTRY",
    "RULES",
    "STATEFUL_TYPES",
    "TLS_ONLY",
    "TREE_REGISTRY",
    "Finding",
    "Resource",
    "Rule",
    "StackDocument",
    "StackJson",
    "TreeRule",
    "evaluate",
    "evaluate_tree",
]
