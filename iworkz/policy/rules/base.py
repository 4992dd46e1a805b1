"""What every guardrail rule shares: the stack document it reads, its findings, the Rule record.

Rules read the synthesised document rather than the construct objects because only the
synthesised form has cdktf's tokens resolved into Terraform references
(``${aws_s3_bucket.logs_1A2B3C4D.id}``), which is what ties a bucket to its encryption
configuration, an instance to its parameter group or a subnet to its route table. What the
document cannot tell (the suppressions and which azurerm resource types accept tags) comes
from :mod:`iworkz.policy.tree`.

Each finding names the resource's construct path, its Terraform address, the rule and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

StackJson = dict[str, Any]
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})

# Resources that hold data: deletion protection (where the API has it) and prevent_destroy.
STATEFUL_TYPES: tuple[str, ...] = (
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_elasticache_replication_group",
    "aws_opensearch_domain",
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_dynamodb_table",
    "aws_backup_vault",
    # Logs are evidence (audit, incidents): losing a group loses its history.
    "aws_cloudwatch_log_group",
    "azurerm_postgresql_flexible_server",
    "azurerm_storage_account",
    "azurerm_key_vault",
    "azurerm_log_analytics_workspace",
)

_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_]+)\}$")


@dataclass(frozen=True)
class Finding:
    """One resource breaking one rule."""

    stack: str
    path: str
    address: str
    rule: str
    attribute: str
    value: object
    problem: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "path": self.path,
            "address": self.address,
            "rule": self.rule,
            "attribute": self.attribute,
            "value": self.value,
            "problem": self.problem,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: dict[str, Any]
    path: str

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


@dataclass
class StackDocument:
    """A synthesised stack with lookups the rules share."""

    name: str
    doc: StackJson
    taggable_types: frozenset[str] = frozenset()
    by_type: dict[str, list[Resource]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for resource_type, instances in (self.doc.get("resource") or {}).items():
            for name, body in instances.items():
                path = ((body.get("//") or {}).get("metadata") or {}).get("path") or f"{self.name}/{name}"
                self.by_type.setdefault(resource_type, []).append(Resource(resource_type, name, body, path))

    def of(self, resource_type: str) -> list[Resource]:
        return self.by_type.get(resource_type, [])

    def all(self) -> Iterator[Resource]:
        for instances in self.by_type.values():
            yield from instances

    @property
    def environment(self) -> str | None:
        for provider in blocks((self.doc.get("provider") or {}).get("aws")):
            for default in blocks(provider.get("default_tags")):
                tags = default.get("tags") or {}
                if tags.get("Environment"):
                    return str(tags["Environment"])
        return None


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block as a list of dicts (cdktf writes single blocks as objects, others as lists)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def first(value: Any) -> dict[str, Any]:
    found = blocks(value)
    return found[0] if found else {}


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def is_set(value: Any) -> bool:
    return value is not None and value != "" and value != []


def referenced(value: Any, resource_type: str) -> str | None:
    """The logical name of ``resource_type`` that ``${type.name.attr}`` points at."""
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        if match and match.group(1) == resource_type:
            return match.group(2)
    return None


Check = Callable[[StackDocument], Iterable[Finding]]
# A rule over the whole synthesised tree (stack name -> document): what spans stacks.
TreeCheck = Callable[[Mapping[str, Mapping[str, Any]]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One guardrail (cdk-nag's layout): its id (what ``suppress()`` names), what it requires,
    how to comply, and the check that yields a :class:`Finding` per resource breaking it."""

    id: str
    description: str
    fix: str
    check: Check


@dataclass(frozen=True)
class TreeRule:
    """A :class:`Rule` whose check reads every stack of the synth at once (a cross-stack requirement)."""

    id: str
    description: str
    fix: str
    check: TreeCheck


def finding(
    stack: StackDocument, resource: Resource, rule: str, attribute: str, value: object, problem: str, fix: str
) -> Finding:
    return Finding(stack.name, resource.path, resource.address, rule, attribute, value, problem, fix)


def for_bucket(stack: StackDocument, satellite_type: str) -> dict[str, list[Resource]]:
    """Satellite resources (encryption, policy, ...) by the logical name of their bucket."""
    by_literal_name = {str(b.get("bucket")): b.name for b in stack.of("aws_s3_bucket") if is_set(b.get("bucket"))}
    found: dict[str, list[Resource]] = {}
    for satellite in stack.of(satellite_type):
        value = satellite.get("bucket")
        name = referenced(value, "aws_s3_bucket") or by_literal_name.get(str(value))
        if name is not None:
            found.setdefault(name, []).append(satellite)
    return found


def log_targets(stack: StackDocument) -> set[str]:
    """Buckets (logical names) that receive the server access logs of other buckets."""
    return {
        name
        for logging in stack.of("aws_s3_bucket_logging")
        if (name := referenced(logging.get("target_bucket"), "aws_s3_bucket")) is not None
    }


def replica_buckets(stack: StackDocument) -> set[str]:
    """Buckets (logical names) that are the destination of a replication rule: copies, not sources."""
    return {
        name
        for configuration in stack.of("aws_s3_bucket_replication_configuration")
        for rule in blocks(configuration.get("rule"))
        for destination in blocks(rule.get("destination"))
        if (name := referenced(destination.get("bucket"), "aws_s3_bucket")) is not None
    }


def data_buckets(stack: StackDocument) -> list[Resource]:
    """The buckets that hold data of their own: neither access-log targets nor replicas."""
    others = log_targets(stack) | replica_buckets(stack)
    return [bucket for bucket in stack.of("aws_s3_bucket") if bucket.name not in others]
