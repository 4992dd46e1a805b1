"""The security group of an internet-facing origin: HTTP(S) only from named ranges (Cloudflare's).

The ALB the workloads' Gateway gets takes this group instead of the one the AWS Load Balancer
Controller would create (that one admits ``0.0.0.0/0`` on the listener ports). Egress reaches
only the targets' ports inside the VPC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

ORIGIN_PORTS = (80, 443)


@dataclass(frozen=True)
class OriginSecurityGroupProps:
    """Properties of :class:`OriginSecurityGroup`.

    | name | meaning | default |
    |---|---|---|
    | name | security group name | required |
    | vpc_id / vpc_cidr | VPC of the group; the targets live inside its CIDR | required |
    | source_ranges | the only ranges that may connect (e.g. Cloudflare's published IPv4 ranges) | required, at least one |
    | source_label | who the ranges belong to, in the rules' descriptions | required |
    | target_ports | the ports of the targets behind the origin | required, at least one |
    | ports | listener ports the sources may reach | 80 and 443 |
    """

    name: str
    vpc_id: str
    vpc_cidr: str
    source_ranges: Sequence[str]
    source_label: str
    target_ports: Sequence[int]
    ports: Sequence[int] = ORIGIN_PORTS

    def __post_init__(self) -> None:
        if not self.source_ranges:
            raise ValueError(f"security group {self.name}: give the ranges that may connect")
        for cidr in self.source_ranges:
            network = ipaddress.ip_network(cidr)
            if network.prefixlen == 0 or network.version != 4:
                raise ValueError(f"security group {self.name}: {cidr} is not a bounded IPv4 range")
        if not self.target_ports:
            raise ValueError(f"security group {self.name}: give the targets' ports")


class OriginSecurityGroup(Construct):
    """Attributes: ``group`` (the resource), ``id``."""

    def __init__(self, scope: Construct, id: str, props: OriginSecurityGroupProps) -> None:
        super().__init__(scope, id)
        self.group = SecurityGroup(
            self,
            "group",
            name=props.name,
            description=f"Internet-facing origin: ports {', '.join(map(str, props.ports))} from {props.source_label}",
            vpc_id=props.vpc_id,
            tags={"Name": props.name},
        )
        self.id = self.group.id
        for index, cidr in enumerate(props.source_ranges):
            for port in props.ports:
                VpcSecurityGroupIngressRule(
                    self,
                    f"from-{props.source_label}-{index}-{port}",
                    security_group_id=self.group.id,
                    description=f"{props.source_label} {cidr} to port {port}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                )
        for port in sorted(set(props.target_ports)):
            VpcSecurityGroupEgressRule(
                self,
                f"to-targets-{port}",
                security_group_id=self.group.id,
                description=f"to the targets' port {port} in the VPC",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=props.vpc_cidr,
            )
