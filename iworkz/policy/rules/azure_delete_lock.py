"""AZURE_DELETE_LOCK: every stateful Azure resource carries a CanNotDelete management lock.

``prevent_destroy`` stops Terraform only; a lock also stops the portal, the CLI and any other
client (a lock is removed deliberately, by someone allowed to manage locks, before a delete).
"""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, finding, referenced

ID = "AZURE_DELETE_LOCK"
DESCRIPTION = "stateful Azure resources have a CanNotDelete management lock"
FIX = "add an azurerm_management_lock (lock_level CanNotDelete) whose scope is the resource's id"
STATEFUL_AZURE_TYPES = (
    "azurerm_postgresql_flexible_server",
    "azurerm_storage_account",
    "azurerm_key_vault",
    "azurerm_log_analytics_workspace",
)


def check(stack: StackDocument) -> Iterator[Finding]:
    locked = set()
    for lock in stack.of("azurerm_management_lock"):
        if lock.get("lock_level") != "CanNotDelete":
            continue
        for resource_type in STATEFUL_AZURE_TYPES:
            name = referenced(lock.get("scope"), resource_type)
            if name is not None:
                locked.add((resource_type, name))
    for resource_type in STATEFUL_AZURE_TYPES:
        for resource in stack.of(resource_type):
            if (resource_type, resource.name) not in locked:
                yield finding(stack, resource, ID, "azurerm_management_lock", None, DESCRIPTION, FIX)


RULE = Rule(ID, DESCRIPTION, FIX, check)
