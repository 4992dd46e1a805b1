"""`dr-azure`: the Korea Central disaster-recovery site (seed 12.1, secondary cloud).

Azure Korea Central (paired with Korea South for geo-redundant copies) holds the AKS backup
cluster, a PostgreSQL flexible server that subscribes to the RDS primary, and the backup
storage that S3 copies land in; a site-to-site IPsec VPN links the AWS VPC and the Azure VNet.
Failover and failback: docs/runbook-failover.md. Azure Monitor alerts reach the environment's
alert path through the action group of :class:`AzureAlertPath` (``self.alert_path.action(...)``,
or ``DrAzureOutputs.alert_action(...)`` from another stack); the VPN's AWS side alarms on it too.

The checkov findings this site cannot satisfy are skipped in .checkov.yaml, each with its reason.
"""

from __future__ import annotations

from cdktf_cdktf_provider_azuread.provider import AzureadProvider
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig

from iworkz.contracts import AlertsOutputs, DeliveryOutputs, DrAzureOutputs, NetworkOutputs
from iworkz.policy import waive
from iworkz_constructs.aks_cluster import CLUSTER_ADMIN_ROLE
from iworkz_constructs.azure_backup_storage import BLOB_DNS_ZONE, AzureBackupStorage, AzureBackupStorageProps
from iworkz_constructs.azure_key_vault import (
    CRYPTO_OFFICER_ROLE,
    ENCRYPTION_USER_ROLE,
    KEY_VAULT_DNS_ZONE,
    AzureKeyVault,
    AzureKeyVaultProps,
)
from iworkz_constructs.azure_names import compact_name
from iworkz_constructs.azure_pipeline_access import READER_ROLE, AzurePipelineAccess, AzurePipelineAccessProps
from iworkz_constructs.azure_redis import REDIS_DNS_ZONE
from iworkz_constructs.azure_site import SiteLogWorkspace, SiteResourceGroup
from iworkz_constructs.azure_vnet import AzureVnet, AzureVnetProps
from iworkz_constructs.dr_site_alerting import site_alerting
from iworkz_constructs.dr_site_cluster import site_cluster
from iworkz_constructs.dr_site_data import site_data
from iworkz_constructs.dr_site_link import AzureSide, site_link
from stacks.aws_providers import default_tags
from stacks.azure_providers import azurerm_provider
from stacks.base import IworkzStack

# The failover ingress (HTTPS) is the only port the AKS subnet accepts from the internet.
AKS_PUBLIC_INGRESS_PORTS = (443,)
# The roles this stack's resources assign each other (AKS, Key Vault, storage): the only ones
# its deploy pipeline may assign (tests/test_delivery.py compares them with the synth).
DR_ASSIGNED_ROLES = (CRYPTO_OFFICER_ROLE, ENCRYPTION_USER_ROLE, CLUSTER_ADMIN_ROLE, "Network Contributor", READER_ROLE)


