"""`dr-workloads-<environment>`: the platform design's 12.2 application on the DR site's AKS cluster.

The same :class:`Application` as the primary's workloads stack (images, probes, resources,
ConfigMaps, backend-api's NetworkPolicy), sized by ``dr_azure.standby``: ``replicas`` pods of
each workload while Tokyo serves, the primary's counts (and autoscaling) once ``serving: true``
(the failover's one config change). ai-services stays at 0 pods on this site: it needs a GPU and
the failover pool has none; its node selector and tolerations are those of its configured node
group, so a GPU pool with that group's labels and taints would take it.

It points at the Azure endpoints: the flexible server (the application role and its password,
created there by the dr-sync replication Job), the site's Azure Cache for Redis (backend-api
signs in as its Entra workload identity, which holds the cache's ``Data Contributor`` policy;
no key) and the Key Vault: the Secrets come from the vault through the ClusterSecretStore on
the DR platform's reader identity, fed by the dr-sync PushSecrets. No collector runs on AKS:
the OpenTelemetry SDKs are off (``OTEL_SDK_DISABLED``); errors still go to Sentry when the DSN
secret exists.

Deployed after dr-platform, whose releases install the CRDs (ExternalSecret, ClusterSecretStore).
Failover and failback: docs/runbook-failover.md.
"""

from __future__ import annotations

from iworkz.config.dr_azure import dr_replicas
from iworkz.config.platform import WorkloadConfig
from iworkz.contracts import (
    POSTGRES_APP_USER,
    PUBLIC_WORKLOADS,
    AiOutputs,
    DrAzureOutputs,
    DrPlatformOutputs,
    DrWorkloadsOutputs,
    WorkloadsOutputs,
)
from iworkz_constructs.alb_gateway import Route
from iworkz_constructs.application import (
    AI_SECRETS,
    DATABASE_SECRET,
    IMAGE_PULL_SECRET,
    JWT_SECRET,
    AiServices,
    Application,
    ApplicationProps,
    Endpoint,
)
from iworkz_constructs.application_secrets import database_url_template, registry_hosts
from iworkz_constructs.azure_redis import TLS_PORT, grant_cache_access
from iworkz_constructs.entra_workload_identity import (
    WORKLOAD_IDENTITY_LABEL,
    EntraWorkloadIdentity,
    EntraWorkloadIdentityProps,
)
from iworkz_constructs.external_secret import ExternalSecret, RemoteValue, docker_config_template
from iworkz_constructs.key_vault_store import KeyVaultStore, KeyVaultStoreProps
from iworkz_constructs.namespace import Namespace, NamespaceProps
from iworkz_constructs.postgres import POSTGRES_PORT
from iworkz_constructs.scheduling import placements
from iworkz_constructs.standby_gateway import StandbyGateway, StandbyGatewayProps
from stacks.aks_providers import aks_providers
from stacks.aws_providers import default_tags
from stacks.azure_providers import azurerm_provider
from stacks.base import IworkzStack
from stacks.dr_sync import VAULT_SECRETS
from stacks.platform import CERT_MANAGER_NAMESPACE

# The workload that signs in to the cache (its service account carries the Entra identity).
CACHE_CLIENT = "backend-api"


