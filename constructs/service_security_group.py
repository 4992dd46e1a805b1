"""A security group for one data service: one TCP port, open only to named security groups."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


@dataclass(frozen=True)
class ServiceSecurityGroupProps:
    """Properties of :class:`ServiceSecurityGroup`.

    | name | meaning | default |
    |---|---|---|
    | name | security group name | required |
    | description | what the group protects | required |
    | vpc_id | VPC of the group | required |
    | port | the single TCP port clients connect to | required |
    | sources | client security groups by short stable key (e.g. ``eks-nodes``) | required, at least one |
    | source_cidrs | private client ranges by short stable key, for peers outside AWS (e.g. the DR site over the VPN) | none |

    No CIDR ingress and no egress: the services only answer connections (Terraform removes
    the default allow-all egress rule of a new group).
    """

    name: str
    description: str
    vpc_id: str
    port: int
    sources: Mapping[str, str]
    source_cidrs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError(f"security group {self.name}: give at least one source security group")
        public = [cidr for cidr in self.source_cidrs.values() if not ipaddress.ip_network(cidr).is_private]
        if public:
            raise ValueError(f"security group {self.name}: source_cidrs {public} are not private ranges")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"security group {self.name}: port {self.port} is not a TCP port")


class ServiceSecurityGroup(Construct):
    """Attributes: ``group`` (the resource), ``id``."""

    def __init__(self, scope: Construct, id: str, props: ServiceSecurityGroupProps) -> None:
        super().__init__(scope, id)
        self.group = SecurityGroup(
            self,
            "group",
            name=props.name,
            description=props.description,
            vpc_id=props.vpc_id,
            tags={"Name": props.name},
        )
        self.id = self.group.id
        # (rule, source security group, source CIDR): one of the two per rule.
        peers: list[tuple[str, str | None, str | None]] = [(key, group, None) for key, group in props.sources.items()]
        peers += [(key, None, cidr) for key, cidr in props.source_cidrs.items()]
        for key, group, cidr in peers:
            VpcSecurityGroupIngressRule(
                self,
                f"from-{key}",
                security_group_id=self.group.id,
                description=f"port {props.port} from {key}",
                ip_protocol="tcp",
                from_port=props.port,
                to_port=props.port,
                referenced_security_group_id=group,
                cidr_ipv4=cidr,
            )
