"""Cloudflare in front of an origin: proxied hosts behind a health-checked load balancer, TLS, WAF and rate limits.

Per environment (the zone is looked up by name; the account is the zone's):

- a proxied CNAME per host to the origin (the ALB's DNS name) and, on the same names, a Cloudflare
  load balancer (which takes precedence over the record) whose pools are tried in order: the
  primary origin first, then ``failover_pools`` (the disaster-recovery site);
- the DNS records that validate the origin's ACM certificate (not proxied);
- a monitor probing the origin over HTTPS with the API host's name.

Once per zone (``manage_zone``, the environment that owns the zone): the TLS settings (minimum
version, TLS 1.3, Full (strict) to the origin, always HTTPS, HSTS), Cloudflare's managed WAF
rulesets (Cloudflare Managed and OWASP Core) and the rate limit on the API hosts, counted per
client address (``ip.src``) in each Cloudflare data centre (``cf.colo.id``, which Cloudflare
requires). Those rules name the API hosts by their ``api.`` label, so they cover every
environment that shares the zone.

The API token comes from ``CLOUDFLARE_API_TOKEN`` in the environment of whoever runs Terraform:
the provider is configured without credentials, and none is in the configuration or the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_cloudflare.data_cloudflare_zone import DataCloudflareZone, DataCloudflareZoneFilter
from cdktf_cdktf_provider_cloudflare.dns_record import DnsRecord
from cdktf_cdktf_provider_cloudflare.load_balancer import LoadBalancer
from cdktf_cdktf_provider_cloudflare.load_balancer_monitor import LoadBalancerMonitor
from cdktf_cdktf_provider_cloudflare.load_balancer_pool import LoadBalancerPool, LoadBalancerPoolOrigins
from cdktf_cdktf_provider_cloudflare.ruleset import (
    Ruleset,
    RulesetRules,
    RulesetRulesActionParameters,
    RulesetRulesRatelimit,
)
from cdktf_cdktf_provider_cloudflare.zone_setting import ZoneSetting
from constructs import Construct

from iworkz_constructs.dns_certificate import ValidationRecord

# Cloudflare's managed WAF rulesets (https://developers.cloudflare.com/waf/managed-rules/).
MANAGED_RULESETS = {
    "Cloudflare Managed Ruleset": "efb7b8c949ac4650a09736fc376e9aee",
    "Cloudflare OWASP Core Ruleset": "4814384a9e5d4991b9815dcfc25d2f1f",
}
# A rate limit counts per client address (ip.src) per data centre (cf.colo.id, mandatory).
RATE_LIMIT_CHARACTERISTICS = ("cf.colo.id", "ip.src")
HSTS_MAX_AGE = 31_536_000  # one year
# TTL 1 is Cloudflare's "automatic", the only one a proxied record takes.
AUTOMATIC_TTL = 1
VALIDATION_TTL = 300


@dataclass(frozen=True)
class OriginPool:
    """A Cloudflare pool of one origin (a host name or address answering HTTPS for the hosts)."""

    name: str
    address: str
    description: str


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` per ``period_seconds`` per client; ``mitigation_seconds`` blocked after."""

    requests: int
    period_seconds: int
    mitigation_seconds: int = 60


@dataclass(frozen=True)
class CloudflareEdgeProps:
    """Properties of :class:`CloudflareEdge`.

    | name | meaning | default |
    |---|---|---|
    | name | prefix of the account-level objects (pools, monitor), e.g. ``iworkz-production`` | required |
    | zone | the Cloudflare zone holding the hosts | required |
    | hosts | role -> host name, e.g. ``{"api": "api.iworkz.com", "app": "app.iworkz.com"}`` | required |
    | origin | the primary origin (the ALB's DNS name) | required |
    | health_path | path the monitor requests on the API host (200 expected) | required |
    | validation_records | the ACM certificate's DNS records | none |
    | failover_pools | pools tried after the origin, in order: the place of the DR site (the Azure origin) | none |
    | manage_zone | write the zone's TLS settings and rulesets (one environment per zone) | False |
    | rate_limit | the per-client limit on the API hosts (with ``manage_zone``) | required with ``manage_zone`` |
    | min_tls_version | oldest TLS version clients may use | ``1.2`` |
    """

    name: str
    zone: str
    hosts: Mapping[str, str]
    origin: str
    health_path: str
    validation_records: Sequence[ValidationRecord] = ()
    failover_pools: Sequence[OriginPool] = ()
    manage_zone: bool = False
    rate_limit: RateLimit | None = None
    min_tls_version: str = "1.2"

    def __post_init__(self) -> None:
        if "api" not in self.hosts:
            raise ValueError(f"edge {self.name}: the hosts need the API host (role 'api'), which the monitor probes")
        outside = [host for host in self.hosts.values() if not host.endswith(f".{self.zone}")]
        if outside:
            raise ValueError(f"edge {self.name}: hosts {outside} are outside the zone {self.zone}")
        if self.manage_zone and self.rate_limit is None:
            raise ValueError(f"edge {self.name}: the zone's rate limit needs rate_limit")
        if self.min_tls_version not in ("1.2", "1.3"):
            raise ValueError(f"edge {self.name}: min_tls_version {self.min_tls_version!r} is not 1.2 or 1.3")
        names = [pool.name for pool in self.failover_pools]
        if len(set(names)) != len(names) or "primary" in names:
            raise ValueError(f"edge {self.name}: failover pool names {names} must be unique and not 'primary'")


