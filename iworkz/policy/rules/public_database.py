"""PUBLIC_DATABASE: databases and search domains are reachable only from private networks."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, finding, first, is_false, is_true

ID = "PUBLIC_DATABASE"
DESCRIPTION = "databases and search domains are reachable only from private networks"
FIX = "place the database or domain in private subnets and turn its public access off"


def check(stack: StackDocument) -> Iterator[Finding]:
    for resource_type in ("aws_db_instance", "aws_rds_cluster_instance"):
        for r in stack.of(resource_type):
            if is_true(r.get("publicly_accessible")):
                yield finding(
                    stack,
                    r,
                    ID,
                    "publicly_accessible",
                    True,
                    DESCRIPTION,
                    "set publicly_accessible = false and reach the database from the VPC",
                )
    for r in stack.of("aws_opensearch_domain"):
        if not first(r.get("vpc_options")).get("subnet_ids"):
            yield finding(
                stack,
                r,
                ID,
                "vpc_options",
                r.get("vpc_options"),
                "a domain without vpc_options has a public endpoint",
                "set vpc_options { subnet_ids, security_group_ids } to place the domain in private subnets",
            )
    for r in stack.of("azurerm_postgresql_flexible_server"):
        if not is_false(r.get("public_network_access_enabled")):
            yield finding(
                stack,
                r,
                ID,
                "public_network_access_enabled",
                r.get("public_network_access_enabled"),
                "the server accepts connections from the internet (azurerm defaults this to true)",
                "set public_network_access_enabled = false and use delegated_subnet_id + private_dns_zone_id",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
