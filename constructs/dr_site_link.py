"""The DR site's link to the AWS VPC: the site-to-site IPsec VPN (its tunnel logs under a key of
their own, its AWS side alarmed) and the DNS forwarding that lets the VPC resolve the site's
private names (backup copies, failback, the private AKS API server).

A builder, not a construct: its resources belong to the caller's scope (ids ``vpn-log-key``,
``vpn``, ``dns``), so the addresses the dr-azure stack has had stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from iworkz.config.dr_azure import dns_resolver_inbound_ip
from iworkz_constructs.alarm_settings import VpnAlarms
from iworkz_constructs.alarms import AlarmActions
from iworkz_constructs.cross_cloud_dns import CrossCloudDns, CrossCloudDnsProps
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.site_to_site_vpn import SiteToSiteVpn, SiteToSiteVpnProps

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from iworkz.config.dr_azure import DrAzureConfig
    from iworkz.contracts import NetworkOutputs


@dataclass(frozen=True)
class SiteLink:
    """What :func:`site_link` built."""

    vpn: SiteToSiteVpn
    dns: CrossCloudDns


@dataclass(frozen=True)
class AzureSide:
    """The Azure end of the link: where its gateway and resolver live."""

    resource_group_name: str
    gateway_subnet_id: str
    virtual_network_id: str
    dns_resolver_subnet_id: str
    log_analytics_workspace_id: str


def site_link(
    scope: Construct,
    *,
    name: str,
    azure: AzureSide,
    vpc: NetworkOutputs,
    config: DrAzureConfig,
    forwarded_zones: Sequence[str],
    account_id: str,
    region: str,
    alarm_actions: AlarmActions,
    alarms: VpnAlarms,
    aws_provider: AwsProvider,
    tags: Mapping[str, str],
) -> SiteLink:
    """The VPN between ``vpc`` and the site's VNet, and the VPC's resolver rules for ``forwarded_zones``."""
    log_key = KmsKey(
        scope,
        "vpn-log-key",
        KmsKeyProps(
            alias=f"{name}-vpn-logs",
            description="Site-to-site VPN tunnel logs (AWS side of the DR link)",
            account_id=account_id,
            service_principals=(f"logs.{region}.amazonaws.com",),
        ),
    )
    vpn = SiteToSiteVpn(
        scope,
        "vpn",
        SiteToSiteVpnProps(
            name=name,
            aws_vpc_id=vpc.vpc_id,
            aws_vpc_cidr=vpc.vpc_cidr,
            aws_route_table_ids=[*vpc.private_route_table_ids, *vpc.database_route_table_ids],
            azure_resource_group_name=azure.resource_group_name,
            azure_location=config.location,
            azure_gateway_subnet_id=azure.gateway_subnet_id,
            azure_vnet_cidr=config.vnet_cidr,
            gateway_sku=config.vpn_gateway_sku,
            customer_gateway_bgp_asn=config.vpn_customer_gateway_bgp_asn,
            tunnel_log_kms_key_arn=log_key.arn,
            azure_log_analytics_workspace_id=azure.log_analytics_workspace_id,
            aws_provider=aws_provider,
            tags=tags,
            alarm_actions=alarm_actions,
            alarms=alarms,
        ),
    )
    dns = CrossCloudDns(
        scope,
        "dns",
        CrossCloudDnsProps(
            name=name,
            forwarded_zones=forwarded_zones,
            azure_resource_group_name=azure.resource_group_name,
            azure_location=config.location,
            azure_virtual_network_id=azure.virtual_network_id,
            azure_inbound_subnet_id=azure.dns_resolver_subnet_id,
            azure_inbound_ip=dns_resolver_inbound_ip(config.vnet_cidr),
            aws_vpc_id=vpc.vpc_id,
            aws_subnet_ids=list(vpc.private_subnet_ids),
            aws_provider=aws_provider,
            tags=tags,
        ),
    )
    return SiteLink(vpn, dns)
