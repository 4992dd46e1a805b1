"""`workloads-<environment>`: the platform design's 12.2 application and what it reads.

In the application namespace ``iworkz-<environment>`` (Pod Security ``restricted``): the
three workloads (:class:`Application`), their secrets synced from Secrets Manager by the
namespace's own secret store (the data stack's entries and the two the operators fill), the
IAM roles of backend-api and ai-services (granted by the resources' owners: the data stack's
Redis, the ai stack's endpoints, models and services).

North-south: the Gateway (Gateway API) the AWS Load Balancer Controller turns into an
internet-facing ALB, named so that the edge stack finds it, with an ACM certificate for the hosts
(validated by the edge stack's Cloudflare records) admitting only Cloudflare's published ranges;
HTTPRoutes for the api and app hosts and the HTTP -> HTTPS redirect. East-west: the namespace is
in the Istio ambient mesh, mesh-wide mTLS is STRICT, and only the ports clients outside the mesh
reach (the ALB, Prometheus) accept plaintext. Deployed after the platform stack, whose CRDs these
objects use.

Until the split these lived in the platform stack; an environment that ran it imports them
(``migrations.pending: [platform-split]``, iworkz/migrations.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iworkz.config.ai import MATCHING_MODEL
from iworkz.contracts import (
    PUBLIC_WORKLOADS,
    REDIS_APP_USER,
    AiOutputs,
    ClusterOutputs,
    DataOutputs,
    NetworkOutputs,
    PlatformOutputs,
    WorkloadsOutputs,
)
from iworkz.migrations import PLATFORM_SPLIT, adopt
from iworkz_constructs.alb_gateway import AlbGateway, AlbGatewayProps, Route
from iworkz_constructs.application import (
    IMAGE_PULL_SECRET,
    METRICS_PORT,
    SENTRY_SECRET,
    AiServices,
    Application,
    ApplicationProps,
    Endpoint,
    Telemetry,
)
from iworkz_constructs.application_secrets import (
    ApplicationSecretsProps,
    application_secrets,
    operator_secrets,
    registry_hosts,
)
from iworkz_constructs.database_roles import DatabaseSetupProps, database_setup
from iworkz_constructs.external_secret import RemoteValue
from iworkz_constructs.k8s_workload import K8sWorkload
from iworkz_constructs.mesh_mtls import Entrypoint, MeshMtls, MeshMtlsProps
from iworkz_constructs.namespace import Namespace, NamespaceProps
from iworkz_constructs.operator_secret import OperatorSecret, OperatorSecretProps
from iworkz_constructs.postgres import POSTGRES_PORT
from iworkz_constructs.redis import REDIS_PORT
from iworkz_constructs.scheduling import placements
from iworkz_constructs.secret_store import NamespaceSecretStore, NamespaceSecretStoreProps
from stacks.base import IworkzStack
from stacks.cluster_providers import kubernetes_provider

if TYPE_CHECKING:
    from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

DATABASE_SETUP_NAMESPACE = "database-setup"


class WorkloadsStack(IworkzStack):
    """Attributes: ``application``, ``secret_store``, ``roles``; publishes :class:`WorkloadsOutputs`."""

    def build(
        self,
        network: NetworkOutputs,
        eks: ClusterOutputs,
        data: DataOutputs,
        platform: PlatformOutputs,
        ai: AiOutputs,
    ) -> WorkloadsOutputs:
        context = self.context
        config = context.env.platform
        region = self.aws.region  # the stack's AWS provider (the IAM roles), in the cluster's region
        prefix = context.prefix
        hosts = WorkloadsOutputs.configured(context)["hosts"]
        k8s = kubernetes_provider(self, eks)
        namespace = Namespace(
            self,
            "app-namespace",
            # Design 12.2: iworkz-production, labelled with its name and environment; its pods are in
            # the ambient mesh (mTLS through ztunnel).
            NamespaceProps(
                prefix,
                labels={"environment": str(context.environment_name), **platform.mesh_member_labels},
                provider=k8s,
            ),
        )
        self.secret_store = NamespaceSecretStore(
            self,
            "secret-store",
            NamespaceSecretStoreProps(
                namespace=prefix,
                cluster=eks,
                role_name=f"{prefix}-app-secrets",
                kms_key_arn=data.secrets_kms_key_arn,
                depends_on=[namespace],
                provider=k8s,
            ),
        )
        pull_from = (
            registry_hosts(w.image.repository for w in config.workloads.values()) if config.image_pull_secret else []
        )
        operator = operator_secrets(self, prefix, data.secrets_kms_key_arn, pull_from)
        database_roles = database_setup(
            self,
            DatabaseSetupProps(
                namespace=DATABASE_SETUP_NAMESPACE,
                cluster=eks,
                role_name=f"{prefix}-database-setup-secrets",
                postgres=data.postgres,
                kms_key_arn=data.secrets_kms_key_arn,
                image=config.database_client_image.reference,
                provider=k8s,
            ),
        )
        secrets = application_secrets(self, ApplicationSecretsProps(self.secret_store, data, operator, pull_from))
        # Created after the platform split: nothing to import for these two.
        sentry = OperatorSecret(
            self,
            "sentry-dsn-entry",
            OperatorSecretProps(
                f"{prefix}/platform/sentry-dsn", "Sentry DSN of the workloads (plain string)", data.secrets_kms_key_arn
            ),
        )
        sentry_secret = self.secret_store.external_secret(self, SENTRY_SECRET, [RemoteValue("dsn", sentry.arn)])

        self.roles = {
            "backend-api": eks.service_account_role(
                self,
                "backend-api-role",
                role_name=f"{prefix}-backend-api",
                namespace=prefix,
                service_account="backend-api-sa",
            ),
            # Named as the ai stack's interface endpoints expect (their policies admit only it).
            "ai-services": eks.service_account_role(
                self,
                "ai-services-role",
                role_name=ai.client_role_name,
                namespace=prefix,
                service_account="ai-services-sa",
            ),
        }
        data.redis.grant_connect(self.roles["backend-api"], REDIS_APP_USER)
        ai.grant_invoke(self.roles["ai-services"])

        self.application = Application(
            self,
            "application",
            ApplicationProps(
                namespace=prefix,
                workloads=config.workloads,
                region=region,
                api_host=hosts["api"],
                app_host=hosts["app"],
                database=Endpoint(data.postgres.address, POSTGRES_PORT),
                database_name=data.postgres.database_name,
                redis=Endpoint(data.redis.configuration_endpoint, REDIS_PORT),
                # No endpoint in this environment: ai-services gets no SAGEMAKER_ENDPOINT at all.
                ai=AiServices(
                    sagemaker_endpoint=ai.endpoint_names.get(MATCHING_MODEL),
                    guardrail_id=ai.guardrail_id,
                    guardrail_version=ai.guardrail_version,
                    bedrock_models=tuple(ai.model_arns),
                ),
                load_balancer_cidrs=network.public_subnet_cidrs,  # the ALB's nodes
                in_mesh=True,
                metrics_scrapers=WorkloadsOutputs.configured(context)["metrics_scraper_label"],
                telemetry=Telemetry(
                    otlp_endpoint=platform.otlp_endpoint,
                    environment=str(context.environment_name),
                    sampling_ratio=config.trace_sampling_ratio,
                ),
                placements=placements(config.workloads, context.env.eks.node_groups),
                service_account_annotations={
                    name: role.service_account_annotations for name, role in self.roles.items()
                },
                image_pull_secret=IMAGE_PULL_SECRET if config.image_pull_secret else None,
                google_analytics_id=config.google_analytics_id,
                depends_on=[namespace, database_roles.job, *(secret.manifest for secret in (*secrets, sentry_secret))],
                provider=k8s,
            ),
        )
        self.gateway = self._gateway(namespace, k8s)
        self.mesh = MeshMtls(
            self,
            "mesh-mtls",
            MeshMtlsProps(
                root_namespace=platform.mesh_root_namespace,
                # Clients outside the mesh: the ALB reaches the public workloads' port, Prometheus
                # every workload's metrics port.
                entrypoints=[
                    Entrypoint(
                        name,
                        prefix,
                        workload.selector_labels,
                        [*([workload.container_port] if name in PUBLIC_WORKLOADS.values() else []), METRICS_PORT],
                    )
                    for name, workload in self.application.workloads.items()
                ],
                depends_on=[namespace],
                provider=k8s,
            ),
        )
        adopt(
            context,
            PLATFORM_SPLIT,
            namespace,
            *operator.values(),
            *secrets,
            *self.roles.values(),
            self.application,
        )
        certificate = self.gateway.certificate
        return WorkloadsOutputs.of(
            context,
            namespace=prefix,
            metrics_targets=self.application.metrics_targets,
            hosts=hosts,
            certificate_arn=certificate.arn,
            **{
                f"certificate_validation_{part}s": {
                    r: getattr(certificate.validation_record(h), part) for r, h in hosts.items()
                }
                for part in ("name", "type", "value")
            },
            operator_secret_arns={name: secret.arn for name, secret in operator.items()},
        )

    def _gateway(self, namespace: Namespace, k8s: KubernetesProvider) -> AlbGateway:
        """The ALB (through the Gateway API) with its certificate, open only to Cloudflare."""
        context = self.context
        configured = WorkloadsOutputs.configured(context)
        hosts = configured["hosts"]
        public: dict[str, K8sWorkload] = {
            role: self.application.workloads[name] for role, name in PUBLIC_WORKLOADS.items()
        }
        gateway = AlbGateway(
            self,
            "gateway",
            AlbGatewayProps(
                name="iworkz",
                namespace=context.prefix,
                load_balancer_name=configured["load_balancer_name"],
                routes=[
                    Route(hosts[role], workload.service_name, workload.service_port, workload.readiness_path)
                    for role, workload in public.items()
                ],
                # Only Cloudflare may connect (its published ranges, iworkz/config/catalog/edge.yaml).
                source_ranges=context.env.edge.origin_ranges,
                cors_origin=f"https://{hosts['app']}",
                tags=configured["load_balancer_tags"],
                depends_on=[namespace, *(workload.service for workload in public.values())],
                provider=k8s,
            ),
        )
        return gateway
