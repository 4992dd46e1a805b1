"""OPEN_INGRESS: no security group or NSG rule admits the whole internet (0.0.0.0/0, ::/0, *, Internet)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iworkz.policy.rules.base import OPEN_CIDRS, Finding, Rule, StackDocument, blocks, finding

ID = "OPEN_INGRESS"
DESCRIPTION = "no security group or NSG rule admits the whole internet (0.0.0.0/0, ::/0, *, Internet)"
OPEN_AZURE_PREFIXES = frozenset({"*", "0.0.0.0/0", "0.0.0.0", "internet", "any", "::/0"})
FIX = "allow only the sources that need access (a VPC CIDR, a prefix list or a security group)"


def check(stack: StackDocument) -> Iterator[Finding]:
    fix = "allow only the sources that need access (a VPC CIDR, a prefix list or a security group)"

    def open_cidrs(rule: dict[str, Any]) -> list[str]:
        cidrs = [*(rule.get("cidr_blocks") or []), *(rule.get("ipv6_cidr_blocks") or [])]
        return [c for c in cidrs if c in OPEN_CIDRS]

    for r in stack.of("aws_security_group"):
        for rule in blocks(r.get("ingress")):
            if open_cidrs(rule):
                yield finding(stack, r, ID, "ingress.cidr_blocks", open_cidrs(rule), DESCRIPTION, fix)
    for r in stack.of("aws_security_group_rule"):
        if r.get("type") == "ingress" and open_cidrs(r.body):
            yield finding(stack, r, ID, "cidr_blocks", open_cidrs(r.body), DESCRIPTION, fix)
    for r in stack.of("aws_vpc_security_group_ingress_rule"):
        for attribute in ("cidr_ipv4", "cidr_ipv6"):
            if r.get(attribute) in OPEN_CIDRS:
                yield finding(stack, r, ID, attribute, r.get(attribute), DESCRIPTION, fix)

    def open_azure(rule: dict[str, Any]) -> list[str]:
        if str(rule.get("direction", "")).lower() != "inbound" or str(rule.get("access", "")).lower() != "allow":
            return []
        prefixes = [rule.get("source_address_prefix"), *(rule.get("source_address_prefixes") or [])]
        return [str(p) for p in prefixes if isinstance(p, str) and p.lower() in OPEN_AZURE_PREFIXES]

    for r in stack.of("azurerm_network_security_group"):
        for rule in blocks(r.get("security_rule")):
            if open_azure(rule):
                yield finding(
                    stack,
                    r,
                    ID,
                    "security_rule.source_address_prefix",
                    open_azure(rule),
                    DESCRIPTION,
                    fix,
                )
    for r in stack.of("azurerm_network_security_rule"):
        if open_azure(r.body):
            yield finding(stack, r, ID, "source_address_prefix", open_azure(r.body), DESCRIPTION, fix)


RULE = Rule(ID, DESCRIPTION, FIX, check)
