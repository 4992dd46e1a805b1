"""The DR site's Azure VNet: AKS node, PostgreSQL (delegated), private-endpoint, gateway and DNS resolver subnets with NSGs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.network_security_group import (
    NetworkSecurityGroup,
    NetworkSecurityGroupSecurityRule,
)
from cdktf_cdktf_provider_azurerm.subnet import Subnet, SubnetDelegation, SubnetDelegationServiceDelegation
from cdktf_cdktf_provider_azurerm.subnet_network_security_group_association import (
    SubnetNetworkSecurityGroupAssociation,
)
from cdktf_cdktf_provider_azurerm.virtual_network import VirtualNetwork
from constructs import Construct

from iworkz.policy import suppress
from iworkz.policy.rules import OPEN_INGRESS

SUBNET_KEYS = ("aks_nodes", "postgres", "private_endpoints", "gateway", "dns_resolver")
# Azure requires this exact name for the virtual network gateway's subnet.
GATEWAY_SUBNET_NAME = "GatewaySubnet"
POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
DNS_RESOLVER_DELEGATION = "Microsoft.Network/dnsResolvers"
DNS_PORT = 53
POSTGRES_PORT = 5432
HTTPS_PORT = 443


@dataclass(frozen=True)
class AzureVnetProps:
    """Properties of :class:`AzureVnet`.

    | name | meaning | default |
    |---|---|---|
    | name | VNet name; subnets and NSGs are named after it | required |
    | resource_group_name | resource group of the VNet | required |
    | location | Azure region | required |
    | address_space | the VNet CIDR | required |
    | subnets | CIDR per subnet: ``aks_nodes``, ``postgres``, ``private_endpoints``, ``gateway``, ``dns_resolver`` | required |
    | aks_public_ingress_ports | ports the AKS subnet accepts from the internet (the failover ingress) | none |
    | tags | tags of the VNet and NSGs | none |

    Inbound traffic to PostgreSQL (5432), the private endpoints (443) and the DNS resolver (53) is allowed only from
    ``VirtualNetwork`` (the VNet and the AWS VPC learned over the VPN); internet traffic is
    denied explicitly. The GatewaySubnet carries no NSG: Azure does not support one there.
    """

    name: str
    resource_group_name: str
    location: str
    address_space: str
    subnets: Mapping[str, str]
    aks_public_ingress_ports: Sequence[int] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [key for key in SUBNET_KEYS if key not in self.subnets]
        unknown = [key for key in self.subnets if key not in SUBNET_KEYS]
        if missing or unknown:
            raise ValueError(
                f"VNet {self.name}: subnets need exactly {SUBNET_KEYS}; missing {missing}, unknown {unknown}"
            )
        for port in self.aks_public_ingress_ports:
            if port in (22, 80, 3389):
                raise ValueError(f"VNet {self.name}: port {port} must not be open to the internet (use 443)")


class AzureVnet(Construct):
    """VNet, five subnets and an NSG on each subnet that supports one.

    Attributes: ``vnet``, ``vnet_id``, ``vnet_name``, ``subnet_ids`` (by key),
    ``aks_nodes_subnet_id``, ``postgres_subnet_id``, ``private_endpoints_subnet_id``,
    ``gateway_subnet_id``, ``dns_resolver_subnet_id``, ``nsg_ids`` (by subnet key).
    """

    def __init__(self, scope: Construct, id: str, props: AzureVnetProps) -> None:
        super().__init__(scope, id)
        self.vnet = VirtualNetwork(
            self,
            "vnet",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            address_space=[props.address_space],
            tags=dict(props.tags),
        )
        self.vnet_id = self.vnet.id
        self.vnet_name = self.vnet.name
        subnets = {
            "aks_nodes": Subnet(
                self,
                "aks-nodes",
                name=f"{props.name}-aks-nodes",
                resource_group_name=props.resource_group_name,
                virtual_network_name=self.vnet.name,
                address_prefixes=[props.subnets["aks_nodes"]],
                default_outbound_access_enabled=False,
            ),
            "postgres": Subnet(
                self,
                "postgres",
                name=f"{props.name}-postgres",
                resource_group_name=props.resource_group_name,
                virtual_network_name=self.vnet.name,
                address_prefixes=[props.subnets["postgres"]],
                default_outbound_access_enabled=False,
                delegation=[
                    SubnetDelegation(
                        name="postgres-flexible-server",
                        service_delegation=SubnetDelegationServiceDelegation(
                            name=POSTGRES_DELEGATION,
                            actions=["Microsoft.Network/virtualNetworks/subnets/join/action"],
                        ),
                    )
                ],
            ),
            "private_endpoints": Subnet(
                self,
                "private-endpoints",
                name=f"{props.name}-private-endpoints",
                resource_group_name=props.resource_group_name,
                virtual_network_name=self.vnet.name,
                address_prefixes=[props.subnets["private_endpoints"]],
                default_outbound_access_enabled=False,
                # NSG rules apply to the private endpoints too.
                private_endpoint_network_policies="Enabled",
            ),
            "gateway": Subnet(
                self,
                "gateway",
                name=GATEWAY_SUBNET_NAME,
                resource_group_name=props.resource_group_name,
                virtual_network_name=self.vnet.name,
                address_prefixes=[props.subnets["gateway"]],
            ),
            "dns_resolver": Subnet(
                self,
                "dns-resolver",
                name=f"{props.name}-dns-resolver",
                resource_group_name=props.resource_group_name,
                virtual_network_name=self.vnet.name,
                address_prefixes=[props.subnets["dns_resolver"]],
                default_outbound_access_enabled=False,
                delegation=[
                    SubnetDelegation(
                        name="dns-resolver",
                        service_delegation=SubnetDelegationServiceDelegation(
                            name=DNS_RESOLVER_DELEGATION,
                            actions=["Microsoft.Network/virtualNetworks/subnets/join/action"],
                        ),
                    )
                ],
            ),
        }
        self.subnet_ids = {key: subnet.id for key, subnet in subnets.items()}
        self.aks_nodes_subnet_id = self.subnet_ids["aks_nodes"]
        self.postgres_subnet_id = self.subnet_ids["postgres"]
        self.private_endpoints_subnet_id = self.subnet_ids["private_endpoints"]
        self.gateway_subnet_id = self.subnet_ids["gateway"]
        self.dns_resolver_subnet_id = self.subnet_ids["dns_resolver"]

        rules = {
            "aks_nodes": [
                _allow_internet(f"allow-internet-{port}", 100 + index, port)
                for index, port in enumerate(props.aks_public_ingress_ports)
            ],
            "postgres": [_allow_vnet("allow-vnet-postgres", 100, POSTGRES_PORT), _deny_internet()],
            "private_endpoints": [_allow_vnet("allow-vnet-https", 100, HTTPS_PORT), _deny_internet()],
            # DNS queries arrive over UDP and TCP.
            "dns_resolver": [_allow_vnet("allow-vnet-dns", 100, DNS_PORT, protocol="*"), _deny_internet()],
        }
        self.nsg_ids: dict[str, str] = {}
        for key, security_rules in rules.items():
            construct_id = key.replace("_", "-")
            nsg = NetworkSecurityGroup(
                self,
                f"{construct_id}-nsg",
                name=f"{props.name}-{construct_id}-nsg",
                resource_group_name=props.resource_group_name,
                location=props.location,
                security_rule=security_rules,
                tags=dict(props.tags),
            )
            SubnetNetworkSecurityGroupAssociation(
                self,
                f"{construct_id}-nsg-association",
                subnet_id=subnets[key].id,
                network_security_group_id=nsg.id,
            )
            self.nsg_ids[key] = nsg.id
            if key == "aks_nodes" and props.aks_public_ingress_ports:
                suppress(
                    nsg,
                    OPEN_INGRESS,
                    "the DR cluster's ingress load balancer serves the public site over HTTPS after a failover",
                )


def _rule(
    name: str, priority: int, access: str, source: str, port: str, protocol: str = "Tcp"
) -> NetworkSecurityGroupSecurityRule:
    return NetworkSecurityGroupSecurityRule(
        name=name,
        priority=priority,
        direction="Inbound",
        access=access,
        protocol=protocol if port != "*" else "*",
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range=port,
        description=f"{access} {source} to port {port}",
    )


def _allow_vnet(name: str, priority: int, port: int, protocol: str = "Tcp") -> NetworkSecurityGroupSecurityRule:
    # VirtualNetwork covers the VNet and the prefixes learned through the VPN gateway (the AWS VPC).
    return _rule(name, priority, "Allow", "VirtualNetwork", str(port), protocol)


def _allow_internet(name: str, priority: int, port: int) -> NetworkSecurityGroupSecurityRule:
    return _rule(name, priority, "Allow", "Internet", str(port))


def _deny_internet() -> NetworkSecurityGroupSecurityRule:
    return _rule("deny-internet", 4000, "Deny", "Internet", "*")