class DrAzureStack(IworkzStack):
    """The Korea Central site and its VPN to the AWS VPC; publishes :class:`DrAzureOutputs`."""

    def build(self, network: NetworkOutputs, delivery: DeliveryOutputs, alerts: AlertsOutputs) -> DrAzureOutputs:
        context = self.context
        config = context.env.dr_azure
        prefix = f"{context.prefix}-dr"
        tags = default_tags(context)
        azurerm_provider(self, config)
        # Microsoft Entra: the application Azure Monitor's secure webhook signs its calls for.
        AzureadProvider(self, "azuread", tenant_id=config.tenant_id)
        client = DataAzurermClientConfig(self, "client")
        tenant_id = config.tenant_id or client.tenant_id
        location = config.location

        self.resource_group = SiteResourceGroup(
            self, "resource-group", name=f"{prefix}-rg", location=location, tags=tags
        )
        rg = self.resource_group.name
        # The pipelines' Entra ID applications (delivery stack) on this resource group only.
        AzurePipelineAccess(
            self,
            "pipeline-access",
            AzurePipelineAccessProps(
                scope=self.resource_group.id,
                planner_principal_ids=(delivery.azure_plan_principal_id,),
                deployer_principal_id=delivery.azure_deploy_principal_ids[context.env.name],
                assignable_roles=DR_ASSIGNED_ROLES,
            ),
        )

        workspace = SiteLogWorkspace(
            self,
            "log-analytics",
            name=f"{prefix}-logs",
            resource_group_name=rg,
            location=location,
            retention_days=config.log_retention_days,
            tags=tags,
        )
        self.log_analytics_workspace_id = workspace.id

        self.vnet = AzureVnet(
            self,
            "vnet",
            AzureVnetProps(
                name=f"{prefix}-vnet",
                resource_group_name=rg,
                location=location,
                address_space=config.vnet_cidr,
                subnets=config.subnets,
                aks_public_ingress_ports=AKS_PUBLIC_INGRESS_PORTS,
                tags=tags,
            ),
        )

        self.key_vault = AzureKeyVault(
            self,
            "key-vault",
            AzureKeyVaultProps(
                name=compact_name(f"{prefix}-kv", 24),
                resource_group_name=rg,
                location=location,
                tenant_id=tenant_id,
                private_endpoint_subnet_id=self.vnet.private_endpoints_subnet_id,
                virtual_network_id=self.vnet.vnet_id,
                allowed_ip_ranges=tuple(config.deployer_ip_ranges),
                # Terraform's own identity creates the customer-managed keys.
                crypto_officer_principal_ids=(client.object_id,),
                log_analytics_workspace_id=workspace.id,
                tags=tags,
            ),
        )

        self.backup_storage = AzureBackupStorage(
            self,
            "backup-storage",
            AzureBackupStorageProps(
                account_name=compact_name(f"{prefix}backup", 24, alphanumeric=True),
                resource_group_name=rg,
                location=location,
                paired_location=config.paired_location,
                private_endpoint_subnet_id=self.vnet.private_endpoints_subnet_id,
                virtual_network_id=self.vnet.vnet_id,
                key_vault_id=self.key_vault.vault_id,
                key_vault_access=tuple(self.key_vault.access),
                replication_type=config.storage_replication_type,
                immutability_days=config.backup_immutability_days,
                soft_delete_days=config.blob_soft_delete_days,
                log_analytics_workspace_id=workspace.id,
                tags=tags,
            ),
        )

        data = site_data(
            self,
            name=prefix,
            config=config,
            resource_group_name=rg,
            tenant_id=tenant_id,
            vnet=self.vnet,
            log_analytics_workspace_id=workspace.id,
            tags=tags,
        )
        self.postgres, self.redis = data.postgres, data.redis
        cluster = site_cluster(
            self,
            name=prefix,
            config=config,
            resource_group_name=rg,
            tenant_id=tenant_id,
            node_subnet_id=self.vnet.aks_nodes_subnet_id,
            key_vault=self.key_vault,
            log_analytics_workspace_id=workspace.id,
            tags=tags,
        )
        self.aks = cluster.aks
        # The standby gateway's address: the Azure origin of the edge's failover pool.
        self.ingress = cluster.ingress

        for control, reason in config.disabled.items():
            waive(self, control, reason)
        self.alerting = site_alerting(
            self,
            name=prefix,
            resource_group_name=rg,
            tenant_id=tenant_id,
            subscription_id=config.subscription_id or client.subscription_id,
            workspace_id=workspace.id,
            locked={
                "postgres": self.postgres.server_id,
                "backup-storage": self.backup_storage.account_id,
                "key-vault": self.key_vault.vault_id,
                "log-analytics": workspace.id,
            },
            alerts=alerts,
            config=config,
            tags=tags,
            aws_provider=self.aws.primary,
        )
        self.alert_path = self.alerting.alert_path
        # The VPC resolves the DR site's private names (backup copies, failback) through Azure.
        self.link = site_link(
            self,
            name=prefix,
            azure=AzureSide(
                resource_group_name=rg,
                gateway_subnet_id=self.vnet.gateway_subnet_id,
                virtual_network_id=self.vnet.vnet_id,
                dns_resolver_subnet_id=self.vnet.dns_resolver_subnet_id,
                log_analytics_workspace_id=workspace.id,
            ),
            vpc=network,
            config=config,
            forwarded_zones=self._private_zones(),
            account_id=self.aws.account_id,
            region=self.aws.region,
            alarm_actions=alerts.alarm_actions(),
            alarms=context.env.alarms.settings("vpn"),
            aws_provider=self.aws.primary,
            tags=tags,
        )
        self.alarm_dashboard()

        return DrAzureOutputs.of(
            context,
            aks_cluster_name=self.aks.cluster_name,
            aks_cluster_id=self.aks.cluster_id,
            postgres_fqdn=self.postgres.fqdn,
            backup_storage_account_name=self.backup_storage.account_name,
            backup_container_name=self.backup_storage.container_name,
            vpn_gateway_public_ip=self.link.vpn.public_ip_address,
            alert_action_group_id=self.alert_path.action_group_id,
            tenant_id=tenant_id,
            aks_oidc_issuer_url=self.aks.oidc_issuer_url,
            aks_host=self.aks.host,
            aks_cluster_ca_certificate=self.aks.cluster_ca_certificate,
            key_vault_id=self.key_vault.vault_id,
            key_vault_uri=self.key_vault.vault_uri,
            backup_container_id=self.backup_storage.container_id,
            ingress_ip_name=self.ingress.name,
            ingress_ip_address=self.ingress.address,
            ingress_fqdn=self.ingress.fqdn,
            redis_hostname=self.redis.hostname,
            redis_cache_id=self.redis.cache_id,
        )

    def _private_zones(self) -> tuple[str, ...]:
        """The private DNS zones the AWS VPC resolves through Azure."""
        config = self.context.env.dr_azure
        zones: tuple[str, ...] = (BLOB_DNS_ZONE, KEY_VAULT_DNS_ZONE, self.postgres.private_dns_zone_name)
        if config.aks_private_cluster:
            # The private API server's zone (AKS creates it and links it to the VNet).
            zones += (f"privatelink.{config.location}.azmk8s.io",)
        # Last: the rules are numbered in this order (a new zone must not renumber the others).
        return (*zones, REDIS_DNS_ZONE)
