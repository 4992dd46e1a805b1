"""Azure Cache for Redis of the DR site: the standby application's cache (the platform design's
12.2 ``REDIS_URL``), reachable only through its private endpoint.

Secure defaults: TLS 1.2 on port 6380 only (the plaintext port is off), no public network access,
Microsoft Entra authentication with access keys turned off (a key that cannot sign in is not a
credential; Azure still reports the keys as attributes of the resource, so no output carries
them). A workload signs in as its Entra workload identity, given an access policy on the cache
with :func:`grant_cache_access` (the stack that owns the identity calls it with ``cache_id``).
The cache holds nothing that must survive: after a failover the services start with it empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.redis_cache import RedisCache, RedisCacheRedisConfiguration
from cdktf_cdktf_provider_azurerm.redis_cache_access_policy_assignment import RedisCacheAccessPolicyAssignment
from constructs import Construct

from iworkz.config.dr_azure import CACHE_CAPACITIES
from iworkz_constructs.azure_private_link import private_access

REDIS_DNS_ZONE = "privatelink.redis.cache.windows.net"
TLS_PORT = 6380
# The built-in access policies (Azure Cache for Redis, "Configure role-based access control").
DATA_CONTRIBUTOR = "Data Contributor"


@dataclass(frozen=True)
class AzureRedisProps:
    """Properties of :class:`AzureRedis`.

    | name | meaning | default |
    |---|---|---|
    | name | cache name (globally unique DNS label), e.g. ``iworkz-production-dr-redis`` | required |
    | resource_group_name / location | where it lives | required |
    | private_endpoint_subnet_id | subnet of its private endpoint | required |
    | virtual_network_id | VNet linked to the privatelink.redis.cache.windows.net zone | required |
    | sku_name | ``Basic``, ``Standard`` (replicated) or ``Premium`` | ``Premium`` |
    | capacity | size in its family: C0-C6 (Basic, Standard), P1-P5 (Premium) | 1 |
    | tags | tags | none |
    """

    name: str
    resource_group_name: str
    location: str
    private_endpoint_subnet_id: str
    virtual_network_id: str
    sku_name: str = "Premium"
    capacity: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sizes = CACHE_CAPACITIES.get(self.sku_name)
        if sizes is None:
            raise ValueError(f"cache {self.name}: sku_name {self.sku_name!r} is not one of {sorted(CACHE_CAPACITIES)}")
        if self.capacity not in sizes:
            raise ValueError(
                f"cache {self.name}: capacity {self.capacity} is not {sizes.start}-{sizes.stop - 1} for {self.sku_name}"
            )

    @property
    def family(self) -> str:
        return "P" if self.sku_name == "Premium" else "C"


class AzureRedis(Construct):
    """The cache and its private endpoint. Attributes: ``cache``, ``cache_id``, ``hostname``, ``port`` (TLS)."""

    def __init__(self, scope: Construct, id: str, props: AzureRedisProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        self.cache = RedisCache(
            self,
            "cache",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            sku_name=props.sku_name,
            family=props.family,
            capacity=props.capacity,
            redis_version="6",
            minimum_tls_version="1.2",
            non_ssl_port_enabled=False,
            public_network_access_enabled=False,
            access_keys_authentication_enabled=False,
            redis_configuration=RedisCacheRedisConfiguration(
                active_directory_authentication_enabled=True, authentication_enabled=True
            ),
            tags=tags,
        )
        self.cache_id = self.cache.id
        self.hostname = self.cache.hostname
        self.port = TLS_PORT
        private_access(
            self,
            link_name=f"{props.name}-vnet",
            endpoint_name=f"{props.name}-pe",
            connection_name=f"{props.name}-cache",
            resource_id=self.cache.id,
            subresource="redisCache",
            zone_name=REDIS_DNS_ZONE,
            subnet_id=props.private_endpoint_subnet_id,
            virtual_network_id=props.virtual_network_id,
            resource_group_name=props.resource_group_name,
            location=props.location,
            tags=tags,
        )


def grant_cache_access(
    scope: Construct, id: str, *, cache_id: str, object_id: str, alias: str, policy: str = DATA_CONTRIBUTOR
) -> RedisCacheAccessPolicyAssignment:
    """Lets an Entra principal (a workload identity) sign in to the cache as ``object_id`` with ``policy``."""
    return RedisCacheAccessPolicyAssignment(
        scope,
        id,
        name=alias,
        redis_cache_id=cache_id,
        access_policy_name=policy,
        object_id=object_id,
        object_id_alias=alias,
    )
