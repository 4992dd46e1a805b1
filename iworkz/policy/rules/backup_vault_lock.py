"""BACKUP_VAULT_LOCK: every backup vault is locked in compliance mode and every plan copies across regions.

A vault lock with a grace period (``changeable_for_days``) becomes immutable when it ends: no
one, the root user included, can then delete a recovery point before its retention or remove
the lock. Without a grace period the lock stays in governance mode, which privileged users can
lift. A plan rule without a copy action leaves the region's loss without a backup.
"""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Resource, Rule, StackDocument, blocks, finding, is_set, referenced

ID = "BACKUP_VAULT_LOCK"
DESCRIPTION = "backup vaults are locked in compliance mode; backup plans copy every recovery point to another region"
FIX = "use iworkz_constructs.backup_plan (vault lock with changeable_for_days, copy actions to the backup region)"


def check(stack: StackDocument) -> Iterator[Finding]:
    locks: dict[str, Resource] = {}
    for lock in stack.of("aws_backup_vault_lock_configuration"):
        name = referenced(lock.get("backup_vault_name"), "aws_backup_vault")
        if name is not None:
            locks[name] = lock
    for vault in stack.of("aws_backup_vault"):
        vault_lock = locks.get(vault.name)
        if vault_lock is None or not is_set(vault_lock.get("changeable_for_days")):
            yield finding(
                stack,
                vault,
                ID,
                "aws_backup_vault_lock_configuration.changeable_for_days",
                None if vault_lock is None else vault_lock.get("changeable_for_days"),
                "the vault has no compliance-mode lock: its recovery points can be deleted",
                "add an aws_backup_vault_lock_configuration with changeable_for_days (3 or more)",
            )
    for plan in stack.of("aws_backup_plan"):
        for rule in blocks(plan.get("rule")):
            if not blocks(rule.get("copy_action")):
                yield finding(
                    stack,
                    plan,
                    ID,
                    f"rule[{rule.get('rule_name')}].copy_action",
                    None,
                    "the rule keeps its recovery points in one region only",
                    "add a copy_action to the backup region's vault",
                )


RULE = Rule(ID, DESCRIPTION, FIX, check)
