"""`network-<environment>`: the seed's three-AZ VPC (12.4 module "vpc", 12.1 networking)."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from iworkz.app import StackContext
from iworkz_constructs.vpc import Vpc, VpcProps
from stacks.base import IworkzStack


class NetworkStack(IworkzStack):
    """Holds ``vpc`` (:class:`~iworkz_constructs.vpc.Vpc`), which later stacks reference."""

    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        network = context.env.network
        self.vpc = Vpc(
            self,
            "vpc",
            VpcProps(
                name=context.prefix,
                cidr_block=network.vpc_cidr,
                availability_zones=tuple(network.availability_zones),
                public_subnet_cidrs=tuple(network.tier_cidrs("public")),
                private_subnet_cidrs=tuple(network.tier_cidrs("private")),
                database_subnet_cidrs=tuple(network.tier_cidrs("database")),
                account_id=self.aws.account_id,
                region=self.aws.region,
                single_nat_gateway=network.nat_gateways == "single",
                # The EKS cluster is named like the seed's: <project>-<environment>.
                cluster_name=context.prefix,
                flow_log_retention_days=network.flow_log_retention_days,
                gateway_endpoints=("s3",),
                interface_endpoints=tuple(network.interface_endpoints),
            ),
        )
        vpc = self.vpc
        for name, value, description in (
            ("vpc_id", vpc.vpc_id, "ID of the VPC (seed output name)"),
            ("vpc_cidr", vpc.vpc_cidr, "IPv4 CIDR of the VPC"),
            ("public_subnet_ids", vpc.public_subnet_ids, "public subnets, one per availability zone"),
            ("private_subnet_ids", vpc.private_subnet_ids, "private subnets, one per availability zone"),
            ("database_subnet_ids", vpc.database_subnet_ids, "database subnets, one per availability zone"),
            ("public_subnet_cidrs", vpc.public_subnet_cidrs, "CIDRs of the public subnets"),
            ("private_subnet_cidrs", vpc.private_subnet_cidrs, "CIDRs of the private subnets"),
            ("database_subnet_cidrs", vpc.database_subnet_cidrs, "CIDRs of the database subnets"),
            ("db_subnet_group_name", vpc.db_subnet_group_name, "RDS subnet group over the database subnets"),
            (
                "elasticache_subnet_group_name",
                vpc.elasticache_subnet_group_name,
                "ElastiCache subnet group over the database subnets",
            ),
            ("nat_public_ips", vpc.nat_public_ips, "public IPs of the NAT gateways (egress allow-lists)"),
        ):
            TerraformOutput(self, name, value=value, description=description)


def build(scope: Construct, context: StackContext, dependencies: Mapping[str, TerraformStack]) -> NetworkStack:
    return NetworkStack(scope, context)
