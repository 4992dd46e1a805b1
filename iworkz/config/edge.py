"""Edge section: Cloudflare in front of the ALB, AWS WAF on it, and the per-client rate limit.

The request path (README, Architecture): client -> Cloudflare (TLS, WAF, rate limit, load
balancer) -> the ALB the AWS Load Balancer Controller builds for the workloads' Gateway (AWS
WAF, TLS 1.3 policy, security group admitting only ``origin_ranges``) -> the pods. The valid
values (Cloudflare's published ranges, AWS managed rule groups, rate-limit periods) are dated
data in ``catalog/edge.yaml``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from iworkz.config import catalog
from iworkz.config.base import Model, rule_error
from iworkz.config.network import CLOUDWATCH_RETENTION_DAYS

CATALOG = "edge.yaml"
# The AWS managed rule groups of the baseline: common web exploits, known bad inputs
# (Log4j, ...), SQL injection and Amazon's IP reputation list.
BASELINE_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
# AWS WAF's smallest rate-based limit (requests per evaluation window).
MIN_RATE_LIMIT = 10
_ZONE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def cloudflare_ranges(family: Literal["ipv4", "ipv6"] = "ipv4") -> list[str]:
    """Cloudflare's published address ranges of one family (``catalog/edge.yaml``)."""
    return list(catalog.table(CATALOG, f"cloudflare_{family}").values)


def _origin_range(value: Any) -> str:
    if not isinstance(value, str):
        raise rule_error("must be a CIDR block written as a string", "e.g. '173.245.48.0/20'")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise rule_error(
            f"must be a CIDR block with no host bits set ({exc})",
            "copy the range from https://www.cloudflare.com/ips-v4, e.g. '173.245.48.0/20'",
        ) from None
    published = [ipaddress.ip_network(c) for c in cloudflare_ranges("ipv4") + cloudflare_ranges("ipv6")]
    if not any(network.version == p.version and network.subnet_of(p) for p in published):  # type: ignore[arg-type]
        raise rule_error(
            "the origin admits only Cloudflare: every range must lie inside Cloudflare's published ranges "
            f"(iworkz/config/catalog/edge.yaml, checked {catalog.table(CATALOG, 'cloudflare_ipv4').checked})",
            "list ranges from https://www.cloudflare.com/ips-v4 (the ALB is IPv4), or leave origin_ranges out",
        )
    return str(network)


OriginRange = Annotated[str, AfterValidator(_origin_range)]


class CloudflareConfig(Model):
    # The Cloudflare zone that holds the environment's hosts (api./app. of platform.domain).
    zone: str = "iworkz.com"
    # The zone's TLS settings and its WAF and rate-limit rulesets exist once per zone: exactly one
    # environment of a zone manages them (production; its rules cover the other environments' hosts).
    manage_zone: bool = False
    # Oldest TLS version Cloudflare accepts from clients (TLS 1.3 is always on).
    min_tls_version: Literal["1.2", "1.3"] = "1.2"

    @field_validator("zone")
    @classmethod
    def _zone_name(cls, value: str) -> str:
        if not _ZONE.match(value):
            raise rule_error("must be a Cloudflare zone: a lower-case DNS name", "e.g. 'iworkz.com'")
        return value


class RateLimitConfig(Model):
    """Per-client limit (seed 12.2 Ingress: 100 requests per minute per client address)."""

    requests: int = Field(100, ge=MIN_RATE_LIMIT, le=2_000_000_000)
    period_seconds: int = 60

    @field_validator("requests", mode="before")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value < MIN_RATE_LIMIT:
            raise rule_error(
                f"a rate limit of {value} requests would block every client (AWS WAF's smallest limit is "
                f"{MIN_RATE_LIMIT} per window)",
                "use the design's 100 requests per minute, or another limit of 10 or more",
            )
        return value

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, value: int) -> int:
        allowed = catalog.table(CATALOG, "rate_limit_periods").values
        if value not in allowed:
            raise rule_error(
                f"must be a period both AWS WAF and Cloudflare accept ({', '.join(map(str, allowed))} seconds)",
                "use 60 (the design's requests per minute)",
            )
        return value


class WafConfig(Model):
    # AWS managed rule groups of the web ACL on the ALB, evaluated in this order.
    managed_rule_groups: list[str] = Field(default_factory=lambda: list(BASELINE_RULE_GROUPS), min_length=1)
    # Days the WAF's request logs (a KMS-encrypted CloudWatch log group) are kept.
    log_retention_days: int = 365

    @field_validator("managed_rule_groups")
    @classmethod
    def _known_groups(cls, value: list[str]) -> list[str]:
        known = catalog.table(CATALOG, "aws_waf_managed_rule_groups").values
        unknown = [name for name in value if name not in known]
        if unknown:
            raise rule_error(
                f"{', '.join(unknown)} is not an AWS managed rule group usable without a configuration "
                f"(known: {', '.join(known)})",
                "fix the name (they are case-sensitive), e.g. AWSManagedRulesCommonRuleSet",
            )
        if len(set(value)) != len(value):
            raise rule_error("lists a rule group twice", "list each rule group once")
        missing = [name for name in BASELINE_RULE_GROUPS if name not in value]
        if missing:
            raise rule_error(
                f"the baseline rule groups {', '.join(missing)} are missing",
                "keep " + ", ".join(BASELINE_RULE_GROUPS) + " and add others after them",
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise rule_error(
                f"must be a period CloudWatch Logs accepts ({', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))})",
                "use 365",
            )
        return value


class EdgeConfig(Model):
    # Off: no edge-<environment> stack (an environment reached only inside the network).
    enabled: bool = True
    cloudflare: CloudflareConfig = CloudflareConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    waf: WafConfig = WafConfig()
    # Who may connect to the ALB: Cloudflare's published IPv4 ranges (catalog/edge.yaml) by default.
    origin_ranges: list[OriginRange] = Field(default_factory=lambda: cloudflare_ranges("ipv4"), min_length=1)


def load_balancer_name(prefix: str) -> str:
    """The name of the environment's ALB (``<project>-<environment>-web``; iworkz.config.names checks it)."""
    return f"{prefix}-web"


def edge_rules(edge: EdgeConfig, domain: str) -> None:
    """The environment's hosts lie in its Cloudflare zone (called from the environment's rules)."""
    zone = edge.cloudflare.zone
    for prefix in ("api", "app"):
        host = f"{prefix}.{domain}"
        if not host.endswith(f".{zone}"):
            raise rule_error(
                f"the host {host} (from platform.domain) is outside the Cloudflare zone {zone}",
                f"set platform.domain to {zone} or a name below it, or edge.cloudflare.zone to the zone of {domain}",
                field="edge.cloudflare.zone",
                value=zone,
            )
