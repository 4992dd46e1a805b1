"""MANDATORY_TAGS: resources carry the tags Project, Environment, ManagedBy and Owner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iworkz.policy.rules.base import Finding, Rule, StackDocument, blocks, finding

ID = "MANDATORY_TAGS"
DESCRIPTION = "resources carry the tags Project, Environment, ManagedBy and Owner"
MANDATORY_TAG_KEYS = ("Project", "Environment", "ManagedBy", "Owner")
FIX = "create AWS providers through stacks.aws_providers.AwsProviders and pass the stack's tags to azurerm resources"


def check(stack: StackDocument) -> Iterator[Finding]:
    for index, provider in enumerate(blocks((stack.doc.get("provider") or {}).get("aws"))):
        tags: dict[str, Any] = {}
        for default in blocks(provider.get("default_tags")):
            tags.update(default.get("tags") or {})
        missing = [key for key in MANDATORY_TAG_KEYS if not tags.get(key)]
        if missing:
            alias = provider.get("alias") or "aws"
            address = f"provider.aws.{alias}" if provider.get("alias") else "provider.aws"
            yield Finding(
                stack.name,
                f"{stack.name}/provider[{alias}#{index}]",
                address,
                ID,
                "default_tags.tags",
                sorted(tags),
                f"the AWS provider's default_tags lack {', '.join(missing)}",
                "create AWS providers through stacks.aws_providers.AwsProviders (default_tags from config)",
            )
    for resource_type in sorted(stack.taggable_types):
        for r in stack.of(resource_type):
            tags = r.get("tags") or {}
            missing = [key for key in MANDATORY_TAG_KEYS if not (isinstance(tags, dict) and tags.get(key))]
            if missing:
                yield finding(
                    stack,
                    r,
                    ID,
                    "tags",
                    tags or None,
                    f"{DESCRIPTION}; missing {', '.join(missing)}",
                    "pass tags= with Project, Environment, ManagedBy and Owner (the stack's default tags)",
                )


RULE = Rule(ID, DESCRIPTION, FIX, check)
