"""EKS_PUBLIC_ENDPOINT: a production EKS API endpoint is not open to 0.0.0.0/0."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import OPEN_CIDRS, Finding, Rule, StackDocument, finding, first, is_false

ID = "EKS_PUBLIC_ENDPOINT"
DESCRIPTION = "a production EKS API endpoint is not open to 0.0.0.0/0"
FIX = "disable the public endpoint, or restrict public_access_cidrs to the operators' CIDRs"


def check(stack: StackDocument) -> Iterator[Finding]:
    if stack.environment != "production":
        return
    for r in stack.of("aws_eks_cluster"):
        vpc_config = first(r.get("vpc_config"))
        if is_false(vpc_config.get("endpoint_public_access")):
            continue
        cidrs = vpc_config.get("public_access_cidrs")
        if not cidrs or any(c in OPEN_CIDRS for c in cidrs):
            yield finding(
                stack,
                r,
                ID,
                "vpc_config.public_access_cidrs",
                cidrs,
                "the production API endpoint is public and open to 0.0.0.0/0 (the provider's default)",
                "set vpc_config.endpoint_public_access = false, or public_access_cidrs to the operators' CIDRs",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
