"""The foundation of an Azure site: its resource group and its Log Analytics workspace."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct


class SiteResourceGroup(ResourceGroup):
    """A resource group Terraform refuses to destroy (the provider also refuses while it holds resources)."""

    def __init__(self, scope: Construct, id: str, *, name: str, location: str, tags: Mapping[str, str]) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            location=location,
            tags=dict(tags),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )


class SiteLogWorkspace(LogAnalyticsWorkspace):
    """Pay-per-GB Log Analytics; Entra ID authentication only (no shared workspace keys).

    Terraform refuses to destroy it: it holds the subscription's activity log for 7 years.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        resource_group_name: str,
        location: str,
        retention_days: int,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            resource_group_name=resource_group_name,
            location=location,
            sku="PerGB2018",
            retention_in_days=retention_days,
            local_authentication_enabled=False,
            tags=dict(tags),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