class CloudflareEdge(Construct):
    """Attributes: ``zone`` (data source), ``records`` (role -> proxied record), ``validation_records``, ``load_balancers``
    (role -> load balancer), ``pools`` (name -> pool, ``primary`` first), ``monitor``,
    ``settings`` (setting id -> zone setting), ``waf`` and ``rate_limits`` (rulesets, with ``manage_zone``)."""

    def __init__(self, scope: Construct, id: str, props: CloudflareEdgeProps) -> None:
        super().__init__(scope, id)
        self.zone = DataCloudflareZone(self, "zone", filter=DataCloudflareZoneFilter(name=props.zone))
        zone_id, account_id = self.zone.zone_id, self.zone.account.id
        self.records = {
            role: DnsRecord(
                self,
                f"{role}-record",
                zone_id=zone_id,
                name=host,
                type="CNAME",
                content=props.origin,
                proxied=True,
                ttl=AUTOMATIC_TTL,
                comment=f"{props.name}: {role} host, proxied to the origin (the load balancer of this name takes precedence)",
            )
            for role, host in props.hosts.items()
        }
        self.validation_records = [
            DnsRecord(
                self,
                f"certificate-validation-{index}",
                zone_id=zone_id,
                name=record.name,
                type=record.type,
                content=record.value,
                proxied=False,
                ttl=VALIDATION_TTL,
                comment=f"{props.name}: ACM validation of the origin's certificate",
            )
            for index, record in enumerate(props.validation_records)
        ]
        self.monitor = LoadBalancerMonitor(
            self,
            "monitor",
            account_id=account_id,
            description=f"{props.name}: HTTPS {props.health_path} on {props.hosts['api']}",
            type="https",
            method="GET",
            path=props.health_path,
            expected_codes="200",
            header={"Host": [props.hosts["api"]]},
            interval=60,
            timeout=5,
            retries=2,
            allow_insecure=False,
            follow_redirects=False,
        )
        pools = [OriginPool("primary", props.origin, f"{props.name}: the primary origin"), *props.failover_pools]
        self.pools = {
            pool.name: LoadBalancerPool(
                self,
                f"{pool.name}-pool",
                account_id=account_id,
                name=f"{props.name}-{pool.name}",
                description=pool.description,
                origins=[LoadBalancerPoolOrigins(name=pool.name, address=pool.address, enabled=True, weight=1)],
                minimum_origins=1,
                monitor=self.monitor.id,
            )
            for pool in pools
        }
        pool_ids = [pool.id for pool in self.pools.values()]
        self.load_balancers = {
            role: LoadBalancer(
                self,
                f"{role}-load-balancer",
                zone_id=zone_id,
                name=host,
                description=f"{props.name}: {role} host, pools in failover order",
                default_pools=pool_ids,
                fallback_pool=pool_ids[-1],
                steering_policy="off",
                session_affinity="none",
                proxied=True,
            )
            for role, host in props.hosts.items()
        }
        self.settings: dict[str, ZoneSetting] = {}
        if props.manage_zone:
            assert props.rate_limit is not None
            self._zone_settings(zone_id, props)
            self.waf = self._managed_waf(zone_id)
            self.rate_limits = self._rate_limits(zone_id, props.rate_limit)

    def _zone_settings(self, zone_id: str, props: CloudflareEdgeProps) -> None:
        values: dict[str, Any] = {
            "min_tls_version": props.min_tls_version,
            "tls_1_3": "on",
            "ssl": "strict",  # Full (strict): the origin's certificate is verified
            "always_use_https": "on",
            "automatic_https_rewrites": "on",
            "security_header": {
                "strict_transport_security": {
                    "enabled": True,
                    "max_age": HSTS_MAX_AGE,
                    "include_subdomains": True,
                    "preload": False,
                    "nosniff": True,
                }
            },
        }
        for setting, value in values.items():
            resource = ZoneSetting(self, f"setting-{setting}", zone_id=zone_id, setting_id=setting, value={})
            # ``value`` is a string or an object by setting; the generated type only knows objects.
            resource.add_override("value", value)
            self.settings[setting] = resource

    def _managed_waf(self, zone_id: str) -> Ruleset:
        return Ruleset(
            self,
            "managed-waf",
            zone_id=zone_id,
            kind="zone",
            phase="http_request_firewall_managed",
            name="Managed WAF rulesets",
            description="Cloudflare Managed Ruleset and OWASP Core Ruleset on every host of the zone",
            rules=[
                RulesetRules(
                    action="execute",
                    expression="true",
                    description=name,
                    enabled=True,
                    action_parameters=RulesetRulesActionParameters(id=ruleset_id),
                )
                for name, ruleset_id in MANAGED_RULESETS.items()
            ],
        )

    def _rate_limits(self, zone_id: str, limit: RateLimit) -> Ruleset:
        return Ruleset(
            self,
            "rate-limits",
            zone_id=zone_id,
            kind="zone",
            phase="http_ratelimit",
            name="Per-client rate limits",
            description="The design's per-client limit on the API hosts of the zone",
            rules=[
                RulesetRules(
                    action="block",
                    # Every environment's API host in the zone (api.<domain>).
                    expression='starts_with(http.host, "api.")',
                    description=f"{limit.requests} requests per {limit.period_seconds} s per client address",
                    enabled=True,
                    ratelimit=RulesetRulesRatelimit(
                        characteristics=list(RATE_LIMIT_CHARACTERISTICS),
                        period=limit.period_seconds,
                        requests_per_period=limit.requests,
                        mitigation_timeout=limit.mitigation_seconds,
                    ),
                )
            ],
        )