class DrWorkloadsStack(IworkzStack):
    """Attributes: ``application``, ``store``, ``cache_identity``, ``gateway``; publishes :class:`DrWorkloadsOutputs`."""

    def build(self, dr_azure: DrAzureOutputs, dr_platform: DrPlatformOutputs, ai: AiOutputs) -> DrWorkloadsOutputs:
        context = self.context
        env, prefix = context.env, context.prefix
        platform = env.platform
        k8s = aks_providers(self, dr_azure).kubernetes
        azurerm_provider(self, env.dr_azure)
        namespace = Namespace(
            self,
            "app-namespace",
            NamespaceProps(prefix, labels={"environment": str(context.environment_name)}, provider=k8s),
        )
        self.cache_identity = EntraWorkloadIdentity(
            self,
            "cache-identity",
            EntraWorkloadIdentityProps(
                name=f"{prefix}-dr-{CACHE_CLIENT}",
                resource_group_name=dr_azure.resource_group_name,
                location=dr_azure.location,
                tenant_id=dr_azure.tenant_id,
                issuer=dr_azure.aks_oidc_issuer_url,
                namespace=prefix,
                service_account=f"{CACHE_CLIENT}-sa",
                tags=default_tags(context),
            ),
        )
        cache_access = grant_cache_access(
            self,
            "cache-access",
            cache_id=dr_azure.redis_cache_id,
            object_id=self.cache_identity.principal_id,
            alias=f"{prefix}-{CACHE_CLIENT}",
        )
        self.store = KeyVaultStore(
            self,
            "key-vault-store",
            KeyVaultStoreProps(vault_uri=dr_azure.key_vault_uri, reader=dr_platform.secret_reader, provider=k8s),
        )
        secrets = self._secrets(prefix, dr_azure, namespace)
        hosts = WorkloadsOutputs.configured(context)["hosts"]
        replicas = dr_replicas(env.dr_azure.standby, platform)
        self.application = Application(
            self,
            "application",
            ApplicationProps(
                namespace=prefix,
                workloads=standby_workloads(platform.workloads, replicas, serving=env.dr_azure.standby.serving),
                region=env.aws.region,
                api_host=hosts["api"],
                app_host=hosts["app"],
                database=Endpoint(dr_azure.postgres_fqdn, POSTGRES_PORT),
                database_name=env.data.postgres.database_name,
                redis=Endpoint(dr_azure.redis_hostname, TLS_PORT),
                # Azure Cache for Redis: the username is the identity's object ID, the password an Entra token.
                redis_url=f"rediss://{self.cache_identity.principal_id}@{dr_azure.redis_hostname}:{TLS_PORT}",
                redis_cluster_mode=False,
                ai=AiServices(
                    sagemaker_endpoint=None,
                    guardrail_id=ai.guardrail_id,
                    guardrail_version=ai.guardrail_version,
                    bedrock_models=tuple(ai.model_arns),
                ),
                # The standby gateway's pods (Azure CNI overlay: they take addresses of the pod range).
                load_balancer_cidrs=[env.dr_azure.aks_pod_cidr],
                metrics_scrapers=WorkloadsOutputs.configured(context)["metrics_scraper_label"],
                telemetry=None,
                placements=placements(platform.workloads, env.eks.node_groups),
                service_account_annotations={CACHE_CLIENT: self.cache_identity.service_account_annotations},
                pod_labels={CACHE_CLIENT: {WORKLOAD_IDENTITY_LABEL: "true"}},
                image_pull_secret=IMAGE_PULL_SECRET if platform.image_pull_secret else None,
                google_analytics_id=platform.google_analytics_id,
                depends_on=[namespace, cache_access, *(secret.manifest for secret in secrets)],
                provider=k8s,
            ),
        )
        public = {role: self.application.workloads[name] for role, name in PUBLIC_WORKLOADS.items()}
        self.gateway = StandbyGateway(
            self,
            "gateway",
            StandbyGatewayProps(
                name="iworkz",
                namespace=prefix,
                routes=[
                    Route(hosts[role], workload.service_name, workload.service_port, workload.readiness_path)
                    for role, workload in public.items()
                ],
                address=dr_azure.ingress_ip_address,
                resource_group_name=dr_azure.resource_group_name,
                # Only Cloudflare connects: the edge's failover pool (its published ranges).
                source_ranges=env.edge.origin_ranges,
                store=self.store,
                token_secret=VAULT_SECRETS["cloudflare"],
                cert_manager_namespace=CERT_MANAGER_NAMESPACE,
                gateway_class=dr_platform.gateway_class,
                depends_on=[namespace, *(workload.service for workload in public.values())],
                provider=k8s,
            ),
        )
        return DrWorkloadsOutputs.of(context)

    def _secrets(self, prefix: str, dr_azure: DrAzureOutputs, namespace: Namespace) -> list[ExternalSecret]:
        """The Secrets the design's Deployments read, from the Key Vault (fed by the dr-sync PushSecrets)."""
        store, platform = self.store, self.context.env.platform
        secrets = [
            store.external_secret(
                self,
                DATABASE_SECRET,
                prefix,
                [RemoteValue("password", VAULT_SECRETS["database"])],
                template=database_url_template(
                    POSTGRES_APP_USER, dr_azure.postgres_fqdn, self.context.env.data.postgres.database_name
                ),
                depends_on=[namespace],
            ),
            store.external_secret(
                self, JWT_SECRET, prefix, [RemoteValue("secret", VAULT_SECRETS["jwt"])], depends_on=[namespace]
            ),
            store.external_secret(
                self, AI_SECRETS, prefix, [RemoteValue("openai-key", VAULT_SECRETS["openai"])], depends_on=[namespace]
            ),
        ]
        if platform.image_pull_secret:
            registry = VAULT_SECRETS["registry"]
            hosts = registry_hosts(w.image.repository for w in platform.workloads.values())
            secrets.append(
                store.external_secret(
                    self,
                    IMAGE_PULL_SECRET,
                    prefix,
                    [RemoteValue("username", registry, "username"), RemoteValue("password", registry, "password")],
                    template=docker_config_template(hosts),
                    secret_type="kubernetes.io/dockerconfigjson",
                    depends_on=[namespace],
                )
            )
        return secrets


def standby_workloads(
    workloads: dict[str, WorkloadConfig], replicas: dict[str, int], *, serving: bool
) -> dict[str, WorkloadConfig]:
    """The workloads at the DR site's size: fixed ``replicas`` on standby, the primary's autoscaling once serving."""
    return {
        name: workload.model_copy(
            update={
                "replicas": replicas[name],
                "autoscaling": workload.autoscaling if serving and replicas[name] else None,
            }
        )
        for name, workload in workloads.items()
    }
