"""IMDSV2: instances require IMDSv2 (metadata_options.http_tokens = required)."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, finding, first

ID = "IMDSV2"
DESCRIPTION = "instances require IMDSv2 (metadata_options.http_tokens = required)"
FIX = 'set metadata_options { http_tokens = "required" } through a launch template'


def check(stack: StackDocument) -> Iterator[Finding]:
    for r in [*stack.of("aws_launch_template"), *stack.of("aws_instance")]:
        tokens = first(r.get("metadata_options")).get("http_tokens")
        if tokens != "required":
            yield finding(
                stack,
                r,
                ID,
                "metadata_options.http_tokens",
                tokens,
                DESCRIPTION,
                'set metadata_options { http_tokens = "required", http_put_response_hop_limit = 2 }',
            )
    for r in stack.of("aws_eks_node_group"):
        if not first(r.get("launch_template")):
            yield finding(
                stack,
                r,
                ID,
                "launch_template",
                None,
                "a node group without a launch template cannot enforce IMDSv2 nor encrypt its volumes with a CMK",
                "give the node group a launch_template whose metadata_options require http_tokens",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
