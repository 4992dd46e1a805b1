"""An Azure Key Vault that cannot be purged: RBAC, purge protection, firewall, private endpoint, audit logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.key_vault import KeyVault, KeyVaultNetworkAcls
from cdktf_cdktf_provider_azurerm.key_vault_key import (
    KeyVaultKey,
    KeyVaultKeyRotationPolicy,
    KeyVaultKeyRotationPolicyAutomatic,
)
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

from iworkz_constructs.azure_private_link import private_access

KEY_VAULT_DNS_ZONE = "privatelink.vaultcore.azure.net"
CRYPTO_OFFICER_ROLE = "Key Vault Crypto Officer"
# Role a service identity needs to wrap/unwrap with a customer-managed key.
ENCRYPTION_USER_ROLE = "Key Vault Crypto Service Encryption User"
KEY_EXPIRE_AFTER = "P365D"
KEY_ROTATE_BEFORE_EXPIRY = "P30D"


def rotating_key(
    scope: Construct,
    id: str,
    *,
    name: str,
    key_vault_id: str,
    depends_on: Sequence[RoleAssignment] = (),
    tags: Mapping[str, str] | None = None,
    prevent_destroy: bool = True,
) -> KeyVaultKey:
    """An HSM-backed RSA key for wrap/unwrap that Key Vault rotates itself.

    Each version expires a year after creation and is replaced 30 days before: consumers
    reference the versionless ID and follow the rotation.
    """
    return KeyVaultKey(
        scope,
        id,
        name=name,
        key_vault_id=key_vault_id,
        key_type="RSA-HSM",
        key_size=3072,
        key_opts=["wrapKey", "unwrapKey"],
        rotation_policy=KeyVaultKeyRotationPolicy(
            automatic=KeyVaultKeyRotationPolicyAutomatic(time_before_expiry=KEY_ROTATE_BEFORE_EXPIRY),
            expire_after=KEY_EXPIRE_AFTER,
            notify_before_expiry="P29D",
        ),
        depends_on=list(depends_on) or None,
        tags=dict(tags or {}),
        lifecycle=TerraformResourceLifecycle(prevent_destroy=prevent_destroy),
    )


@dataclass(frozen=True)
class AzureKeyVaultProps:
    """Properties of :class:`AzureKeyVault`.

    | name | meaning | default |
    |---|---|---|
    | name | vault name, 3-24 letters, digits and hyphens | required |
    | resource_group_name | resource group | required |
    | location | Azure region | required |
    | tenant_id | Microsoft Entra tenant | required |
    | private_endpoint_subnet_id | subnet of the vault's private endpoint | required |
    | virtual_network_id | VNet linked to the privatelink.vaultcore.azure.net zone | required |
    | allowed_ip_ranges | firewall exceptions (the Terraform runners, which create keys) | none |
    | crypto_officer_principal_ids | principals allowed to manage keys (e.g. the deploying identity) | none |
    | sku_name | ``premium`` (HSM-backed keys) or ``standard`` | premium |
    | soft_delete_retention_days | 7-90 | 90 |
    | log_analytics_workspace_id | audit logs destination | none |
    | prevent_destroy | refuse to destroy the vault in Terraform | True |
    | tags | tags | none |

    Without ``allowed_ip_ranges`` the public endpoint is disabled and the vault is reachable
    only through its private endpoint.
    """

    name: str
    resource_group_name: str
    location: str
    tenant_id: str
    private_endpoint_subnet_id: str
    virtual_network_id: str
    allowed_ip_ranges: Sequence[str] = ()
    crypto_officer_principal_ids: Sequence[str] = ()
    sku_name: str = "premium"
    soft_delete_retention_days: int = 90
    log_analytics_workspace_id: str | None = None
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 3 <= len(self.name) <= 24:
            raise ValueError(f"Key Vault name {self.name!r} must be 3-24 characters")
        if not 7 <= self.soft_delete_retention_days <= 90:
            raise ValueError(f"Key Vault {self.name}: soft_delete_retention_days must be 7-90")
        if any(cidr.endswith("/0") for cidr in self.allowed_ip_ranges):
            raise ValueError(f"Key Vault {self.name}: allowed_ip_ranges must not contain /0")


class AzureKeyVault(Construct):
    """Key Vault with RBAC authorisation, purge protection, default-deny firewall and a private endpoint.

    Attributes: ``vault``, ``vault_id``, ``vault_uri``, ``access`` (role assignments keys depend on).
    """

    def __init__(self, scope: Construct, id: str, props: AzureKeyVaultProps) -> None:
        super().__init__(scope, id)
        tags = dict(props.tags)
        self.vault = KeyVault(
            self,
            "vault",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            tenant_id=props.tenant_id,
            sku_name=props.sku_name,
            rbac_authorization_enabled=True,
            purge_protection_enabled=True,
            soft_delete_retention_days=props.soft_delete_retention_days,
            public_network_access_enabled=bool(props.allowed_ip_ranges),
            network_acls=KeyVaultNetworkAcls(
                default_action="Deny",
                bypass="AzureServices",
                ip_rules=list(props.allowed_ip_ranges),
            ),
            tags=tags,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.vault_id = self.vault.id
        self.vault_uri = self.vault.vault_uri
        self.access = [
            RoleAssignment(
                self,
                f"crypto-officer-{index}",
                scope=self.vault.id,
                role_definition_name=CRYPTO_OFFICER_ROLE,
                principal_id=principal,
            )
            for index, principal in enumerate(props.crypto_officer_principal_ids)
        ]

        private_access(
            self,
            link_name=f"{props.name}-vnet",
            endpoint_name=f"{props.name}-pe",
            connection_name=f"{props.name}-vault",
            resource_id=self.vault.id,
            subresource="vault",
            zone_name=KEY_VAULT_DNS_ZONE,
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
                name=f"{props.name}-to-log-analytics",
                target_resource_id=self.vault.id,
                log_analytics_workspace_id=props.log_analytics_workspace_id,
                enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="audit")],
                enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
            )
