"""VPC endpoints: private nodes reach AWS APIs without the internet."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from iworkz_constructs.policy_document import PolicyDocument, Statement

GATEWAY_SERVICES = ("s3", "dynamodb")
HTTPS = 443
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$")


@dataclass(frozen=True)
class VpcEndpointsProps:
    """Properties of :class:`VpcEndpoints`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix for tags and the security group, e.g. ``iworkz-production`` | required |
    | vpc_id | the VPC | required |
    | region | region of the services (``com.amazonaws.<region>.<service>``) | required |
    | allowed_cidrs | CIDRs allowed to reach interface endpoints on 443 (normally the VPC CIDR) | required |
    | gateway_endpoints | gateway services (``s3``, ``dynamodb``) | ``("s3",)`` |
    | gateway_route_table_ids | route tables that get the gateway endpoints' prefix-list routes | required with gateways |
    | interface_endpoints | interface services, e.g. ``ecr.api``, ``ecr.dkr``, ``sts``, ``logs`` | none |
    | interface_subnet_ids | subnets holding the interface endpoints' network interfaces (one per AZ) | required with interfaces |
    | private_dns | resolve the services' public names to the endpoints inside the VPC | True |
    | policies | endpoint policies by interface service (IAM-shaped statements); a service without one allows any call | none |
    """

    name: str
    vpc_id: str
    region: str
    allowed_cidrs: Sequence[str]
    gateway_endpoints: Sequence[str] = ("s3",)
    gateway_route_table_ids: Sequence[str] = ()
    interface_endpoints: Sequence[str] = ()
    interface_subnet_ids: Sequence[str] = ()
    private_dns: bool = True
    policies: Mapping[str, Sequence[Statement]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in self.gateway_endpoints:
            if service not in GATEWAY_SERVICES:
                raise ValueError(f"gateway endpoint {service!r}: only {GATEWAY_SERVICES} have gateway endpoints")
        for service in self.interface_endpoints:
            if not _SERVICE.match(service):
                raise ValueError(f"interface endpoint {service!r}: give the service suffix, e.g. 'ecr.api'")
        for kind, services in (("gateway", self.gateway_endpoints), ("interface", self.interface_endpoints)):
            if len(set(services)) != len(services):
                raise ValueError(f"{kind} endpoints list a service twice: {list(services)}")
        if self.gateway_endpoints and not self.gateway_route_table_ids:
            raise ValueError("gateway endpoints need gateway_route_table_ids")
        if self.interface_endpoints and not self.interface_subnet_ids:
            raise ValueError("interface endpoints need interface_subnet_ids")
        if self.interface_endpoints and not self.allowed_cidrs:
            raise ValueError("interface endpoints need allowed_cidrs (normally the VPC CIDR)")
        stray = sorted(set(self.policies) - set(self.interface_endpoints))
        if stray:
            raise ValueError(f"policies for {stray}: only interface endpoints of interface_endpoints take a policy")
        empty = sorted(service for service, statements in self.policies.items() if not statements)
        if empty:
            raise ValueError(f"policies for {empty} hold no statement (an empty endpoint policy denies every call)")
        for cidr in self.allowed_cidrs:
            network = ipaddress.ip_network(cidr)
            if network.prefixlen == 0 or not network.is_private:
                raise ValueError(f"allowed_cidrs: {cidr} is not a private range; endpoints serve the VPC only")


class VpcEndpoints(Construct):
    """Gateway endpoints on the given route tables; interface endpoints with private DNS behind
    a security group that admits HTTPS from ``allowed_cidrs`` only (and has no egress rule).

    Attributes: ``gateway`` and ``interface`` (service -> endpoint id), ``security_group_id``
    (None without interface endpoints), ``policies`` (service -> its :class:`PolicyDocument`).
    """

    def __init__(self, scope: Construct, id: str, props: VpcEndpointsProps) -> None:
        super().__init__(scope, id)
        self.gateway: dict[str, str] = {}
        self.interface: dict[str, str] = {}
        self.security_group_id: str | None = None
        self.policies: dict[str, PolicyDocument] = {}
        for service in props.gateway_endpoints:
            endpoint = VpcEndpoint(
                self,
                f"{service}-gateway",
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=list(props.gateway_route_table_ids),
                tags={"Name": f"{props.name}-{service}"},
            )
            self.gateway[service] = endpoint.id
        if not props.interface_endpoints:
            return
        group = SecurityGroup(
            self,
            "security-group",
            name=f"{props.name}-vpc-endpoints",
            description=f"Interface VPC endpoints of {props.name}: HTTPS from inside the VPC only",
            vpc_id=props.vpc_id,
            tags={"Name": f"{props.name}-vpc-endpoints"},
        )
        for index, cidr in enumerate(props.allowed_cidrs):
            VpcSecurityGroupIngressRule(
                self,
                f"https-{index}",
                security_group_id=group.id,
                description=f"HTTPS to AWS APIs from {cidr}",
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
            )
        self.security_group_id = group.id
        for service in props.interface_endpoints:
            construct_id = service.replace(".", "-")
            if service in props.policies:
                self.policies[service] = PolicyDocument(self, f"{construct_id}-policy", props.policies[service])
            endpoint = VpcEndpoint(
                self,
                construct_id,
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=props.private_dns,
                subnet_ids=list(props.interface_subnet_ids),
                security_group_ids=[group.id],
                policy=self.policies[service].json if service in self.policies else None,
                tags={"Name": f"{props.name}-{service}"},
            )
            self.interface[service] = endpoint.id
