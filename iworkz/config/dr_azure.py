"""DR-Azure section: the Korea Central disaster-recovery site (seed 12.1, secondary cloud)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from iworkz.config import catalog
from iworkz.config.base import Model, PublicAllowListCidr, reject_number, rule_error, validate_private_cidr
from iworkz.config.controls import ControlList, check_controls
from iworkz.config.platform import SEED_REQUESTS, Image, ImageConfig, PlatformConfig, cpu_millicores
from iworkz.config.recovery import RecoveryConfig, StandbyConfig, allocatable_millicores

# Azure regions with availability zones (zone-redundant HA needs them).
AZURE_LOCATIONS_WITH_ZONES = frozenset(
    [
        "australiaeast",
        "brazilsouth",
        "canadacentral",
        "centralindia",
        "centralus",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "mexicocentral",
        "newzealandnorth",
        "northeurope",
        "norwayeast",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southcentralus",
        "southeastasia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "uaenorth",
        "uksouth",
        "westeurope",
        "westus2",
        "westus3",
    ]
)
AZURE_LOCATIONS = AZURE_LOCATIONS_WITH_ZONES | frozenset(
    [
        "australiacentral",
        "australiasoutheast",
        "canadaeast",
        "francesouth",
        "germanynorth",
        "jioindiawest",
        "koreasouth",
        "northcentralus",
        "norwaywest",
        "southindia",
        "switzerlandwest",
        "uaecentral",
        "ukwest",
        "westcentralus",
        "westindia",
        "westus",
    ]
)


# Azure's regional pairs: geo-redundant storage (GZRS/GRS) and PostgreSQL geo-redundant
# backups are copied to the pair of the primary region, so paired_location must be it.
AZURE_REGION_PAIRS = {
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "centralindia": "southindia",
    "southindia": "centralindia",
    "centralus": "eastus2",
    "eastus2": "centralus",
    "eastus": "westus",
    "westus": "eastus",
    "eastasia": "southeastasia",
    "southeastasia": "eastasia",
    "francecentral": "francesouth",
    "francesouth": "francecentral",
    "germanywestcentral": "germanynorth",
    "germanynorth": "germanywestcentral",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "koreacentral": "koreasouth",
    "koreasouth": "koreacentral",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "northeurope": "westeurope",
    "westeurope": "northeurope",
    "norwayeast": "norwaywest",
    "norwaywest": "norwayeast",
    "switzerlandnorth": "switzerlandwest",
    "switzerlandwest": "switzerlandnorth",
    "uaenorth": "uaecentral",
    "uaecentral": "uaenorth",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "westcentralus": "westus2",
    "westus2": "westcentralus",
}

# Standard_<family><vCPUs>[-<constrained vCPUs>]<features>[_<accelerator>][_v<version>]
_VM_SIZE = re.compile(
    r"^Standard_(?P<family>[A-Z]{1,3})(?P<vcpus>\d{1,3})(-(?P<constrained>\d{1,3}))?[a-z]*(_[A-Z]\d{1,4}[a-z]?)?(_v\d{1,2})?$"
)


def vm_vcpus(vm_size: str) -> int:
    """The vCPUs of a (validated) VM size: the number after the family (constrained: the active ones)."""
    match = _VM_SIZE.match(vm_size)
    assert match is not None, vm_size
    return int(match["constrained"] or match["vcpus"])


def _vm_size(value: str) -> str:
    match = _VM_SIZE.match(value)
    families = catalog.values("azure.yaml", "vm_size_families")
    if not match or match["family"] not in families:
        raise rule_error(
            "is not an Azure VM size: Standard_<family><vCPUs><features>[_v<version>] with a family of "
            f"{', '.join(families)} (iworkz/config/catalog/azure.yaml)",
            "e.g. Standard_D4ds_v5",
        )
    return value


# Microsoft Defender for Cloud plans (pricing resource types) for what the DR site runs: the AKS
# nodes (servers) and cluster (containers), PostgreSQL, the backup storage, the Key Vault and the
# Resource Manager operations on all of them.
DEFENDER_PLANS = (
    "VirtualMachines",
    "Containers",
    "OpenSourceRelationalDatabases",
    "StorageAccounts",
    "KeyVaults",
    "Arm",
)
# The subscription's activity log in Log Analytics: searchable for log_retention_days, kept in
# total for 7 years (the platform design, chapter 12.1); Azure keeps a table at most 4383 days.
ACTIVITY_LOG_MIN_DAYS = 2555
ACTIVITY_LOG_MAX_DAYS = 4383


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Uuid = Annotated[str, Field(pattern=_UUID)]
PrivateCidr = Annotated[str, AfterValidator(validate_private_cidr)]

# The VNet is split into: AKS nodes (first half), then /+4 blocks for PostgreSQL,
# private endpoints and the VPN gateway (see dr_azure_subnets).
_VNET_MAX_PREFIX = 22


def _azure_location(value: str) -> str:
    if value not in AZURE_LOCATIONS:
        raise rule_error("must be a known Azure location name", "e.g. 'koreacentral' or 'koreasouth'")
    return value


AzureLocation = Annotated[str, AfterValidator(_azure_location)]


def dr_azure_subnets(vnet_cidr: str) -> dict[str, str]:
    """The DR VNet's subnets, computed from its address space.

    | subnet | block | e.g. for 10.100.0.0/16 |
    |---|---|---|
    | aks_nodes | first half (Azure CNI overlay: pods do not use VNet addresses) | 10.100.0.0/17 |
    | postgres | 9th /+4 block, delegated to PostgreSQL flexible servers | 10.100.128.0/20 |
    | private_endpoints | 10th /+4 block | 10.100.144.0/20 |
    | gateway | 11th /+4 block, the VPN gateway's GatewaySubnet | 10.100.160.0/20 |
    | dns_resolver | first /24 (at most) of the 12th /+4 block: DNS resolver inbound endpoint (/28-/24) | 10.100.176.0/24 |
    """
    vnet = ipaddress.IPv4Network(vnet_cidr)
    aks = next(vnet.subnets(prefixlen_diff=1))
    blocks = list(vnet.subnets(prefixlen_diff=4))
    dns = next(blocks[11].subnets(new_prefix=max(24, blocks[11].prefixlen)))
    return {
        "aks_nodes": str(aks),
        "postgres": str(blocks[8]),
        "private_endpoints": str(blocks[9]),
        "gateway": str(blocks[10]),
        "dns_resolver": str(dns),
    }


def dns_resolver_inbound_ip(vnet_cidr: str) -> str:
    """The DNS resolver's static inbound address: the first one Azure lets a subnet use (.4)."""
    return str(ipaddress.ip_network(dr_azure_subnets(vnet_cidr)["dns_resolver"])[4])


