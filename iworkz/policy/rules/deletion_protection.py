"""DELETION_PROTECTION: stateful resources have deletion protection on."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, finding, is_set, is_true

ID = "DELETION_PROTECTION"
DESCRIPTION = "stateful resources have deletion protection on"
FIX = "turn the resource's deletion protection on and keep a final snapshot"


_DELETION_PROTECTION_ATTRIBUTE = {
    "aws_db_instance": "deletion_protection",
    "aws_rds_cluster": "deletion_protection",
    "aws_dynamodb_table": "deletion_protection_enabled",
    "azurerm_key_vault": "purge_protection_enabled",
}


def check(stack: StackDocument) -> Iterator[Finding]:
    for resource_type, attribute in _DELETION_PROTECTION_ATTRIBUTE.items():
        for r in stack.of(resource_type):
            if not is_true(r.get(attribute)):
                yield finding(
                    stack,
                    r,
                    ID,
                    attribute,
                    r.get(attribute),
                    DESCRIPTION,
                    f"set {attribute} = true",
                )
    for r in stack.of("aws_s3_bucket"):
        if is_true(r.get("force_destroy")):
            yield finding(
                stack,
                r,
                ID,
                "force_destroy",
                True,
                "force_destroy deletes every object with the bucket",
                "set force_destroy = false",
            )
    for r in [*stack.of("aws_db_instance"), *stack.of("aws_rds_cluster")]:
        if not is_set(r.get("replicate_source_db")) and is_true(r.get("skip_final_snapshot")):
            yield finding(
                stack,
                r,
                ID,
                "skip_final_snapshot",
                True,
                "deleting the database would leave no final snapshot",
                "set skip_final_snapshot = false and a final_snapshot_identifier",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
