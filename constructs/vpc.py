"""A three-tier VPC (public, private, database) over several availability zones (seed 12.4, module "vpc").

Each NAT gateway alarms on port allocation errors (its connections to one destination are
exhausted) and dropped packets, with the thresholds of :class:`NatGatewayAlarms`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.default_network_acl import (
    DefaultNetworkAcl,
    DefaultNetworkAclEgress,
    DefaultNetworkAclIngress,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc as VpcResource
from constructs import Construct

from iworkz_constructs.alarm_settings import NatGatewayAlarms, check_alerting, check_settings
from iworkz_constructs.alarms import AlarmActions, AlarmSpec, Metric, optional_alarms
from iworkz_constructs.flow_logs import MIN_RETENTION_DAYS, FlowLogs, FlowLogsProps
from iworkz_constructs.vpc_endpoints import VpcEndpoints, VpcEndpointsProps

ANYWHERE = "0.0.0.0/0"
TIERS = ("public", "private", "database")
EPHEMERAL_PORTS = (1024, 65535)


@dataclass(frozen=True)
class VpcProps:
    """Properties of :class:`Vpc`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of every resource, e.g. ``iworkz-production`` | required |
    | cidr_block | the VPC's IPv4 CIDR, e.g. ``10.0.0.0/16`` | required |
    | availability_zones | zones, in order; subnet i of each tier lives in zone i | required |
    | public_subnet_cidrs | one CIDR per zone: load balancers and NAT gateways | required |
    | private_subnet_cidrs | one CIDR per zone: nodes and pods, out through the NAT of their zone | required |
    | database_subnet_cidrs | one CIDR per zone: databases, no route to the internet | required |
    | account_id | the owning account (token from the caller identity) | required |
    | region | the VPC's region (endpoint service names, flow-log key) | required |
    | single_nat_gateway | one NAT gateway in the first zone instead of one per zone (cost over availability) | False |
    | cluster_name | EKS cluster whose discovery tags (``kubernetes.io/cluster/<name>``, role/elb, role/internal-elb) go on the VPC and subnets | no tags |
    | karpenter_discovery | also tag private subnets ``karpenter.sh/discovery = <cluster_name>`` | False |
    | flow_log_retention_days | days the flow-log group keeps records (at least 365) | 365 |
    | gateway_endpoints | gateway endpoints on the private and database route tables | ``("s3",)`` |
    | interface_endpoints | interface endpoints (private DNS) in the private subnets, HTTPS from the VPC only | none |
    | public_ingress_tcp_ports | TCP ports the default network ACL admits from the internet besides return traffic | ``(80, 443)`` |
    | prevent_destroy | refuse to destroy the flow-log group and key in Terraform | True |
    | tags | extra tags on the VPC and subnets | none |
    | alarm_actions | alert topics of the NAT gateways' alarms | required unless alarms_opt_out |
    | alarms_opt_out | reason for creating no alarms | none |
    | alarms | thresholds of the NAT gateways' alarms | :class:`NatGatewayAlarms` defaults |

    Secure defaults: no public IP mapped on launch in any subnet (NAT gateways and load
    balancers bring their own), the default security group stripped of every rule, the
    default network ACL managed (VPC traffic, the listed ports and return traffic in),
    flow logs of all traffic to a KMS-encrypted log group.
    """

    name: str
    cidr_block: str
    availability_zones: Sequence[str]
    public_subnet_cidrs: Sequence[str]
    private_subnet_cidrs: Sequence[str]
    database_subnet_cidrs: Sequence[str]
    account_id: str
    region: str
    single_nat_gateway: bool = False
    cluster_name: str | None = None
    karpenter_discovery: bool = False
    flow_log_retention_days: int = MIN_RETENTION_DAYS
    gateway_endpoints: Sequence[str] = ("s3",)
    interface_endpoints: Sequence[str] = ()
    public_ingress_tcp_ports: Sequence[int] = (80, 443)
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    alarm_actions: AlarmActions | None = None
    alarms_opt_out: str | None = None
    alarms: NatGatewayAlarms = field(default_factory=NatGatewayAlarms)

    def __post_init__(self) -> None:
        check_alerting(f"VPC {self.name}", self.alarm_actions, self.alarms_opt_out)
        check_settings(self.alarms)
        zones = list(self.availability_zones)
        if not zones:
            raise ValueError("availability_zones must list at least one zone")
        if len(set(zones)) != len(zones):
            raise ValueError(f"availability_zones list a zone twice: {zones}")
        vpc = ipaddress.ip_network(self.cidr_block)
        seen: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for tier in TIERS:
            cidrs = self.subnet_cidrs(tier)
            if len(cidrs) != len(zones):
                raise ValueError(f"{tier}_subnet_cidrs: {len(cidrs)} CIDRs for {len(zones)} availability zones")
            for cidr in cidrs:
                network = ipaddress.ip_network(cidr)
                if network.version != vpc.version or not network.subnet_of(vpc):  # type: ignore[arg-type]
                    raise ValueError(f"{tier}_subnet_cidrs: {cidr} lies outside the VPC CIDR {vpc}")
                for other_name, other in seen:
                    if network.overlaps(other):
                        raise ValueError(f"{tier}_subnet_cidrs: {cidr} overlaps {other_name} {other}")
                seen.append((f"{tier} subnet", network))
        if self.karpenter_discovery and not self.cluster_name:
            raise ValueError("karpenter_discovery needs cluster_name")
        if len(set(self.public_ingress_tcp_ports)) > 10:
            raise ValueError("public_ingress_tcp_ports: at most 10 ports (network ACLs hold few rules)")
        for port in self.public_ingress_tcp_ports:
            if not 0 < port < EPHEMERAL_PORTS[0]:
                raise ValueError(f"public_ingress_tcp_ports: {port} is not a service port (1-1023)")

    def subnet_cidrs(self, tier: str) -> list[str]:
        return list(getattr(self, f"{tier}_subnet_cidrs"))


class Vpc(Construct):
    """VPC, subnets per tier and zone, internet and NAT gateways, routing, subnet groups,
    flow logs and endpoints.

    Attributes (the network stack's contract): ``vpc_id``, ``vpc_cidr``, ``availability_zones``,
    ``public_subnet_ids``, ``private_subnet_ids``, ``database_subnet_ids`` (one per zone),
    ``public_route_table_ids``, ``private_route_table_ids``, ``database_route_table_ids``,
    ``db_subnet_group_name``, ``elasticache_subnet_group_name``; also
    ``public_subnet_cidrs``, ``private_subnet_cidrs``, ``database_subnet_cidrs``,
    ``nat_gateway_ids``, ``nat_public_ips``, ``flow_logs``, ``endpoints`` and ``alarms`` (the NAT
    gateways'; None with ``alarms_opt_out``).
    """

    def __init__(self, scope: Construct, id: str, props: VpcProps) -> None:
        super().__init__(scope, id)
        name = props.name
        zones = list(props.availability_zones)
        cluster_tags = {f"kubernetes.io/cluster/{props.cluster_name}": "shared"} if props.cluster_name else {}
        vpc = VpcResource(
            self,
            "vpc",
            cidr_block=props.cidr_block,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**props.tags, **cluster_tags, "Name": f"{name}-vpc"},
        )
        self.vpc_id: str = vpc.id
        self.vpc_cidr: str = props.cidr_block
        self.availability_zones: list[str] = zones

        role_tags = {
            "public": {"kubernetes.io/role/elb": "1"} if props.cluster_name else {},
            "private": {"kubernetes.io/role/internal-elb": "1"} if props.cluster_name else {},
            "database": {},
        }
        if props.karpenter_discovery:
            role_tags["private"] = {**role_tags["private"], "karpenter.sh/discovery": str(props.cluster_name)}
        subnets: dict[str, list[Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [
                Subnet(
                    self,
                    f"{tier}-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={
                        **props.tags,
                        **cluster_tags,
                        **role_tags[tier],
                        "Name": f"{name}-{tier}-{zone}",
                        "Tier": tier,
                    },
                )
                for zone, cidr in zip(zones, props.subnet_cidrs(tier), strict=True)
            ]

        igw = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"})

        nat_zones = zones[:1] if props.single_nat_gateway else zones
        nats: list[NatGateway] = []
        eips: list[Eip] = []
        for zone, public in zip(nat_zones, subnets["public"], strict=False):
            eip = Eip(self, f"nat-eip-{zone}", domain="vpc", tags={"Name": f"{name}-nat-{zone}"}, depends_on=[igw])
            eips.append(eip)
            nats.append(
                NatGateway(
                    self,
                    f"nat-{zone}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public.id,
                    connectivity_type="public",
                    tags={"Name": f"{name}-nat-{zone}"},
                    depends_on=[igw],
                )
            )

        tables: dict[str, list[RouteTable]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for index, (zone, subnet) in enumerate(zip(zones, subnets[tier], strict=True)):
                table = RouteTable(self, f"{tier}-rt-{zone}", vpc_id=vpc.id, tags={"Name": f"{name}-{tier}-{zone}"})
                tables[tier].append(table)
                RouteTableAssociation(self, f"{tier}-rta-{zone}", subnet_id=subnet.id, route_table_id=table.id)
                if tier == "public":
                    Route(
                        self,
                        f"public-internet-{zone}",
                        route_table_id=table.id,
                        destination_cidr_block=ANYWHERE,
                        gateway_id=igw.id,
                    )
                elif tier == "private":
                    nat = nats[index if index < len(nats) else 0]
                    Route(
                        self,
                        f"private-nat-{zone}",
                        route_table_id=table.id,
                        destination_cidr_block=ANYWHERE,
                        nat_gateway_id=nat.id,
                    )
                # database: local routes (and gateway endpoints) only, no way to the internet

        db_group = DbSubnetGroup(
            self,
            "db-subnet-group",
            name=f"{name}-database",
            description=f"Database subnets of {name}",
            subnet_ids=[s.id for s in subnets["database"]],
            tags={"Name": f"{name}-database"},
        )
        cache_group = ElasticacheSubnetGroup(
            self,
            "cache-subnet-group",
            name=f"{name}-cache",
            description=f"ElastiCache subnets of {name} (database tier)",
            subnet_ids=[s.id for s in subnets["database"]],
            tags={"Name": f"{name}-cache"},
        )

        # Adopted and stripped: nothing may use the default group by accident.
        DefaultSecurityGroup(
            self,
            "default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-do-not-use"},
        )
        all_subnets = [s for tier in TIERS for s in subnets[tier]]
        DefaultNetworkAcl(
            self,
            "default-nacl",
            default_network_acl_id=vpc.default_network_acl_id,
            subnet_ids=[s.id for s in all_subnets],
            ingress=network_acl_ingress(props.cidr_block, props.public_ingress_tcp_ports),
            egress=[
                DefaultNetworkAclEgress(
                    rule_no=100, action="allow", protocol="-1", from_port=0, to_port=0, cidr_block=ANYWHERE
                )
            ],
            tags={"Name": f"{name}-default"},
        )

        self.flow_logs = FlowLogs(
            self,
            "flow-logs",
            FlowLogsProps(
                name=name,
                vpc_id=vpc.id,
                account_id=props.account_id,
                region=props.region,
                retention_days=props.flow_log_retention_days,
                traffic_type="ALL",
                prevent_destroy=props.prevent_destroy,
            ),
        )

        private_and_database = [t.id for t in tables["private"] + tables["database"]]
        self.endpoints = VpcEndpoints(
            self,
            "endpoints",
            VpcEndpointsProps(
                name=name,
                vpc_id=vpc.id,
                region=props.region,
                allowed_cidrs=(props.cidr_block,),
                gateway_endpoints=tuple(props.gateway_endpoints),
                gateway_route_table_ids=private_and_database,
                interface_endpoints=tuple(props.interface_endpoints),
                interface_subnet_ids=[s.id for s in subnets["private"]],
            ),
        )

        self.public_subnet_ids: list[str] = [s.id for s in subnets["public"]]
        self.private_subnet_ids: list[str] = [s.id for s in subnets["private"]]
        self.database_subnet_ids: list[str] = [s.id for s in subnets["database"]]
        self.public_subnet_cidrs: list[str] = props.subnet_cidrs("public")
        self.private_subnet_cidrs: list[str] = props.subnet_cidrs("private")
        self.database_subnet_cidrs: list[str] = props.subnet_cidrs("database")
        self.public_route_table_ids: list[str] = [t.id for t in tables["public"]]
        self.private_route_table_ids: list[str] = [t.id for t in tables["private"]]
        self.database_route_table_ids: list[str] = [t.id for t in tables["database"]]
        self.db_subnet_group_name: str = db_group.name
        self.elasticache_subnet_group_name: str = cache_group.name
        self.nat_gateway_ids: list[str] = [n.id for n in nats]
        self.nat_public_ips: list[str] = [e.public_ip for e in eips]
        gateways = {f"{name}-nat-{zone}": nat.id for zone, nat in zip(nat_zones, nats, strict=False)}
        self.alarms = optional_alarms(
            self,
            "nat-alarms",
            props.alarms.team,
            props.alarm_actions,
            lambda: nat_gateway_alarms(gateways, props.alarms),
        )


def nat_gateway_alarms(gateways: Mapping[str, str], settings: NatGatewayAlarms) -> list[AlarmSpec]:
    """Each NAT gateway's alarms (``gateways``: its name -> its id)."""
    errors, dropped = settings.port_allocation_errors_count, settings.packets_dropped_count
    specs = []
    for name, gateway_id in gateways.items():

        def nat(metric: str, gateway_id: str = gateway_id) -> Metric:
            return Metric("AWS/NATGateway", metric, {"NatGatewayId": gateway_id}, "Sum")

        specs += [
            AlarmSpec(
                f"{name}-port-allocation-errors",
                f"{name}-port-allocation-errors",
                f"NAT gateway {name}: more than {errors.value:g} port allocation errors (connections to one "
                "destination exhausted its source ports)",
                errors,
                ">",
                errors.value,
                nat("ErrorPortAllocation"),
                treat_missing_data="notBreaching",
            ),
            AlarmSpec(
                f"{name}-packets-dropped",
                f"{name}-packets-dropped",
                f"NAT gateway {name}: more than {dropped.value:g} packets dropped in {dropped.period_seconds} s",
                dropped,
                ">",
                dropped.value,
                nat("PacketsDropCount"),
                treat_missing_data="notBreaching",
            ),
        ]
    return specs


def network_acl_ingress(vpc_cidr: str, public_tcp_ports: Sequence[int]) -> list[DefaultNetworkAclIngress]:
    """The default network ACL's inbound rules (it is stateless, so return traffic needs its own rules).

    Everything from inside the VPC; from the internet only the public TCP ports (load
    balancers) and the range 1024-65535 that answers to outbound connections arrive on (NAT
    gateways pick their source ports from all of it, so it cannot be narrowed without
    breaking connections). Every other port below 1024 (SSH, telnet, FTP, SMB, ...) is
    closed at the subnet boundary; security groups, which are stateful, guard the rest.
    """
    rules = [
        DefaultNetworkAclIngress(
            rule_no=100, action="allow", protocol="-1", from_port=0, to_port=0, cidr_block=vpc_cidr
        )
    ]
    for offset, port in enumerate(sorted(set(public_tcp_ports))):
        rules.append(
            DefaultNetworkAclIngress(
                rule_no=200 + 10 * offset,
                action="allow",
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_block=ANYWHERE,
            )
        )
    low, high = EPHEMERAL_PORTS
    for offset, protocol in enumerate(("tcp", "udp")):
        rules.append(
            DefaultNetworkAclIngress(
                rule_no=900 + 10 * offset,
                action="allow",
                protocol=protocol,
                from_port=low,
                to_port=high,
                cidr_block=ANYWHERE,
            )
        )
    return rules
