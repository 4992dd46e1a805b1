"""`network-<environment>`: the seed's three-AZ VPC (12.4 module "vpc", 12.1 networking)."""

from __future__ import annotations

from iworkz.contracts import AlertsOutputs, NetworkOutputs
from iworkz_constructs.vpc import Vpc, VpcProps
from stacks.base import IworkzStack


class NetworkStack(IworkzStack):
    """The VPC (:class:`~iworkz_constructs.vpc.Vpc`) and its NAT gateways' alarms; publishes :class:`NetworkOutputs`."""

    def build(self, alerts: AlertsOutputs) -> NetworkOutputs:
        context = self.context
        network = context.env.network
        self.vpc = Vpc(
            self,
            "vpc",
            VpcProps(
                name=context.prefix,
                cidr_block=network.vpc_cidr,
                availability_zones=tuple(network.availability_zones),
                public_subnet_cidrs=list(network.tier_cidrs("public")),
                private_subnet_cidrs=list(network.tier_cidrs("private")),
                database_subnet_cidrs=list(network.tier_cidrs("database")),
                account_id=self.aws.account_id,
                region=self.aws.region,
                single_nat_gateway=network.nat_gateways == "single",
                # The EKS cluster is named like the seed's: <project>-<environment>.
                cluster_name=context.prefix,
                flow_log_retention_days=network.flow_log_retention_days,
                gateway_endpoints=("s3",),
                interface_endpoints=tuple(network.interface_endpoints),
                alarm_actions=alerts.alarm_actions(),
                alarms=context.env.alarms.settings("nat_gateways"),
            ),
        )
        self.alarm_dashboard()
        return NetworkOutputs.of(
            context,
            vpc_id=self.vpc.vpc_id,
            vpc_cidr=self.vpc.vpc_cidr,
            public_subnet_cidrs=list(self.vpc.public_subnet_cidrs),
            private_subnet_cidrs=list(self.vpc.private_subnet_cidrs),
            database_subnet_cidrs=list(self.vpc.database_subnet_cidrs),
            public_subnet_ids=list(self.vpc.public_subnet_ids),
            private_subnet_ids=list(self.vpc.private_subnet_ids),
            database_subnet_ids=list(self.vpc.database_subnet_ids),
            private_route_table_ids=list(self.vpc.private_route_table_ids),
            database_route_table_ids=list(self.vpc.database_route_table_ids),
            db_subnet_group_name=self.vpc.db_subnet_group_name,
            elasticache_subnet_group_name=self.vpc.elasticache_subnet_group_name,
            nat_public_ips=list(self.vpc.nat_public_ips),
        )
