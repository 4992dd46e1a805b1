"""PUBLIC_IP: nothing outside a public subnet gets a public IP address."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, blocks, finding, is_true, referenced

ID = "PUBLIC_IP"
DESCRIPTION = "nothing outside a public subnet gets a public IP address"
FIX = "place public addresses only in subnets routed to an internet gateway; reach instances through SSM or a load balancer"


def check(stack: StackDocument) -> Iterator[Finding]:
    public_subnets = _public_subnets(stack)
    for r in stack.of("aws_subnet"):
        if is_true(r.get("map_public_ip_on_launch")) and r.name not in public_subnets:
            yield finding(
                stack,
                r,
                ID,
                "map_public_ip_on_launch",
                True,
                "a subnet without a route to an internet gateway hands out public IP addresses",
                "set map_public_ip_on_launch = false (only public subnets may map public IPs)",
            )
    for r in stack.of("aws_instance"):
        if is_true(r.get("associate_public_ip_address")):
            yield finding(
                stack,
                r,
                ID,
                "associate_public_ip_address",
                True,
                DESCRIPTION,
                "set associate_public_ip_address = false; reach instances through SSM or a load balancer",
            )
    for r in stack.of("aws_launch_template"):
        for interface in blocks(r.get("network_interfaces")):
            if is_true(interface.get("associate_public_ip_address")):
                yield finding(
                    stack,
                    r,
                    ID,
                    "network_interfaces.associate_public_ip_address",
                    True,
                    DESCRIPTION,
                    "set associate_public_ip_address = false",
                )


def _public_subnets(stack: StackDocument) -> set[str]:
    """Subnets associated with a route table that routes to an internet gateway."""
    public_tables = set()
    for table in stack.of("aws_route_table"):
        if any(referenced(route.get("gateway_id"), "aws_internet_gateway") for route in blocks(table.get("route"))):
            public_tables.add(table.name)
    for route in stack.of("aws_route"):
        table_name = referenced(route.get("route_table_id"), "aws_route_table")
        if table_name and referenced(route.get("gateway_id"), "aws_internet_gateway"):
            public_tables.add(table_name)
    subnets = set()
    for association in stack.of("aws_route_table_association"):
        table_name = referenced(association.get("route_table_id"), "aws_route_table")
        subnet_name = referenced(association.get("subnet_id"), "aws_subnet")
        if table_name in public_tables and subnet_name:
            subnets.add(subnet_name)
    return subnets


RULE = Rule(ID, DESCRIPTION, FIX, check)
