"""Network section: the VPC and its three subnet tiers (seed 12.4, module "vpc")."""

from __future__ import annotations

import difflib
import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from iworkz.config import catalog
from iworkz.config.base import Model, cloudwatch_retention_days, parse_cidr, rule_error, validate_private_cidr

Tier = Literal["public", "private", "database"]
TIERS: tuple[Tier, ...] = ("public", "private", "database")


# The retention periods CloudWatch Logs accepts, in days (catalog/aws.yaml).
CLOUDWATCH_RETENTION_DAYS = cloudwatch_retention_days()
MIN_FLOW_LOG_RETENTION_DAYS = 365
REQUIRED_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "logs")
# AWS subnets (and so VPCs) are /16 to /28.
LARGEST_PREFIX, SMALLEST_PREFIX = 16, 28


def _validate_retention(value: int) -> int:
    allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= MIN_FLOW_LOG_RETENTION_DAYS]
    if value not in allowed:
        raise rule_error(
            f"flow logs are kept at least {MIN_FLOW_LOG_RETENTION_DAYS} days, in a period CloudWatch Logs "
            f"accepts ({', '.join(map(str, allowed))})",
            "use 365 or a longer period from that list",
        )
    return value


def _validate_service(value: str) -> str:
    if value == "s3":
        raise rule_error("S3 always has a gateway endpoint (free); it needs no interface endpoint", "remove s3")
    services = catalog.values("aws.yaml", "interface_endpoint_services")
    if value not in services:
        close = difflib.get_close_matches(value, services, n=1)
        raise rule_error(
            "is not an AWS service with an interface endpoint known here (iworkz/config/catalog/aws.yaml: "
            "interface_endpoint_services)",
            f"did you mean {close[0]!r}?" if close else "write the part after com.amazonaws.<region>., e.g. 'ecr.api'",
        )
    return value


def _validate_vpc_size(value: str) -> str:
    prefix = parse_cidr(value).prefixlen
    if not LARGEST_PREFIX <= prefix <= SMALLEST_PREFIX:
        raise rule_error(
            f"an AWS VPC is /{LARGEST_PREFIX} (65,536 addresses) to /{SMALLEST_PREFIX} (16 addresses)",
            "use a /16, e.g. 10.3.0.0/16",
        )
    return value


def _validate_subnet_size(value: str) -> str:
    prefix = parse_cidr(value).prefixlen
    if not LARGEST_PREFIX <= prefix <= SMALLEST_PREFIX:
        raise rule_error(
            f"an AWS subnet is /{LARGEST_PREFIX} to /{SMALLEST_PREFIX}", "use e.g. a /24 per availability zone"
        )
    return value


EndpointService = Annotated[str, AfterValidator(_validate_service)]
VpcCidr = Annotated[str, AfterValidator(validate_private_cidr), AfterValidator(_validate_vpc_size)]
SubnetCidr = Annotated[str, AfterValidator(validate_private_cidr), AfterValidator(_validate_subnet_size)]


class SubnetLayout(Model):
    """Where each tier starts: subnet i of a tier is ``cidrsubnet(vpc_cidr, newbits, offset + i)``.

    The seed's production layout (10.0.1.0/24, 10.0.101.0/24, 10.0.201.0/24, ...) is
    newbits 8 with private at 1, public at 101 and database at 201.
    """

    newbits: int = Field(8, ge=1, le=12)
    private: int = Field(1, ge=0)
    public: int = Field(101, ge=0)
    database: int = Field(201, ge=0)


