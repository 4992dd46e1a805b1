"""DNS across the VPN: the AWS VPC resolves the DR site's private zones through an Azure DNS resolver.

The backup copies from AWS go to the storage account's private endpoint, and failback
connects to the VNet-integrated PostgreSQL server: both names live in Azure private DNS
zones that only the VNet can resolve. A Route 53 Resolver outbound endpoint forwards those
zones over the VPN to an Azure DNS Private Resolver inbound endpoint in the VNet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route53_resolver_endpoint import (
    Route53ResolverEndpoint,
    Route53ResolverEndpointIpAddress,
)
from cdktf_cdktf_provider_aws.route53_resolver_rule import Route53ResolverRule, Route53ResolverRuleTargetIp
from cdktf_cdktf_provider_aws.route53_resolver_rule_association import Route53ResolverRuleAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupEgress
from cdktf_cdktf_provider_azurerm.private_dns_resolver import PrivateDnsResolver
from cdktf_cdktf_provider_azurerm.private_dns_resolver_inbound_endpoint import (
    PrivateDnsResolverInboundEndpoint,
    PrivateDnsResolverInboundEndpointIpConfigurations,
)
from constructs import Construct

DNS_PORT = 53


@dataclass(frozen=True)
class CrossCloudDnsProps:
    """Properties of :class:`CrossCloudDns`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of every resource | required |
    | forwarded_zones | Azure private DNS zones the AWS VPC resolves through Azure | required |
    | azure_resource_group_name | resource group of the Azure resolver | required |
    | azure_location | Azure region | required |
    | azure_virtual_network_id | the VNet whose private zones are resolved | required |
    | azure_inbound_subnet_id | subnet delegated to Microsoft.Network/dnsResolvers | required |
    | azure_inbound_ip | static address of the inbound endpoint in that subnet | required |
    | aws_vpc_id | the AWS VPC that forwards the zones | required |
    | aws_subnet_ids | at least two private subnets (different AZs) for the outbound endpoint | required |
    | aws_provider | AWS provider | the stack's default |
    | tags | Azure tags (the AWS provider adds its default tags) | none |
    """

    name: str
    forwarded_zones: Sequence[str]
    azure_resource_group_name: str
    azure_location: str
    azure_virtual_network_id: str
    azure_inbound_subnet_id: str
    azure_inbound_ip: str
    aws_vpc_id: str
    aws_subnet_ids: Sequence[str]
    aws_provider: AwsProvider | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.forwarded_zones:
            raise ValueError(f"DNS {self.name}: give the zones to forward")
        if len(self.aws_subnet_ids) < 2:
            raise ValueError(f"DNS {self.name}: a Route 53 Resolver endpoint needs at least two subnets")
        try:
            ipaddress.IPv4Address(self.azure_inbound_ip)
        except ValueError:
            raise ValueError(
                f"DNS {self.name}: azure_inbound_ip {self.azure_inbound_ip!r} is not an IPv4 address"
            ) from None


class CrossCloudDns(Construct):
    """Azure DNS Private Resolver (inbound) + Route 53 Resolver outbound endpoint and forwarding rules.

    Attributes: ``inbound_ip``, ``resolver_rule_ids`` (by zone), ``outbound_endpoint_id``.
    """

    def __init__(self, scope: Construct, id: str, props: CrossCloudDnsProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        aws = props.aws_provider
        resolver = PrivateDnsResolver(
            self,
            "resolver",
            name=f"{props.name}-dns-resolver",
            resource_group_name=props.azure_resource_group_name,
            location=props.azure_location,
            virtual_network_id=props.azure_virtual_network_id,
            tags=tags,
        )
        PrivateDnsResolverInboundEndpoint(
            self,
            "inbound",
            name=f"{props.name}-dns-inbound",
            private_dns_resolver_id=resolver.id,
            location=props.azure_location,
            ip_configurations=PrivateDnsResolverInboundEndpointIpConfigurations(
                subnet_id=props.azure_inbound_subnet_id,
                private_ip_allocation_method="Static",
                private_ip_address=props.azure_inbound_ip,
            ),
            tags=tags,
        )
        self.inbound_ip = props.azure_inbound_ip

        target = f"{props.azure_inbound_ip}/32"
        security_group = SecurityGroup(
            self,
            "aws-endpoint-sg",
            name=f"{props.name}-dns-forwarder",
            description="Route 53 Resolver outbound endpoint: DNS to the Azure resolver only",
            vpc_id=props.aws_vpc_id,
            egress=[
                SecurityGroupEgress(
                    description=f"DNS over {protocol.upper()} to the Azure resolver",
                    protocol=protocol,
                    from_port=DNS_PORT,
                    to_port=DNS_PORT,
                    cidr_blocks=[target],
                )
                for protocol in ("udp", "tcp")
            ],
            ingress=[],
            tags={"Name": f"{props.name}-dns-forwarder"},
            provider=aws,
        )
        endpoint = Route53ResolverEndpoint(
            self,
            "aws-outbound",
            name=f"{props.name}-to-azure",
            direction="OUTBOUND",
            security_group_ids=[security_group.id],
            ip_address=[Route53ResolverEndpointIpAddress(subnet_id=subnet) for subnet in props.aws_subnet_ids],
            provider=aws,
        )
        self.outbound_endpoint_id = endpoint.id
        self.resolver_rule_ids: dict[str, str] = {}
        for index, zone in enumerate(props.forwarded_zones):
            rule = Route53ResolverRule(
                self,
                f"aws-rule-{index}",
                name=f"{props.name}-{zone.replace('.', '-')}"[:64],
                domain_name=zone,
                rule_type="FORWARD",
                resolver_endpoint_id=endpoint.id,
                target_ip=[Route53ResolverRuleTargetIp(ip=props.azure_inbound_ip, port=DNS_PORT)],
                provider=aws,
            )
            Route53ResolverRuleAssociation(
                self,
                f"aws-rule-{index}-vpc",
                resolver_rule_id=rule.id,
                vpc_id=props.aws_vpc_id,
                provider=aws,
            )
            self.resolver_rule_ids[zone] = rule.id
