"""Site-to-site IPsec VPN between an AWS VPC and an Azure VNet (two AWS tunnels, IKEv2, AES-256/SHA-256/DH14).

AWS generates each tunnel's pre-shared key; the Azure connections read it from the AWS
connection's (sensitive) attribute, so no key is ever written in code or configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.customer_gateway import CustomerGateway
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.vpn_connection import (
    VpnConnection,
    VpnConnectionTunnel1LogOptions,
    VpnConnectionTunnel1LogOptionsCloudwatchLogOptions,
    VpnConnectionTunnel2LogOptions,
    VpnConnectionTunnel2LogOptionsCloudwatchLogOptions,
)
from cdktf_cdktf_provider_aws.vpn_connection_route import VpnConnectionRoute
from cdktf_cdktf_provider_aws.vpn_gateway import VpnGateway
from cdktf_cdktf_provider_aws.vpn_gateway_route_propagation import VpnGatewayRoutePropagation
from cdktf_cdktf_provider_azurerm.local_network_gateway import LocalNetworkGateway
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.public_ip import PublicIp
from cdktf_cdktf_provider_azurerm.virtual_network_gateway import (
    VirtualNetworkGateway,
    VirtualNetworkGatewayIpConfiguration,
)
from cdktf_cdktf_provider_azurerm.virtual_network_gateway_connection import (
    VirtualNetworkGatewayConnection,
    VirtualNetworkGatewayConnectionIpsecPolicy,
)
from constructs import Construct

AZ_GATEWAY_SKUS = ("VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ")
ZONES = ["1", "2", "3"]
# One suite on both sides (AWS names | Azure names): IKEv2, AES-256, SHA-256, DH group 14, PFS 14.
AWS_ENCRYPTION = ["AES256"]
AWS_INTEGRITY = ["SHA2-256"]
AWS_DH_GROUPS = [14]
IKE_LIFETIME_SECONDS = 28800
IPSEC_LIFETIME_SECONDS = 3600
AZURE_IPSEC_POLICY: dict[str, Any] = {
    "ike_encryption": "AES256",
    "ike_integrity": "SHA256",
    "dh_group": "DHGroup14",
    "ipsec_encryption": "AES256",
    "ipsec_integrity": "SHA256",
    "pfs_group": "PFS2048",
    "sa_lifetime": IPSEC_LIFETIME_SECONDS,
    "sa_datasize": 102400000,
}


@dataclass(frozen=True)
class SiteToSiteVpnProps:
    """Properties of :class:`SiteToSiteVpn`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of every resource | required |
    | aws_vpc_id | the AWS VPC (a virtual private gateway is attached to it) | required |
    | aws_vpc_cidr | the AWS VPC CIDR (Azure's local network gateways route it) | required |
    | aws_route_table_ids | AWS route tables that learn the Azure routes (propagation) | required |
    | azure_resource_group_name | resource group of the Azure side | required |
    | azure_location | Azure region | required |
    | azure_gateway_subnet_id | the VNet's GatewaySubnet | required |
    | azure_vnet_cidr | the Azure VNet CIDR (AWS static route) | required |
    | gateway_sku | zone-redundant VPN gateway SKU | VpnGw2AZ |
    | customer_gateway_bgp_asn | ASN AWS records for the Azure gateway | 65000 |
    | tunnel_log_retention_days | retention of the AWS tunnel logs | 365 |
    | tunnel_log_kms_key_arn | KMS key of the AWS tunnel log group | none (CloudWatch-managed) |
    | azure_log_analytics_workspace_id | Azure gateway, tunnel, IKE and route logs destination | none |
    | aws_provider | AWS provider | the stack's default |
    | tags | Azure tags (the AWS provider adds its default tags) | none |
    """

    name: str
    aws_vpc_id: str
    aws_vpc_cidr: str
    aws_route_table_ids: Sequence[str]
    azure_resource_group_name: str
    azure_location: str
    azure_gateway_subnet_id: str
    azure_vnet_cidr: str
    gateway_sku: str = "VpnGw2AZ"
    customer_gateway_bgp_asn: int = 65000
    tunnel_log_retention_days: int = 365
    tunnel_log_kms_key_arn: str | None = None
    azure_log_analytics_workspace_id: str | None = None
    aws_provider: AwsProvider | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.gateway_sku not in AZ_GATEWAY_SKUS:
            raise ValueError(f"VPN {self.name}: gateway_sku must be a zone-redundant SKU {AZ_GATEWAY_SKUS}")
        if not self.aws_route_table_ids:
            raise ValueError(f"VPN {self.name}: give the AWS route tables that should reach Azure")
        if not 1 <= self.customer_gateway_bgp_asn <= 4294967294:
            raise ValueError(f"VPN {self.name}: customer_gateway_bgp_asn out of range")


class SiteToSiteVpn(Construct):
    """AWS virtual private gateway + customer gateway + VPN connection; Azure VPN gateway + two connections.

    Attributes: ``public_ip_address`` (the Azure gateway's), ``virtual_network_gateway_id``,
    ``aws_vpn_gateway_id``, ``aws_vpn_connection_id``, ``azure_connections``.
    """

    def __init__(self, scope: Construct, id: str, props: SiteToSiteVpnProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        aws = props.aws_provider
        rg, location = props.azure_resource_group_name, props.azure_location

        # Azure side: a zone-redundant gateway with a zone-redundant Standard public IP.
        public_ip = PublicIp(
            self,
            "gateway-ip",
            name=f"{props.name}-vpngw-ip",
            resource_group_name=rg,
            location=location,
            sku="Standard",
            allocation_method="Static",
            zones=ZONES,
            tags=tags,
        )
        self.public_ip_address = public_ip.ip_address
        gateway = VirtualNetworkGateway(
            self,
            "gateway",
            name=f"{props.name}-vpngw",
            resource_group_name=rg,
            location=location,
            type="Vpn",
            vpn_type="RouteBased",
            sku=props.gateway_sku,
            generation="Generation2",
            active_active=False,
            enable_bgp=False,
            ip_configuration=[
                VirtualNetworkGatewayIpConfiguration(
                    name="gateway",
                    public_ip_address_id=public_ip.id,
                    private_ip_address_allocation="Dynamic",
                    subnet_id=props.azure_gateway_subnet_id,
                )
            ],
            tags=tags,
        )
        self.virtual_network_gateway_id = gateway.id
        if props.azure_log_analytics_workspace_id is not None:
            MonitorDiagnosticSetting(
                self,
                "gateway-diagnostics",
                name=f"{props.name}-vpngw-to-log-analytics",
                target_resource_id=gateway.id,
                log_analytics_workspace_id=props.azure_log_analytics_workspace_id,
                enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="allLogs")],
                enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
            )

        # AWS side: virtual private gateway attached to the VPC, routes propagated to its tables.
        vgw = VpnGateway(self, "aws-vgw", vpc_id=props.aws_vpc_id, tags={"Name": f"{props.name}-vgw"}, provider=aws)
        self.aws_vpn_gateway_id = vgw.id
        for index, route_table_id in enumerate(props.aws_route_table_ids):
            VpnGatewayRoutePropagation(
                self,
                f"aws-propagation-{index}",
                vpn_gateway_id=vgw.id,
                route_table_id=route_table_id,
                provider=aws,
            )
        customer_gateway = CustomerGateway(
            self,
            "aws-customer-gateway",
            type="ipsec.1",
            bgp_asn=str(props.customer_gateway_bgp_asn),
            ip_address=public_ip.ip_address,
            tags={"Name": f"{props.name}-azure"},
            provider=aws,
        )
        log_group = CloudwatchLogGroup(
            self,
            "aws-tunnel-logs",
            name=f"/aws/vpn/{props.name}",
            retention_in_days=props.tunnel_log_retention_days,
            kms_key_id=props.tunnel_log_kms_key_arn,
            provider=aws,
            # The tunnels' history (when the DR link went down) outlives a rebuilt VPN.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        options: dict[str, Any] = {
            "ike_versions": ["ikev2"],
            "phase1_encryption_algorithms": AWS_ENCRYPTION,
            "phase1_integrity_algorithms": AWS_INTEGRITY,
            "phase1_dh_group_numbers": AWS_DH_GROUPS,
            "phase1_lifetime_seconds": IKE_LIFETIME_SECONDS,
            "phase2_encryption_algorithms": AWS_ENCRYPTION,
            "phase2_integrity_algorithms": AWS_INTEGRITY,
            "phase2_dh_group_numbers": AWS_DH_GROUPS,
            "phase2_lifetime_seconds": IPSEC_LIFETIME_SECONDS,
            "dpd_timeout_action": "restart",
            "startup_action": "start",
        }
        tunnel: dict[str, Any] = {f"tunnel{n}_{key}": value for n in (1, 2) for key, value in options.items()}
        tunnel["tunnel1_log_options"] = VpnConnectionTunnel1LogOptions(
            cloudwatch_log_options=VpnConnectionTunnel1LogOptionsCloudwatchLogOptions(
                log_enabled=True, log_group_arn=log_group.arn, log_output_format="json"
            )
        )
        tunnel["tunnel2_log_options"] = VpnConnectionTunnel2LogOptions(
            cloudwatch_log_options=VpnConnectionTunnel2LogOptionsCloudwatchLogOptions(
                log_enabled=True, log_group_arn=log_group.arn, log_output_format="json"
            )
        )
        connection = VpnConnection(
            self,
            "aws-connection",
            type="ipsec.1",
            vpn_gateway_id=vgw.id,
            customer_gateway_id=customer_gateway.id,
            static_routes_only=True,
            tags={"Name": f"{props.name}-azure"},
            provider=aws,
            **tunnel,
        )
        self.aws_vpn_connection_id = connection.id
        VpnConnectionRoute(
            self,
            "aws-route-to-azure",
            vpn_connection_id=connection.id,
            destination_cidr_block=props.azure_vnet_cidr,
            provider=aws,
        )

        # Azure side: one local network gateway and connection per AWS tunnel.
        self.azure_connections: list[VirtualNetworkGatewayConnection] = []
        for number, address, shared_key in (
            (1, connection.tunnel1_address, connection.tunnel1_preshared_key),
            (2, connection.tunnel2_address, connection.tunnel2_preshared_key),
        ):
            local = LocalNetworkGateway(
                self,
                f"aws-tunnel{number}",
                name=f"{props.name}-aws-tunnel{number}",
                resource_group_name=rg,
                location=location,
                gateway_address=address,
                address_space=[props.aws_vpc_cidr],
                tags=tags,
            )
            self.azure_connections.append(
                VirtualNetworkGatewayConnection(
                    self,
                    f"connection-tunnel{number}",
                    name=f"{props.name}-aws-tunnel{number}",
                    resource_group_name=rg,
                    location=location,
                    type="IPsec",
                    connection_protocol="IKEv2",
                    virtual_network_gateway_id=gateway.id,
                    local_network_gateway_id=local.id,
                    # Generated by AWS for this tunnel; never in code or configuration.
                    shared_key=shared_key,
                    dpd_timeout_seconds=45,
                    ipsec_policy=VirtualNetworkGatewayConnectionIpsecPolicy(**AZURE_IPSEC_POLICY),
                    tags=tags,
                )
            )
