"""Shared building blocks of the configuration models."""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError


class Model(BaseModel):
    """Frozen, strict-keyed model: configuration is data, validated once at the edge."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def rule_error(rule: str, fix: str = "", *, field: str | None = None, value: Any = None) -> Exception:
    """A validation error carrying the broken rule and its fix.

    Model-level validators pass ``field`` (relative to the model) and ``value`` so that the
    message names the offending field rather than the whole section.
    """
    ctx: dict[str, Any] = {"rule": rule, "fix": fix}
    if field is not None:
        ctx["field"] = field
        ctx["value"] = value
    return PydanticCustomError("iworkz_rule", "{rule}", ctx)


def parse_cidr(value: Any) -> ipaddress.IPv4Network:
    """Parses an IPv4 CIDR block, rejecting host bits and non-string input."""
    if not isinstance(value, str):
        raise rule_error("must be an IPv4 CIDR block written as a string", "e.g. '10.0.0.0/16'")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise rule_error(f"must be an IPv4 CIDR block with no host bits set ({exc})", "e.g. '10.0.0.0/16'") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise rule_error("must be an IPv4 CIDR block", "e.g. '10.0.0.0/16'")
    return network


def validate_cidr(value: Any) -> str:
    return str(parse_cidr(value))


def validate_private_cidr(value: Any) -> str:
    network = parse_cidr(value)
    if not network.is_private:
        raise rule_error("must be a private (RFC 1918) range", "use a block inside 10.0.0.0/8 or 172.16.0.0/12")
    return str(network)


# Commercial AWS regions; an unknown region is a typo, not a new region.
AWS_REGIONS = frozenset(
    [
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ]
)


def validate_aws_region(value: Any) -> str:
    if value not in AWS_REGIONS:
        raise rule_error(
            "must be a known AWS region",
            "use e.g. 'ap-northeast-1' (Tokyo) or 'ap-northeast-3' (Osaka)",
        )
    return str(value)