class AksPoolConfig(Model):
    """An AKS node pool: VM size and autoscaling bounds."""

    vm_size: Annotated[str, AfterValidator(_vm_size)]
    min_count: int = Field(ge=0, le=1000)
    max_count: int = Field(ge=1, le=1000)
    # CKV_AZURE_168: at least 50 pods per node.
    max_pods: int = Field(110, ge=50, le=250)
    os_disk_size_gb: int = Field(128, ge=30, le=2048)

    @model_validator(mode="after")
    def _bounds(self) -> AksPoolConfig:
        if self.min_count > self.max_count:
            raise rule_error(
                "min_count must not exceed max_count",
                f"raise max_count to {self.min_count} or more",
                field="min_count",
                value=self.min_count,
            )
        return self


class PostgresAdminConfig(Model):
    """A Microsoft Entra group (or user) administering the DR PostgreSQL server."""

    object_id: Uuid
    principal_name: str = Field(min_length=1)
    principal_type: Literal["Group", "User", "ServicePrincipal"] = "Group"


# Azure Cache for Redis sizes per SKU: C0-C6 (Basic, Standard), P1-P5 (Premium).
CACHE_CAPACITIES = {"Basic": range(0, 7), "Standard": range(0, 7), "Premium": range(1, 6)}


class DrAzureConfig(Model):
    """The DR site in Azure (seed 12.1: Korea Central, paired with Korea South)."""

    enabled: bool = False
    # Optional: without them the azurerm provider reads ARM_SUBSCRIPTION_ID / ARM_TENANT_ID.
    subscription_id: Uuid | None = None
    tenant_id: Uuid | None = None
    location: AzureLocation = "koreacentral"
    paired_location: AzureLocation = "koreasouth"
    vnet_cidr: PrivateCidr = "10.100.0.0/16"
    # Azure CNI overlay: pod and service ranges are not routed, but must not clash with routed ones.
    aks_pod_cidr: PrivateCidr = "192.168.0.0/16"
    aks_service_cidr: PrivateCidr = "172.16.0.0/16"
    # Left out: the newest AKS version in standard support on the day of the synth (catalog/versions.yaml).
    kubernetes_version: str = Field(default_factory=lambda: catalog.calendar("aks").newest(catalog.today()))
    aks_private_cluster: bool = False
    aks_authorized_ip_ranges: list[PublicAllowListCidr] = Field(default_factory=list)
    aks_admin_group_object_ids: list[Uuid] = Field(default_factory=list)
    aks_network_policy: Literal["cilium", "azure"] = "cilium"
    aks_automatic_upgrade_channel: Literal["patch", "stable"] = "patch"
    aks_node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch"] = "NodeImage"
    aks_system_pool: AksPoolConfig = AksPoolConfig(vm_size="Standard_D4ds_v5", min_count=3, max_count=6)
    # Standby: idles at min_count; the failover runbook raises it towards max_count.
    aks_user_pool: AksPoolConfig = AksPoolConfig(vm_size="Standard_D8ds_v5", min_count=0, max_count=20)
    postgres_sku_name: str = Field("GP_Standard_D4ds_v5", pattern=r"^(B|GP|MO)_Standard_[A-Za-z0-9_]+$")
    postgres_storage_mb: Literal[
        32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216, 33553408
    ] = 131072
    postgres_zone_redundant: bool = True
    postgres_backup_retention_days: int = 14
    postgres_admin: PostgresAdminConfig | None = None
    # The standby application's cache (constructs/azure_redis.py).
    cache_sku_name: Literal["Basic", "Standard", "Premium"] = "Premium"
    cache_capacity: int = 1
    storage_replication_type: Literal["GZRS", "RAGZRS", "GRS", "RAGRS"] = "GZRS"
    backup_immutability_days: int = Field(30, ge=1, le=146000)
    blob_soft_delete_days: int = Field(30, ge=7, le=365)
    log_retention_days: int = Field(90, ge=30, le=730)
    vpn_gateway_sku: Literal["VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ"] = "VpnGw2AZ"
    vpn_customer_gateway_bgp_asn: int = Field(65000, ge=1, le=4294967294)
    # Public egress ranges of whoever runs Terraform from outside Azure: the Key Vault firewall lets
    # them create keys. Empty (the default): the vault has no public endpoint, and the runner in the
    # AWS VPC reaches its private endpoint over the site-to-site VPN (README: deploying).
    deployer_ip_ranges: list[PublicAllowListCidr] = Field(default_factory=list)
    defender_plans: list[str] = Field(default_factory=lambda: list(DEFENDER_PLANS))
    activity_log_total_retention_days: int = Field(2556, ge=ACTIVITY_LOG_MIN_DAYS, le=ACTIVITY_LOG_MAX_DAYS)
    # Who the Azure Monitor alerts of the DR database and storage reach (an action group's e-mail
    # receivers; a webhook receiver would put its URL into the state).
    alert_emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]] = Field(default_factory=list)
    # "<field>.<item>": reason, for each default control left out of its list (synth report).
    disabled: dict[str, str] = Field(default_factory=dict)
    # RPO/RTO of the site and the copy schedule that meets them (iworkz/config/recovery.py).
    recovery: RecoveryConfig = RecoveryConfig()
    # The AKS workloads' size: standby replicas, or serving (the failover's config change).
    standby: StandbyConfig = StandbyConfig()
    # rclone of the S3 -> Blob copy CronJob (S3 and Azure Blob, keyless through env_auth).
    copy_image: Image = ImageConfig(repository="docker.io/rclone/rclone", tag="1.71.1")

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        return reject_number("kubernetes_version")(value)

    @field_validator("kubernetes_version")
    @classmethod
    def _version_form(cls, value: str) -> str:
        # Whether AKS supports it on the day of the synth: iworkz.config.versions (the calendar).
        if not re.fullmatch(r"1\.\d+(\.\d+)?", value):
            raise rule_error("must be a Kubernetes version such as 1.35 or 1.35.1", 'e.g. "1.35"')
        return value

    @field_validator("postgres_backup_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not 7 <= value <= 35:
            raise rule_error(
                "PostgreSQL flexible server backups must be kept 7 to 35 days (the DR site needs at least a week)",
                "set postgres_backup_retention_days between 7 and 35",
            )
        return value

    @field_validator("vnet_cidr")
    @classmethod
    def _vnet_size(cls, value: str) -> str:
        if ipaddress.ip_network(value).prefixlen > _VNET_MAX_PREFIX:
            raise rule_error(
                f"the DR VNet must be /{_VNET_MAX_PREFIX} or larger (it holds four subnets and a GatewaySubnet)",
                "use a /16, e.g. 10.100.0.0/16",
            )
        return value

    @property
    def subnets(self) -> dict[str, str]:
        return dr_azure_subnets(self.vnet_cidr)

    @property
    def has_zones(self) -> bool:
        return self.location in AZURE_LOCATIONS_WITH_ZONES

    @model_validator(mode="after")
    def _cache_size(self) -> DrAzureConfig:
        sku, capacity = self.cache_sku_name, self.cache_capacity
        sizes = CACHE_CAPACITIES[sku]
        if capacity not in sizes:
            raise rule_error(
                f"Azure Cache for Redis {sku} comes in sizes {sizes.start}-{sizes.stop - 1}",
                f"set cache_capacity between {sizes.start} and {sizes.stop - 1}, or another cache_sku_name",
                field="cache_capacity",
                value=capacity,
            )
        return self

    @model_validator(mode="after")
    def _site_rules(self) -> DrAzureConfig:
        pair = AZURE_REGION_PAIRS.get(self.location)
        if pair is None:
            raise rule_error(
                f"{self.location} has no Azure paired region; geo-redundant backups and storage need one",
                "use koreacentral (paired with koreasouth)",
                field="location",
                value=self.location,
            )
        if self.paired_location != pair:
            raise rule_error(
                f"must be the Azure pair of {self.location} ({pair}): geo-redundant copies go there",
                f"set paired_location: {pair}",
                field="paired_location",
                value=self.paired_location,
            )
        no_zones = f"{self.location} has no availability zones"
        if self.postgres_zone_redundant and not self.has_zones:
            raise rule_error(
                f"zone-redundant high availability needs availability zones; {no_zones}",
                "use a region with zones (koreacentral) or set postgres_zone_redundant: false",
                field="postgres_zone_redundant",
                value=True,
            )
        if self.postgres_zone_redundant and self.postgres_sku_name.startswith("B_"):
            raise rule_error(
                "burstable (B_) PostgreSQL servers do not support high availability",
                "use a General Purpose SKU such as GP_Standard_D4ds_v5",
                field="postgres_sku_name",
                value=self.postgres_sku_name,
            )
        if self.storage_replication_type in ("GZRS", "RAGZRS") and not self.has_zones:
            raise rule_error(
                f"{self.storage_replication_type} needs availability zones; {no_zones}",
                "use GRS or RAGRS, or a region with zones",
                field="storage_replication_type",
                value=self.storage_replication_type,
            )
        if not self.has_zones:
            raise rule_error(
                f"{self.vpn_gateway_sku} is a zone-redundant gateway SKU; {no_zones}",
                "use a region with zones (koreacentral)",
                field="vpn_gateway_sku",
                value=self.vpn_gateway_sku,
            )
        if self.aks_system_pool.min_count < 1:
            raise rule_error(
                "the AKS system pool runs the cluster's own pods: it needs at least one node",
                "set aks_system_pool.min_count: 3 (one per zone)",
                field="aks_system_pool.min_count",
                value=self.aks_system_pool.min_count,
            )
        if self.enabled and not self.aks_private_cluster and not self.aks_authorized_ip_ranges:
            raise rule_error(
                "a public AKS API server needs an allow-list of authorised IP ranges",
                "list the office/VPN CIDRs, or set aks_private_cluster: true",
                field="aks_authorized_ip_ranges",
                value=[],
            )
        self._check_ranges()
        check_controls(
            (ControlList("defender_plans", "Defender for Cloud plan", DEFENDER_PLANS, DEFENDER_PLANS),),
            {"defender_plans": self.defender_plans},
            self.disabled,
        )
        if self.enabled and not self.alert_emails:
            raise rule_error(
                "the DR site's Azure Monitor alerts need at least one receiver",
                "list the on-call addresses in alert_emails",
                field="alert_emails",
                value=[],
            )
        return self

    def _check_ranges(self) -> None:
        ranges = {
            "vnet_cidr": self.vnet_cidr,
            "aks_pod_cidr": self.aks_pod_cidr,
            "aks_service_cidr": self.aks_service_cidr,
        }
        names = list(ranges)
        for i, name in enumerate(names):
            for other in names[i + 1 :]:
                if ipaddress.ip_network(ranges[name]).overlaps(ipaddress.ip_network(ranges[other])):
                    raise rule_error(
                        f"overlaps {name} ({ranges[name]}); the VNet and the AKS overlay ranges must be disjoint",
                        "pick a free private range",
                        field=other,
                        value=ranges[other],
                    )

    def routed_ranges(self) -> dict[str, str]:
        """The ranges that must not overlap any AWS VPC (VPN routes and AKS overlay)."""
        return {
            "vnet_cidr": self.vnet_cidr,
            "aks_pod_cidr": self.aks_pod_cidr,
            "aks_service_cidr": self.aks_service_cidr,
        }


def dr_replicas(standby: StandbyConfig, platform: PlatformConfig) -> dict[str, int]:
    """Pods of each workload on AKS: the standby size, or the primary's count once serving; none
    of a workload that needs GPUs (the failover pool has none: ai-services stays at 0)."""
    return {
        name: 0 if workload.gpus else workload.replicas if standby.serving else standby.replicas
        for name, workload in platform.workloads.items()
    }


def dr_capacity_rules(config: DrAzureConfig, platform: PlatformConfig) -> None:
    """The AKS failover pool must hold the DR workloads' CPU requests at its max_count."""
    pool = config.aks_user_pool
    per_node = allocatable_millicores(vm_vcpus(pool.vm_size))
    capacity = pool.max_count * per_node
    replicas = dr_replicas(config.standby, platform)
    needed = sum(count * cpu_millicores(SEED_REQUESTS[name]["cpu"]) for name, count in replicas.items())
    if needed > capacity:
        nodes = -(-needed // per_node)
        sizes = ", ".join(f"{name} {count}" for name, count in replicas.items())
        field, value = (
            ("standby.replicas", config.standby.replicas)
            if not config.standby.serving
            else ("aks_user_pool.max_count", pool.max_count)
        )
        raise rule_error(
            f"the DR workloads ({sizes} pods) request {needed}m CPU; the failover pool holds at most "
            f"{capacity}m ({pool.max_count} x {pool.vm_size}, {per_node}m allocatable each)",
            f"raise dr_azure.aks_user_pool.max_count to {nodes} or more, or lower dr_azure.standby.replicas",
            field=f"dr_azure.{field}",
            value=value,
        )
