"""DR-Azure section: the Korea Central disaster-recovery site (seed 12.1, secondary cloud)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from iworkz.config.base import Model, rule_error, validate_cidr, validate_private_cidr

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


def _azure_location(value: str) -> str:
    if value not in AZURE_LOCATIONS:
        raise rule_error("must be a known Azure location name", "e.g. 'koreacentral' or 'koreasouth'")
    return value


AzureLocation = Annotated[str, AfterValidator(_azure_location)]


class DrAzureConfig(Model):
    enabled: bool = False
    location: AzureLocation = "koreacentral"
    paired_location: AzureLocation = "koreasouth"
    vnet_cidr: Annotated[str, AfterValidator(validate_private_cidr)] = "10.100.0.0/16"
    kubernetes_version: str = "1.34"
    aks_authorized_ip_ranges: list[Annotated[str, AfterValidator(validate_cidr)]] = Field(default_factory=list)
    postgres_zone_redundant: bool = True
    postgres_backup_retention_days: int = Field(14, ge=7, le=35)
    log_retention_days: int = Field(90, ge=30)

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, float | int):
            raise rule_error("must be a quoted string", f'write "{value}"')
        return value
