"""A geo-redundant Azure storage account for backups: private, immutable, versioned, customer-managed key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf import Postcondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountCustomerManagedKey,
    StorageAccountIdentity,
    StorageAccountNetworkRules,
    StorageAccountSasPolicy,
)
from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer
from cdktf_cdktf_provider_azurerm.storage_container_immutability_policy import StorageContainerImmutabilityPolicy
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from iworkz_constructs.azure_key_vault import ENCRYPTION_USER_ROLE, rotating_key
from iworkz_constructs.azure_private_link import private_access

BLOB_DNS_ZONE = "privatelink.blob.core.windows.net"
GEO_REDUNDANT = ("GZRS", "RAGZRS", "GRS", "RAGRS")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")


@dataclass(frozen=True)
class AzureBackupStorageProps:
    """Properties of :class:`AzureBackupStorage`.

    | name | meaning | default |
    |---|---|---|
    | account_name | storage account name, 3-24 lowercase letters and digits (globally unique) | required |
    | resource_group_name | resource group | required |
    | location | Azure region | required |
    | paired_location | where the geo-redundant copy lives (checked after apply) | required |
    | private_endpoint_subnet_id | subnet of the blob private endpoint | required |
    | virtual_network_id | VNet linked to the privatelink.blob.core.windows.net zone | required |
    | key_vault_id | Key Vault holding the customer-managed key | required unless microsoft_managed_key_reason |
    | key_vault_access | role assignments letting Terraform create keys in that vault (dependencies) | none |
    | microsoft_managed_key_reason | opt-out of the customer-managed key, with the reason | none |
    | replication_type | GZRS, RAGZRS, GRS or RAGRS | GZRS |
    | container_name | the backup container | backups |
    | immutability_days | time-based retention of the backup container (WORM) | 30 |
    | lock_immutability | lock the policy (irreversible: it can then only be extended) | False |
    | soft_delete_days | blob and container soft delete, and point-in-time change feed | 30 |
    | log_analytics_workspace_id | blob service logs destination | none |
    | prevent_destroy | refuse to destroy the account in Terraform | True |
    | tags | tags | none |
    """

    account_name: str
    resource_group_name: str
    location: str
    paired_location: str
    private_endpoint_subnet_id: str
    virtual_network_id: str
    key_vault_id: str | None = None
    key_vault_access: tuple[RoleAssignment, ...] = ()
    microsoft_managed_key_reason: str | None = None
    replication_type: Literal["GZRS", "RAGZRS", "GRS", "RAGRS"] = "GZRS"
    container_name: str = "backups"
    immutability_days: int = 30
    lock_immutability: bool = False
    soft_delete_days: int = 30
    log_analytics_workspace_id: str | None = None
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _ACCOUNT_NAME.match(self.account_name):
            raise ValueError(f"storage account name {self.account_name!r}: 3-24 lowercase letters and digits")
        if (self.key_vault_id is None) == (self.microsoft_managed_key_reason is None):
            raise ValueError(
                f"storage account {self.account_name}: give key_vault_id, or microsoft_managed_key_reason to opt out"
            )
        if self.replication_type not in GEO_REDUNDANT:
            raise ValueError(f"storage account {self.account_name}: replication must be one of {GEO_REDUNDANT}")
        if not 1 <= self.immutability_days <= 146000:
            raise ValueError(f"storage account {self.account_name}: immutability_days must be 1-146000")
        if not 7 <= self.soft_delete_days <= 365:
            raise ValueError(f"storage account {self.account_name}: soft_delete_days must be 7-365")


class AzureBackupStorage(Construct):
    """Geo-redundant StorageV2 account, Entra ID only, default-deny network, blob private endpoint, WORM container.

    Attributes: ``account``, ``account_id``, ``account_name``, ``primary_blob_endpoint``,
    ``container_name``, ``container_id``, ``identity_principal_id``.
    """

    def __init__(self, scope: Construct, id: str, props: AzureBackupStorageProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        identity = UserAssignedIdentity(
            self,
            "identity",
            name=f"{props.account_name}-identity",
            resource_group_name=props.resource_group_name,
            location=props.location,
            tags=tags,
        )
        self.identity_principal_id = identity.principal_id
        customer_managed_key = None
        depends_on: list[RoleAssignment] = []
        if props.key_vault_id is not None:
            key = rotating_key(
                self,
                "key",
                name=f"{props.account_name}-cmk",
                key_vault_id=props.key_vault_id,
                depends_on=props.key_vault_access,
                tags=tags,
                prevent_destroy=props.prevent_destroy,
            )
            key_access = RoleAssignment(
                self,
                "key-user",
                scope=props.key_vault_id,
                role_definition_name=ENCRYPTION_USER_ROLE,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
            )
            depends_on.append(key_access)
            customer_managed_key = StorageAccountCustomerManagedKey(
                # Versionless: the account follows the key's automatic rotation.
                key_vault_key_id=key.versionless_id,
                user_assigned_identity_id=identity.id,
            )
        self.account = StorageAccount(
            self,
            "account",
            name=props.account_name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            account_kind="StorageV2",
            account_tier="Standard",
            account_replication_type=props.replication_type,
            access_tier="Cool",
            min_tls_version="TLS1_2",
            https_traffic_only_enabled=True,
            allow_nested_items_to_be_public=False,
            shared_access_key_enabled=False,
            default_to_oauth_authentication=True,
            local_user_enabled=False,
            sftp_enabled=False,
            cross_tenant_replication_enabled=False,
            allowed_copy_scope="PrivateLink",
            public_network_access_enabled=False,
            infrastructure_encryption_enabled=True,
            identity=StorageAccountIdentity(type="UserAssigned", identity_ids=[identity.id]),
            customer_managed_key=customer_managed_key,
            network_rules=StorageAccountNetworkRules(default_action="Deny", bypass=["AzureServices"]),
            sas_policy=StorageAccountSasPolicy(expiration_period="00.01:00:00", expiration_action="Block"),
            blob_properties=StorageAccountBlobProperties(
                versioning_enabled=True,
                change_feed_enabled=True,
                change_feed_retention_in_days=props.soft_delete_days,
                last_access_time_enabled=True,
                delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(
                    days=props.soft_delete_days, permanent_delete_enabled=False
                ),
                container_delete_retention_policy=StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(
                    days=props.soft_delete_days
                ),
            ),
            tags=tags,
            depends_on=depends_on or None,
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=props.prevent_destroy,
                # The geo-redundant copy must land in the paired region the DR plan names.
                postcondition=[
                    Postcondition(
                        condition=f'${{lower(replace(self.secondary_location, " ", "")) == "{props.paired_location}"}}',
                        error_message=f"The geo-redundant copy of the backups must be in {props.paired_location}.",
                    )
                ],
            ),
        )
        self.account_id = self.account.id
        self.account_name = self.account.name
        self.primary_blob_endpoint = self.account.primary_blob_endpoint

        container = StorageContainer(
            self,
            "container",
            name=props.container_name,
            storage_account_id=self.account.id,
            container_access_type="private",
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.container_name = container.name
        self.container_id = container.id
        StorageContainerImmutabilityPolicy(
            self,
            "immutability",
            storage_container_resource_manager_id=container.id,
            immutability_period_in_days=props.immutability_days,
            # Backup tools append to open blobs (e.g. pg_dump streams); committed blocks stay immutable.
            protected_append_writes_all_enabled=True,
            locked=props.lock_immutability,
        )

        private_access(
            self,
            link_name=f"{props.account_name}-vnet",
            endpoint_name=f"{props.account_name}-blob-pe",
            connection_name=f"{props.account_name}-blob",
            resource_id=self.account.id,
            subresource="blob",
            zone_name=BLOB_DNS_ZONE,
            subnet_id=props.private_endpoint_subnet_id,
            virtual_network_id=props.virtual_network_id,
            resource_group_name=props.resource_group_name,
            location=props.location,
            tags=tags,
        )
        if props.log_analytics_workspace_id is not None:
            MonitorDiagnosticSetting(
                self,
                "diagnostics",
                name=f"{props.account_name}-blob-to-log-analytics",
                target_resource_id=f"{self.account.id}/blobServices/default",
                log_analytics_workspace_id=props.log_analytics_workspace_id,
                enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="allLogs")],
                enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="Transaction")],
            )