class NetworkConfig(Model):
    vpc_cidr: VpcCidr
    availability_zones: list[str] = Field(min_length=1)
    subnet_layout: SubnetLayout = SubnetLayout()
    # Explicit subnet CIDRs per tier; when a tier is absent it is computed from subnet_layout.
    subnets: dict[Tier, list[SubnetCidr]] = Field(default_factory=dict)
    nat_gateways: Literal["one_per_az", "single"] = "one_per_az"
    # At least a year (seed 12.4 flow logs; audit), in a period CloudWatch Logs accepts.
    flow_log_retention_days: Annotated[int, AfterValidator(_validate_retention)] = MIN_FLOW_LOG_RETENTION_DAYS
    # Interface endpoints (com.amazonaws.<region>.<service>) so private nodes reach AWS APIs
    # without the internet; S3 always gets a gateway endpoint.
    interface_endpoints: list[EndpointService] = Field(
        default_factory=lambda: ["ecr.api", "ecr.dkr", "sts", "logs"], min_length=1
    )

    @model_validator(mode="after")
    def _check_layout(self) -> NetworkConfig:
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise rule_error(
                "availability zones must be distinct",
                "list each zone once",
                field="availability_zones",
                value=self.availability_zones,
            )
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            raise rule_error(
                "interface endpoints must be distinct",
                "list each service once",
                field="interface_endpoints",
                value=self.interface_endpoints,
            )
        missing = [s for s in REQUIRED_ENDPOINTS if s not in self.interface_endpoints]
        if missing:
            raise rule_error(
                f"private nodes need the interface endpoints {', '.join(REQUIRED_ENDPOINTS)} "
                f"(missing: {', '.join(missing)})",
                "add the missing services",
                field="interface_endpoints",
                value=self.interface_endpoints,
            )
        vpc = parse_cidr(self.vpc_cidr)
        subnet_prefix = vpc.prefixlen + self.subnet_layout.newbits
        if len(self.subnets) < len(TIERS) and subnet_prefix > SMALLEST_PREFIX:
            raise rule_error(
                f"{vpc} split with newbits {self.subnet_layout.newbits} gives /{subnet_prefix} subnets; "
                f"AWS subnets are at most /{SMALLEST_PREFIX}",
                f"use newbits {SMALLEST_PREFIX - vpc.prefixlen} or less, or a larger VPC",
                field="subnet_layout.newbits",
                value=self.subnet_layout.newbits,
            )
        capacity = 2**self.subnet_layout.newbits
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier in TIERS:
            explicit = self.subnets.get(tier)
            if explicit is not None:
                if len(explicit) != len(self.availability_zones):
                    raise rule_error(
                        f"needs one subnet per availability zone ({len(self.availability_zones)})",
                        "list exactly one CIDR per zone, in zone order",
                        field=f"subnets.{tier}",
                        value=explicit,
                    )
            else:
                start = getattr(self.subnet_layout, tier)
                if start + len(self.availability_zones) > capacity:
                    raise rule_error(
                        f"the {tier} tier runs past the end of the VPC CIDR {vpc} "
                        f"({len(self.availability_zones)} subnets of /{vpc.prefixlen + self.subnet_layout.newbits} "
                        f"from index {start}; at most {capacity} fit)",
                        "lower the offset or the newbits",
                        field=f"subnet_layout.{tier}",
                        value=start,
                    )
            for index, cidr in enumerate(self.tier_cidrs(tier)):
                network = ipaddress.IPv4Network(cidr)
                if not network.subnet_of(vpc):
                    raise rule_error(
                        f"subnet {cidr} lies outside the VPC CIDR {vpc}",
                        f"choose subnets inside {vpc}",
                        field=f"subnets.{tier}[{index}]",
                        value=cidr,
                    )
                for other_name, other in seen:
                    if network.overlaps(other):
                        raise rule_error(
                            f"subnet {cidr} overlaps {other_name} subnet {other}",
                            "give every subnet its own range",
                            field=f"subnets.{tier}[{index}]",
                            value=cidr,
                        )
                seen.append((f"{tier}[{index}]", network))
        return self

    def tier_cidrs(self, tier: Tier) -> list[str]:
        """The CIDR of each subnet of a tier, one per availability zone."""
        explicit = self.subnets.get(tier)
        if explicit is not None:
            return list(explicit)
        vpc = parse_cidr(self.vpc_cidr)
        start = getattr(self.subnet_layout, tier)
        new_prefix = vpc.prefixlen + self.subnet_layout.newbits
        size = 2 ** (32 - new_prefix)
        base = int(vpc.network_address)
        return [
            str(ipaddress.ip_network((base + (start + i) * size, new_prefix)))
            for i in range(len(self.availability_zones))
        ]
