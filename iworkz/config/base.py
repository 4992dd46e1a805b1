"""Shared building blocks of the configuration models."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

from iworkz.config import catalog


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


def substitute_templates(value: Any, info: ValidationInfo) -> Any:
    """Fills ``{environment}``, ``{project}`` and ``{prefix}`` (``<project>-<environment>``) in a value.

    Values that name an environment are derived from its name this way, so that a copied file
    names its own environment (README: adding an environment). ``{account_id}`` stays: the
    stacks fill it in at plan time.
    """
    templates = (info.context or {}).get("templates", {})
    if isinstance(value, str):
        for key, replacement in templates.items():
            value = value.replace("{" + key + "}", replacement)
    return value


Templated = BeforeValidator(substitute_templates)


def reject_number(field: str) -> Any:
    """A before-validator: a string field written as an unquoted number (``1.30``) is refused,
    quoting the number as it was written (YAML reads ``1.30`` as the number ``1.3``)."""

    def check(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            written = getattr(value, "text", str(value))
            raise rule_error(
                f"must be a quoted string: YAML reads {written} as the number {value}",
                f'write {field}: "{written}"',
            )
        return value

    return check


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


def cloudwatch_retention_days() -> tuple[int, ...]:
    return tuple(catalog.values("aws.yaml", "cloudwatch_retention_days"))


def validate_log_retention(value: int) -> int:
    """CloudWatch Logs keeps a log group only for one of its fixed periods."""
    allowed = cloudwatch_retention_days()
    if value not in allowed:
        close = min(allowed, key=lambda days: abs(days - value))
        raise rule_error(
            f"CloudWatch Logs keeps log groups for one of {', '.join(map(str, allowed))} days",
            f"use {close}",
        )
    return value


LogRetentionDays = Annotated[int, AfterValidator(validate_log_retention)]


def validate_public_allow_list_cidr(value: Any) -> str:
    """A range of a public endpoint's allow-list: globally routable, never a placeholder."""
    network = parse_cidr(value)
    if network.prefixlen == 0:
        raise rule_error("must not be 0.0.0.0/0 (open to the whole internet)", "list the operators' egress CIDRs")
    if any(network.subnet_of(doc) for doc in DOCUMENTATION_RANGES):
        raise rule_error(
            "is a documentation range (RFC 5737), a placeholder that matches no real client",
            "list the real egress CIDRs of the operators or runners, or leave the list empty (private access only)",
        )
    if not network.is_global:
        raise rule_error(
            "is not a public (globally routable) range: a public endpoint never sees it as a source",
            "list public egress CIDRs; private networks reach the private endpoint over the VPC or the VPN",
        )
    return str(network)


# RFC 5737 documentation ranges: examples in manuals, never a real address.
DOCUMENTATION_RANGES = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
PublicAllowListCidr = Annotated[str, AfterValidator(validate_public_allow_list_cidr)]


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
