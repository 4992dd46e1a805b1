"""`dr-sync-<environment>`: what keeps the DR site current, running in the primary EKS cluster.

In namespace ``dr-sync`` (Pod Security ``restricted``), each piece signs in to Azure as an Entra
workload identity federated to its own service account (no key, no client secret):

- the ``dr-replication`` setup Job: publication and replication role on RDS, subscription on
  the Azure flexible server (:class:`LogicalReplication`), the recovery point of the database;
- the ``object-copy`` CronJob: the application buckets into the immutable backup container on
  the configured schedule, and its staleness alert at the objects RPO (:class:`ObjectCopy`);
- ``PushSecret``s: the application secrets the DR workloads need, from Secrets Manager into the
  Key Vault (:class:`KeyVaultPush`), never through Terraform.

Deployed after ``monitoring`` (the PrometheusRule CRD) and ``dr-azure`` (the site it feeds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iworkz.contracts import (
    ClusterOutputs,
    DataOutputs,
    DrAzureOutputs,
    DrSyncOutputs,
    MonitoringOutputs,
    WorkloadsOutputs,
)
from iworkz_constructs.entra_workload_identity import EntraWorkloadIdentity, EntraWorkloadIdentityProps
from iworkz_constructs.external_secret import RemoteValue
from iworkz_constructs.key_vault_push import KeyVaultPush, KeyVaultPushProps, PushedSecret
from iworkz_constructs.logical_replication import LogicalReplication, LogicalReplicationProps
from iworkz_constructs.namespace import Namespace, NamespaceProps
from iworkz_constructs.object_copy import ObjectCopy, ObjectCopyProps
from iworkz_constructs.operator_secret import OperatorSecret, OperatorSecretProps
from iworkz_constructs.postgres import POSTGRES_PORT
from iworkz_constructs.secret import GeneratedValue, Secret, SecretProps
from iworkz_constructs.secret_store import NamespaceSecretStore, NamespaceSecretStoreProps
from stacks.aws_providers import default_tags
from stacks.azure_providers import azurerm_provider
from stacks.base import IworkzStack
from stacks.cluster_providers import kubernetes_provider

if TYPE_CHECKING:
    from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

DR_SYNC_NAMESPACE = "dr-sync"
# Key Vault secret names of the application secrets (the DR workloads' stores read these).
# The Key Vault secrets the standby workloads read (dr-workloads), by their source.
VAULT_SECRETS = {
    "jwt": "jwt-secret",
    "openai": "openai-api-key",
    "registry": "registry-credentials",
    "database": "postgres-app-password",
    "cloudflare": "cloudflare-dns-token",
}


class DrSyncStack(IworkzStack):
    """Attributes: ``identities`` (purpose -> :class:`EntraWorkloadIdentity`), ``replication``,
    ``object_copy``, ``key_vault_push``. Publishes :class:`DrSyncOutputs` (the runbook's names)."""

    def build(
        self,
        eks: ClusterOutputs,
        data: DataOutputs,
        workloads: WorkloadsOutputs,
        monitoring: MonitoringOutputs,
        dr_azure: DrAzureOutputs,
    ) -> DrSyncOutputs:
        context = self.context
        config = context.env.dr_azure
        prefix = context.prefix
        azurerm_provider(self, config)
        k8s = kubernetes_provider(self, eks)
        namespace = Namespace(self, "namespace", NamespaceProps(DR_SYNC_NAMESPACE, provider=k8s))
        self.store = NamespaceSecretStore(
            self,
            "secret-store",
            NamespaceSecretStoreProps(
                namespace=DR_SYNC_NAMESPACE,
                cluster=eks,
                role_name=f"{prefix}-dr-sync-secrets",
                kms_key_arn=data.secrets_kms_key_arn,
                depends_on=[namespace],
                provider=k8s,
            ),
        )
        self.identities = {
            purpose: EntraWorkloadIdentity(
                self,
                f"{purpose}-identity",
                EntraWorkloadIdentityProps(
                    name=f"{prefix}-dr-{purpose}",
                    resource_group_name=dr_azure.resource_group_name,
                    location=dr_azure.location,
                    tenant_id=dr_azure.tenant_id,
                    issuer=f"https://{eks.oidc_issuer}",
                    namespace=DR_SYNC_NAMESPACE,
                    service_account=service_account,
                    tags=default_tags(context),
                ),
            )
            for purpose, service_account in (
                ("replication", "dr-replication"),
                ("copy", "object-copy"),
                ("secrets", "azure-key-vault"),
            )
        }
        self.replication = self._replication(data, dr_azure, k8s)
        self.object_copy = self._object_copy(eks, data, dr_azure, k8s)
        self.key_vault_push = self._push_secrets(data, workloads, dr_azure, k8s)
        del monitoring  # read for its order only: the PrometheusRule CRD is its release's
        return DrSyncOutputs.of(
            context,
            namespace=DR_SYNC_NAMESPACE,
            replication_job=self.replication.name,
            copy_cron_job=self.object_copy.name,
            copy_staleness_alert=self.object_copy.alert_name,
        )

    def _replication(self, data: DataOutputs, dr_azure: DrAzureOutputs, k8s: KubernetesProvider) -> LogicalReplication:
        postgres = data.postgres
        replicator = Secret(
            self,
            "replicator-password",
            SecretProps(
                name=f"{self.context.prefix}/dr/replicator-password",
                description="Password of the RDS logical-replication role of the DR subscriber",
                kms_key_arn=data.secrets_kms_key_arn,
                generated=GeneratedValue(),
            ),
        )
        master = postgres.master_user_secret_arn
        credentials = self.store.external_secret(
            self,
            "replication-credentials",
            [
                RemoteValue("master-username", master, "username"),
                RemoteValue("master-password", master, "password"),
                RemoteValue("replicator-password", replicator.arn),
                RemoteValue("app-password", postgres.app_password_secret_arn),
            ],
        )
        identity = self.identities["replication"]
        admin = identity.administer_postgres(dr_azure.postgres_server_name, dr_azure.resource_group_name)
        return LogicalReplication(
            self,
            "replication",
            LogicalReplicationProps(
                namespace=DR_SYNC_NAMESPACE,
                publisher_host=postgres.address,
                publisher_port=POSTGRES_PORT,
                database=postgres.database_name,
                subscriber_host=dr_azure.postgres_fqdn,
                subscriber_user=identity.name,
                credentials_secret=credentials.secret_name,
                app_user=postgres.app_user,
                azure_environment=identity.pod_environment(),
                service_account_annotations=identity.service_account_annotations,
                image=self.context.env.platform.database_client_image.reference,
                depends_on=[credentials.manifest, admin, identity.credential],
                provider=k8s,
            ),
        )

    def _object_copy(
        self, eks: ClusterOutputs, data: DataOutputs, dr_azure: DrAzureOutputs, k8s: KubernetesProvider
    ) -> ObjectCopy:
        config = self.context.env.dr_azure
        purposes = list(self.context.env.data.buckets)
        role = eks.service_account_role(
            self,
            "object-copy-role",
            role_name=f"{self.context.prefix}-dr-object-copy",
            namespace=DR_SYNC_NAMESPACE,
            service_account="object-copy",
            description="Reads the application buckets for the DR site's copy",
        )
        data.grant_bucket_read(role, *purposes)
        identity = self.identities["copy"]
        grant = identity.grant("backup-container", "Storage Blob Data Contributor", dr_azure.backup_container_id)
        recovery = config.recovery
        return ObjectCopy(
            self,
            "object-copy",
            ObjectCopyProps(
                namespace=DR_SYNC_NAMESPACE,
                buckets=[data.buckets[purpose] for purpose in purposes],
                # The stack's AWS provider (the roles and the secret) is in the buckets' region.
                region=self.aws.region,
                storage_account=dr_azure.backup_storage_account_name,
                container=dr_azure.backup_container_name,
                schedule=recovery.copy_schedule,
                max_minutes=recovery.object_copy_max_minutes,
                stale_after_hours=recovery.objects_rpo_hours,
                service_account_annotations={
                    **role.service_account_annotations,
                    **identity.service_account_annotations,
                },
                azure_environment=identity.pod_environment(),
                image=config.copy_image.reference,
                depends_on=[grant, identity.credential, role.role],
                provider=k8s,
            ),
        )

    def _push_secrets(
        self, data: DataOutputs, workloads: WorkloadsOutputs, dr_azure: DrAzureOutputs, k8s: KubernetesProvider
    ) -> KeyVaultPush:
        # The standby gateway's certificate (DNS-01 at Cloudflare): a scoped token the operators enter.
        dns_token = OperatorSecret(
            self,
            "cloudflare-dns-token",
            OperatorSecretProps(
                f"{self.context.prefix}/dr/cloudflare-dns-token",
                "Cloudflare API token with Zone:DNS:Edit on the public hosts' zone, for the DR gateway's "
                "certificate (plain string)",
                data.secrets_kms_key_arn,
            ),
        )
        sources = {
            "jwt": data.jwt_secret_arn,
            "database": data.postgres.app_password_secret_arn,
            "cloudflare": dns_token.arn,
            **workloads.operator_secret_arns,
        }
        synced = {
            purpose: self.store.external_secret(self, f"{VAULT_SECRETS[purpose]}-source", [RemoteValue("value", arn)])
            for purpose, arn in sources.items()
        }
        identity = self.identities["secrets"]
        grant = identity.grant("key-vault", "Key Vault Secrets Officer", dr_azure.key_vault_id)
        return KeyVaultPush(
            self,
            "key-vault-push",
            KeyVaultPushProps(
                namespace=DR_SYNC_NAMESPACE,
                vault_uri=dr_azure.key_vault_uri,
                service_account_annotations=identity.service_account_annotations,
                secrets=[PushedSecret(VAULT_SECRETS[purpose], secret, "value") for purpose, secret in synced.items()],
                depends_on=[grant, identity.credential],
                provider=k8s,
            ),
        )
