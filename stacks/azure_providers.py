"""The azurerm provider of a stack that builds the Azure DR site."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_azurerm.provider import (
    AzurermProvider,
    AzurermProviderFeatures,
    AzurermProviderFeaturesKeyVault,
    AzurermProviderFeaturesPostgresqlFlexibleServer,
    AzurermProviderFeaturesResourceGroup,
    AzurermProviderFeaturesStorage,
)

from iworkz.config.dr_azure import DrAzureConfig


def azurerm_provider(stack: TerraformStack, config: DrAzureConfig) -> AzurermProvider:
    """Soft-deleted vaults are recovered, never purged; a resource group holding resources is not deleted."""
    return AzurermProvider(
        stack,
        "azurerm",
        features=[
            AzurermProviderFeatures(
                key_vault=[
                    AzurermProviderFeaturesKeyVault(
                        purge_soft_delete_on_destroy=False,
                        recover_soft_deleted_key_vaults=True,
                    )
                ],
                resource_group=[AzurermProviderFeaturesResourceGroup(prevent_deletion_if_contains_resources=True)],
                # The storage account has no public endpoint: Terraform manages it through
                # Azure Resource Manager only and never calls the blob/queue endpoints.
                storage=[AzurermProviderFeaturesStorage(data_plane_available=False)],
                # wal_level and the worker counts take effect only after a restart.
                postgresql_flexible_server=[
                    AzurermProviderFeaturesPostgresqlFlexibleServer(restart_server_on_configuration_value_change=True)
                ],
            )
        ],
        # None: the provider reads ARM_SUBSCRIPTION_ID / ARM_TENANT_ID at plan time.
        subscription_id=config.subscription_id,
        tenant_id=config.tenant_id,
        storage_use_azuread=True,
    )
