"""`platform-<environment>`: cluster add-ons and the seed's 12.2 workloads, consistent with the node groups.

Add-ons (Helm, versions pinned exactly, IRSA roles through :class:`WorkloadRole`): AWS Load
Balancer Controller, ingress-nginx behind an NLB, cert-manager with the ``letsencrypt-prod``
ClusterIssuer, metrics-server (the HPA needs it), cluster-autoscaler (node-group discovery
tags), NVIDIA device plugin (on the GPU node group), External Secrets Operator with a
ClusterSecretStore for Secrets Manager.

Workloads (kubernetes provider) in the namespace ``iworkz-<environment>``. Differences from
the seed, on purpose:

- images are ``repository:tag`` from configuration (no ``latest``); after creation the
  application pipeline owns the image (``ignore_changes``, see constructs/k8s_workload.py);
- the secrets are ExternalSecrets of the data stack's Secrets Manager entries, never literals;
- ai-services' tolerations and node selector are derived from the GPU node group (the seed's
  ``ai-workload`` toleration and ``instance-type`` selector match no node group);
- containers also run with a read-only root filesystem, no privilege escalation and no
  capabilities; the namespace enforces the ``restricted`` Pod Security Standard;
- the seed's ``nvidia.com/gpu: 0`` request is dropped: Kubernetes requires requests equal to
  limits for extended resources, so the request defaults to the limit (1);
- the Ingress uses ``ingressClassName: nginx`` (the ``kubernetes.io/ingress.class`` annotation
  is deprecated), ``limit-rpm`` (``rate-limit``/``rate-limit-window`` are not ingress-nginx
  annotations) and ``enable-cors`` (without it ingress-nginx ignores the cors-* annotations);
- the Services also expose the metrics port 9090 the seed's Prometheus jobs scrape, and the
  backend NetworkPolicy admits the monitoring namespace on it.

First apply on a new cluster: ``kubernetes_manifest`` objects (ClusterIssuer,
ClusterSecretStore, ExternalSecrets) need their CRDs at plan time, so the Helm releases are
applied first (README: first apply of the platform stack).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from cdktf import TerraformOutput, TerraformResourceLifecycle, TerraformStack, Token
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.horizontal_pod_autoscaler_v2 import (
    HorizontalPodAutoscalerV2,
    HorizontalPodAutoscalerV2Metadata,
    HorizontalPodAutoscalerV2Spec,
    HorizontalPodAutoscalerV2SpecBehavior,
    HorizontalPodAutoscalerV2SpecBehaviorScaleDown,
    HorizontalPodAutoscalerV2SpecBehaviorScaleDownPolicy,
    HorizontalPodAutoscalerV2SpecBehaviorScaleUp,
    HorizontalPodAutoscalerV2SpecBehaviorScaleUpPolicy,
    HorizontalPodAutoscalerV2SpecMetric,
    HorizontalPodAutoscalerV2SpecMetricResource,
    HorizontalPodAutoscalerV2SpecMetricResourceTarget,
    HorizontalPodAutoscalerV2SpecScaleTargetRef,
)
from cdktf_cdktf_provider_kubernetes.ingress_v1 import (
    IngressV1,
    IngressV1Metadata,
    IngressV1Spec,
    IngressV1SpecRule,
    IngressV1SpecRuleHttp,
    IngressV1SpecRuleHttpPath,
    IngressV1SpecRuleHttpPathBackend,
    IngressV1SpecRuleHttpPathBackendService,
    IngressV1SpecRuleHttpPathBackendServicePort,
    IngressV1SpecTls,
)
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from cdktf_cdktf_provider_kubernetes.network_policy_v1 import (
    NetworkPolicyV1,
    NetworkPolicyV1Metadata,
    NetworkPolicyV1Spec,
    NetworkPolicyV1SpecEgress,
    NetworkPolicyV1SpecEgressPorts,
    NetworkPolicyV1SpecIngress,
    NetworkPolicyV1SpecIngressFrom,
    NetworkPolicyV1SpecIngressFromNamespaceSelector,
    NetworkPolicyV1SpecIngressFromPodSelector,
    NetworkPolicyV1SpecIngressPorts,
    NetworkPolicyV1SpecPodSelector,
)
from constructs import Construct

from iworkz.app import StackContext
from iworkz.config.platform import WorkloadConfig
from iworkz.helm_values import load_values, merge_values
from iworkz_constructs.external_secret import ExternalSecret, ExternalSecretProps, RemoteValue
from iworkz_constructs.helm_chart import HelmChart, HelmChartProps
from iworkz_constructs.k8s_workload import ConfigVolume, EnvVar, HttpProbe, K8sWorkload, K8sWorkloadProps
from iworkz_constructs.postgres import POSTGRES_PORT
from iworkz_constructs.redis import REDIS_PORT
from iworkz_constructs.scheduling import Placement, Toleration, gpu_daemon_placement, gpu_node_groups, placement_on
from iworkz_constructs.workload_role import WorkloadRole, WorkloadRoleProps
from stacks.base import IworkzStack
from stacks.cluster_providers import cluster_providers
from stacks.data import REDIS_APP_USER
from stacks.monitoring import NAMESPACE as MONITORING_NAMESPACE
from stacks.platform_iam import (
    cluster_autoscaler_statements,
    external_secrets_statements,
    load_balancer_controller_statements,
    sagemaker_invoke_statements,
)

KUBE_SYSTEM = "kube-system"
INGRESS_NAMESPACE = "ingress-nginx"
CERT_MANAGER_NAMESPACE = "cert-manager"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
INGRESS_CLASS = "nginx"
CLUSTER_ISSUER = "letsencrypt-prod"
ACME_SERVER = "https://acme-v02.api.letsencrypt.org/directory"
TLS_SECRET = "iworkz-tls"
METRICS_PORT = 9090  # seed 12.5 scrape targets <service>:9090 and backend app.yaml monitoring.prometheus.port
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
IMAGE_PULL_SECRET = "docker-registry-secret"  # seed 12.2 imagePullSecrets
DNS_PORT = 53
HTTPS_PORT = 443


@dataclass(frozen=True)
class Addon:
    """A Helm add-on: chart coordinates (versions exact, checked by HelmChartProps)."""

    chart: str
    repository: str
    version: str
    namespace: str


ADDONS: dict[str, Addon] = {
    "aws-load-balancer-controller": Addon(
        "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "1.14.1", KUBE_SYSTEM
    ),
    "ingress-nginx": Addon("ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "4.13.3", INGRESS_NAMESPACE),
    "cert-manager": Addon("cert-manager", "https://charts.jetstack.io", "v1.18.2", CERT_MANAGER_NAMESPACE),
    "metrics-server": Addon(
        "metrics-server", "https://kubernetes-sigs.github.io/metrics-server", "3.13.0", KUBE_SYSTEM
    ),
    "cluster-autoscaler": Addon("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.52.1", KUBE_SYSTEM),
    "nvidia-device-plugin": Addon(
        "nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.4", KUBE_SYSTEM
    ),
    "external-secrets": Addon(
        "external-secrets", "https://charts.external-secrets.io", "0.20.4", EXTERNAL_SECRETS_NAMESPACE
    ),
}

# Seed 12.2 ingress annotations (CORS methods and headers verbatim).
CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
CORS_HEADERS = "DNT,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Authorization"


@dataclass(frozen=True)
class WorkloadSpec:
    """The seed's fixed per-workload values (12.2); image, replicas and placement come from config."""

    port: int
    tier: str
    requests: Mapping[str, str]
    limits: Mapping[str, str]
    liveness: HttpProbe
    readiness: HttpProbe
    max_surge: int
    max_unavailable: int
    writable_paths: tuple[str, ...] = ("/tmp",)


SEED_WORKLOADS: dict[str, WorkloadSpec] = {
    "backend-api": WorkloadSpec(
        port=3000,
        tier="backend",
        requests={"memory": "512Mi", "cpu": "250m"},
        limits={"memory": "1Gi", "cpu": "500m"},
        liveness=HttpProbe("/health", initial_delay_seconds=30, period_seconds=10, timeout_seconds=5),
        readiness=HttpProbe("/ready", initial_delay_seconds=5, period_seconds=5, timeout_seconds=3),
        max_surge=1,
        max_unavailable=0,
    ),
    "ai-services": WorkloadSpec(
        port=8000,
        tier="ai",
        requests={"memory": "2Gi", "cpu": "1000m"},
        limits={"memory": "4Gi", "cpu": "2000m"},
        liveness=HttpProbe("/health", initial_delay_seconds=60, period_seconds=30, timeout_seconds=10),
        readiness=HttpProbe("/ready", initial_delay_seconds=10, period_seconds=10, timeout_seconds=5),
        max_surge=1,
        max_unavailable=0,
    ),
    "web-frontend": WorkloadSpec(
        port=3000,
        tier="frontend",
        requests={"memory": "256Mi", "cpu": "100m"},
        limits={"memory": "512Mi", "cpu": "250m"},
        liveness=HttpProbe("/api/health", initial_delay_seconds=30, period_seconds=10),
        readiness=HttpProbe("/api/ready", initial_delay_seconds=5, period_seconds=5),
        max_surge=2,
        max_unavailable=1,
        # Next.js standalone writes its image cache below .next/cache (WORKDIR /app in the seed).
        writable_paths=("/tmp", "/app/.next/cache"),
    ),
}


class PlatformStack(IworkzStack):
    """Attributes: ``namespace`` (application namespace name), ``charts`` (release → HelmChart),
    ``roles`` (name → WorkloadRole), ``workloads`` (name → K8sWorkload), ``external_secrets``
    (name → ExternalSecret), ``placements`` (workload → Placement), ``secret_store`` (name),
    ``hosts`` (api, app)."""

    def __init__(self, scope: Construct, context: StackContext, eks: Any, data: Any) -> None:
        super().__init__(scope, context)
        self.eks = eks
        self.data = data
        env = context.env
        self.config = env.platform
        self.node_groups = env.eks.node_groups
        self.region = self.aws.region
        self.prefix = context.prefix
        self.namespace = context.prefix  # seed 12.2: iworkz-production
        self.secret_store = env.monitoring.secret_store
        self.hosts = {"api": f"api.{self.config.domain}", "app": f"app.{self.config.domain}"}
        providers = cluster_providers(self, eks)
        self.k8s = providers.kubernetes
        self.helm = providers.helm
        self.charts: dict[str, HelmChart] = {}
        self.roles: dict[str, WorkloadRole] = {}
        self.workloads: dict[str, K8sWorkload] = {}
        self.external_secrets: dict[str, ExternalSecret] = {}
        self.placements: dict[str, Placement] = {}

        self._operator_secrets()
        self._addons()
        self._application()
        TerraformOutput(self, "app_namespace", value=self.namespace, description="namespace of the seed's workloads")
        TerraformOutput(
            self,
            "ingress_hosts",
            value=list(self.hosts.values()),
            description="hosts served by iworkz-ingress (point DNS at the ingress-nginx NLB)",
        )

    # ------------------------------------------------------------------ IAM
    def _role(self, key: str, namespace: str, service_account: str, statements: list[dict[str, Any]]) -> WorkloadRole:
        cluster = self.eks.cluster
        role = WorkloadRole(
            self,
            f"{key}-role",
            WorkloadRoleProps(
                role_name=f"{self.prefix}-{key}",
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                namespace=namespace,
                service_account=service_account,
                policy_statements=statements,
            ),
        )
        self.roles[key] = role
        return role

    def _operator_secrets(self) -> None:
        """Secrets Manager entries the operators fill (no value in code or state), read by External Secrets."""
        self.openai_secret = SecretsmanagerSecret(
            self,
            "openai-api-key",
            name=f"{self.prefix}/platform/openai-api-key",
            description="OpenAI API key of ai-services (plain string); entered by the operators, never in code or state",
            kms_key_id=self.data.secrets_kms_key_arn,
            recovery_window_in_days=30,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.registry_secret: SecretsmanagerSecret | None = None
        if self.config.image_pull_secret:
            self.registry_secret = SecretsmanagerSecret(
                self,
                "registry-credentials",
                name=f"{self.prefix}/platform/registry-credentials",
                description=(
                    "Read-only registry token for "
                    + ", ".join(self.registry_hosts)
                    + ': JSON {"username": ..., "password": ...}; entered by the operators, never in code or state'
                ),
                kms_key_id=self.data.secrets_kms_key_arn,
                recovery_window_in_days=30,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )

    @property
    def registry_hosts(self) -> list[str]:
        return sorted({w.image.repository.split("/")[0] for w in self.config.workloads.values()})

    @property
    def readable_secret_arns(self) -> list[str]:
        """What External Secrets may read: the data stack's secrets and the operator-filled ones."""
        arns = [Token.as_string(arn) for _, arn in sorted(self.data.secrets.items())]
        arns.append(self.openai_secret.arn)
        if self.registry_secret is not None:
            arns.append(self.registry_secret.arn)
        return arns

    # ------------------------------------------------------------------ add-ons
    def _namespace(self, id: str, name: str, labels: Mapping[str, str] | None = None) -> NamespaceV1:
        return NamespaceV1(
            self,
            id,
            metadata=NamespaceV1Metadata(name=name, labels={"name": name, **(labels or {})}),
            provider=self.k8s,
        )

    def _chart(self, release: str, computed: Mapping[str, Any], depends_on: list[Any], required: tuple[str, ...] = ()):
        addon = ADDONS[release]
        values = merge_values(load_values(release, required), computed)
        chart = HelmChart(
            self,
            release,
            HelmChartProps(
                release_name=release,
                chart=addon.chart,
                repository=addon.repository,
                version=addon.version,
                namespace=addon.namespace,
                values=values,
                provider=self.helm,
                depends_on=depends_on,
                source=f"stacks/platform.py: ADDONS[{release!r}]",
            ),
        )
        self.charts[release] = chart
        return chart

    def _addons(self) -> None:
        cluster = self.eks.cluster
        cluster_name = Token.as_string(cluster.name)
        self.addon_namespaces = {
            INGRESS_NAMESPACE: self._namespace("ingress-nginx-namespace", INGRESS_NAMESPACE),
            CERT_MANAGER_NAMESPACE: self._namespace("cert-manager-namespace", CERT_MANAGER_NAMESPACE),
            EXTERNAL_SECRETS_NAMESPACE: self._namespace("external-secrets-namespace", EXTERNAL_SECRETS_NAMESPACE),
        }

        lbc_sa = "aws-load-balancer-controller"
        lbc_role = self._role(
            "aws-load-balancer-controller", KUBE_SYSTEM, lbc_sa, load_balancer_controller_statements()
        )
        lbc = self._chart(
            "aws-load-balancer-controller",
            {
                "clusterName": cluster_name,
                "region": self.region,
                # The nodes' IMDSv2 hop limit keeps pods away from instance metadata: pass the VPC.
                "vpcId": Token.as_string(cluster.cluster.vpc_config.vpc_id),
                "serviceAccount": {"name": lbc_sa, "annotations": {IRSA_ANNOTATION: lbc_role.arn}},
            },
            [lbc_role.role],
            required=("serviceAccount.create",),
        )
        # The NLB is created by the load balancer controller (annotation type "external"): install it first.
        ingress = self._chart(
            "ingress-nginx",
            {"controller": {"ingressClassResource": {"name": INGRESS_CLASS}, "ingressClass": INGRESS_CLASS}},
            [self.addon_namespaces[INGRESS_NAMESPACE], lbc.release],
            required=("controller.service.annotations",),
        )
        cert_manager = self._chart(
            "cert-manager",
            {},
            [self.addon_namespaces[CERT_MANAGER_NAMESPACE]],
            required=("crds.enabled",),
        )
        self.cluster_issuer = Manifest(
            self,
            "cluster-issuer",
            manifest={
                "apiVersion": "cert-manager.io/v1",
                "kind": "ClusterIssuer",
                "metadata": {"name": CLUSTER_ISSUER},
                "spec": {
                    "acme": {
                        "server": ACME_SERVER,
                        "email": self.config.acme_email,
                        "privateKeySecretRef": {"name": f"{CLUSTER_ISSUER}-account-key"},
                        "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
                    }
                },
            },
            depends_on=[cert_manager.release, ingress.release],
            provider=self.k8s,
        )
        self._chart("metrics-server", {}, [])

        ca_sa = "cluster-autoscaler"
        ca_role = self._role("cluster-autoscaler", KUBE_SYSTEM, ca_sa, cluster_autoscaler_statements(cluster_name))
        self._chart(
            "cluster-autoscaler",
            {
                "autoDiscovery": {"clusterName": cluster_name},
                "awsRegion": self.region,
                "rbac": {"serviceAccount": {"name": ca_sa, "annotations": {IRSA_ANNOTATION: ca_role.arn}}},
            },
            [ca_role.role],
            required=("cloudProvider",),
        )

        if gpu_node_groups(self.node_groups):
            # Tolerations, node selector and affinity from the GPU node group(s), not written by hand.
            self._chart("nvidia-device-plugin", gpu_daemon_placement(self.node_groups), [])

        eso_sa = "external-secrets"
        eso_role = self._role(
            "external-secrets",
            EXTERNAL_SECRETS_NAMESPACE,
            eso_sa,
            external_secrets_statements(
                self.readable_secret_arns,
                Token.as_string(self.data.secrets_kms_key_arn),
                # The monitoring stack's ExternalSecrets (Grafana admin, Alertmanager webhooks) use
                # the same store; it is not a dependency of this stack, so its secrets are named by
                # this environment's prefix (the ARN suffix is random).
                [
                    f"arn:aws:secretsmanager:{self.region}:{self.aws.account_id}:secret:"
                    f"{self.prefix}/{MONITORING_NAMESPACE}/*"
                ],
            ),
        )
        eso = self._chart(
            "external-secrets",
            {"serviceAccount": {"name": eso_sa, "annotations": {IRSA_ANNOTATION: eso_role.arn}}},
            [self.addon_namespaces[EXTERNAL_SECRETS_NAMESPACE], eso_role.role],
            required=("installCRDs",),
        )
        # The operator's own IRSA credentials read Secrets Manager; only the application and
        # monitoring namespaces may use the store (the database credentials are behind it).
        self.cluster_secret_store = Manifest(
            self,
            "cluster-secret-store",
            manifest={
                "apiVersion": "external-secrets.io/v1",
                "kind": "ClusterSecretStore",
                "metadata": {"name": self.secret_store},
                "spec": {
                    "provider": {"aws": {"service": "SecretsManager", "region": self.region}},
                    "conditions": [{"namespaces": [self.namespace, MONITORING_NAMESPACE]}],
                },
            },
            depends_on=[eso.release],
            provider=self.k8s,
        )

    # ------------------------------------------------------------------ application
    def _application(self) -> None:
        env_name = self.context.environment_name
        namespace = NamespaceV1(
            self,
            "app-namespace",
            metadata=NamespaceV1Metadata(
                name=self.namespace,
                labels={
                    "name": self.namespace,  # seed 12.2
                    "environment": str(env_name),  # seed 12.2
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            ),
            provider=self.k8s,
        )
        self.app_namespace = namespace
        ns = namespace.metadata.name
        self._secrets(ns, [namespace, self.cluster_secret_store])
        config_maps = self._config_maps(ns)
        self._deployments(ns, [*config_maps, *(s.manifest for s in self.external_secrets.values())])
        self._autoscalers(ns)
        self._ingress(ns)
        self._network_policy(ns)

    def _external_secret(self, name: str, ns: str, values: list[RemoteValue], depends_on: list[Any], **kwargs: Any):
        secret = ExternalSecret(
            self,
            name,
            ExternalSecretProps(
                name=name,
                namespace=ns,
                store_name=self.secret_store,
                values=values,
                depends_on=depends_on,
                provider=self.k8s,
                **kwargs,
            ),
        )
        self.external_secrets[name] = secret
        return secret

    def _secrets(self, ns: str, depends_on: list[Any]) -> None:
        data = self.data
        secrets = data.secrets
        database_name = self.context.env.data.postgres.database_name
        postgres_host = Token.as_string(data.postgres.address)
        # RDS manages the master secret ({"username", "password"}) and rotates it. The server
        # enforces TLS (rds.force_ssl); verify-full needs the RDS CA bundle inside the image.
        self._external_secret(
            "database-secret",
            ns,
            [
                RemoteValue("username", Token.as_string(secrets["database"]), "username"),
                RemoteValue("password", Token.as_string(secrets["database"]), "password"),
            ],
            depends_on,
            template={
                "url": "postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@"
                + f"{postgres_host}:{POSTGRES_PORT}/{database_name}?sslmode=require"
            },
        )
        # Redis uses IAM authentication: the URL names the user; the app signs a token with its role.
        self._external_secret(
            "redis-secret",
            ns,
            [
                RemoteValue("username", Token.as_string(secrets["redis"]), "username"),
                RemoteValue("host", Token.as_string(secrets["redis"]), "host"),
                RemoteValue("port", Token.as_string(secrets["redis"]), "port"),
            ],
            depends_on,
            template={"url": "rediss://{{ .username }}@{{ .host }}:{{ .port }}"},
        )
        self._external_secret("jwt-secret", ns, [RemoteValue("secret", Token.as_string(secrets["jwt"]))], depends_on)
        self._external_secret("ai-secrets", ns, [RemoteValue("openai-key", self.openai_secret.arn)], depends_on)
        if self.registry_secret is not None:
            auths = ",".join(
                f'"{host}":{{"username":"{{{{ .username }}}}","password":"{{{{ .password }}}}",'
                f'"auth":"{{{{ printf "%s:%s" .username .password | b64enc }}}}"}}'
                for host in self.registry_hosts
            )
            self._external_secret(
                IMAGE_PULL_SECRET,
                ns,
                [
                    RemoteValue("username", self.registry_secret.arn, "username"),
                    RemoteValue("password", self.registry_secret.arn, "password"),
                ],
                depends_on,
                template={".dockerconfigjson": f'{{"auths":{{{auths}}}}}'},
                secret_type="kubernetes.io/dockerconfigjson",
            )

    def _config_maps(self, ns: str) -> list[ConfigMapV1]:
        data = self.data
        app_yaml = {
            "server": {
                "port": SEED_WORKLOADS["backend-api"].port,
                "host": "0.0.0.0",
                "cors": {"enabled": True, "origins": [f"https://{self.hosts['app']}"]},
            },
            "database": {
                "host": Token.as_string(data.postgres.address),
                "port": POSTGRES_PORT,
                "name": self.context.env.data.postgres.database_name,
                "pool": {"min": 5, "max": 20, "idle_timeout": 10000},
                "ssl": True,
            },
            "redis": {
                "host": Token.as_string(data.redis.configuration_endpoint),
                "port": REDIS_PORT,
                "tls": True,
                "cluster_mode": True,
                "connection_timeout": 5000,
                "command_timeout": 3000,
            },
            "logging": {"level": "info", "format": "json"},
            "monitoring": {"prometheus": {"enabled": True, "port": METRICS_PORT}},
            "features": {"ai_matching": True, "voice_interface": True, "business_card_scanner": True},
        }
        frontend = {"api-url": f"https://{self.hosts['api']}"}
        if self.config.google_analytics_id:
            frontend["ga-id"] = self.config.google_analytics_id
        contents = {
            "backend-api-config": {"app.yaml": yaml.safe_dump(app_yaml, sort_keys=False, width=1_000_000)},
            "ai-config": {"sagemaker-endpoint": self.config.sagemaker_endpoint},
            "frontend-config": frontend,
        }
        self.config_maps = {
            name: ConfigMapV1(
                self,
                name,
                metadata=ConfigMapV1Metadata(name=name, namespace=ns),
                data=values,
                provider=self.k8s,
            )
            for name, values in contents.items()
        }
        return list(self.config_maps.values())

    def _placement(self, workload: WorkloadConfig) -> Placement | None:
        extra = tuple(Toleration(t.key, t.operator, t.value, t.effect) for t in workload.tolerations)
        if workload.node_group is not None:
            base = placement_on(workload.node_group, self.node_groups)
            return Placement(
                base.node_selector, base.tolerations + tuple(t for t in extra if t not in base.tolerations)
            )
        return Placement({}, extra) if extra else None

    def _deployments(self, ns: str, depends_on: list[Any]) -> None:
        config = self.config
        endpoint_arn = (
            f"arn:aws:sagemaker:{self.region}:{self.aws.account_id}:endpoint/{config.sagemaker_endpoint.lower()}"
        )
        roles = {
            "backend-api": self._role(
                "backend-api", self.namespace, "backend-api-sa", [self.data.redis.connect_statement(REDIS_APP_USER)]
            ),
            "ai-services": self._role(
                "ai-services", self.namespace, "ai-services-sa", sagemaker_invoke_statements(endpoint_arn)
            ),
        }
        env = {
            "backend-api": [
                # Node's runtime mode (optimisations), not the deployment environment.
                EnvVar("NODE_ENV", value="production"),
                EnvVar("DATABASE_URL", secret=("database-secret", "url")),
                EnvVar("REDIS_URL", secret=("redis-secret", "url")),
                EnvVar("JWT_SECRET", secret=("jwt-secret", "secret")),
            ],
            "ai-services": [
                EnvVar("OPENAI_API_KEY", secret=("ai-secrets", "openai-key")),
                EnvVar("AWS_REGION", value=self.region),
                EnvVar("SAGEMAKER_ENDPOINT", config_map=("ai-config", "sagemaker-endpoint")),
            ],
            "web-frontend": [
                EnvVar("NEXT_PUBLIC_API_URL", config_map=("frontend-config", "api-url")),
                EnvVar("NEXT_PUBLIC_GA_ID", config_map=("frontend-config", "ga-id"), optional=True),
            ],
        }
        volumes = {"backend-api": (ConfigVolume("backend-api-config", "/app/config"),)}
        pull_secrets = (IMAGE_PULL_SECRET,) if config.image_pull_secret else ()
        for name, seed in SEED_WORKLOADS.items():
            workload = config.workloads[name]
            placement = self._placement(workload)
            if placement is not None:
                self.placements[name] = placement
            limits = dict(seed.limits)
            if workload.gpus:
                limits["nvidia.com/gpu"] = str(workload.gpus)
            role = roles.get(name)
            self.workloads[name] = K8sWorkload(
                self,
                name,
                K8sWorkloadProps(
                    name=name,
                    namespace=ns,
                    image=workload.image.reference,
                    container_port=seed.port,
                    replicas=workload.replicas,
                    requests=seed.requests,
                    limits=limits,
                    liveness=seed.liveness,
                    readiness=seed.readiness,
                    labels={"tier": seed.tier},
                    env=env[name],
                    max_surge=seed.max_surge,
                    max_unavailable=seed.max_unavailable,
                    metrics_port=METRICS_PORT,
                    service_account_annotations={IRSA_ANNOTATION: role.arn} if role else {},
                    writable_paths=seed.writable_paths,
                    config_volumes=volumes.get(name, ()),
                    image_pull_secrets=pull_secrets,
                    placement=placement,
                    # The HPA owns the replica count once it exists (replicas is the initial count).
                    autoscaled=workload.autoscaling is not None,
                    depends_on=depends_on,
                    provider=self.k8s,
                ),
            )

    def _autoscalers(self, ns: str) -> None:
        self.autoscalers: dict[str, HorizontalPodAutoscalerV2] = {}
        for name, workload in self.config.workloads.items():
            hpa = workload.autoscaling
            if hpa is None:
                continue

            def utilization(resource: str, percent: int) -> HorizontalPodAutoscalerV2SpecMetric:
                return HorizontalPodAutoscalerV2SpecMetric(
                    type="Resource",
                    resource=HorizontalPodAutoscalerV2SpecMetricResource(
                        name=resource,
                        target=HorizontalPodAutoscalerV2SpecMetricResourceTarget(
                            type="Utilization", average_utilization=percent
                        ),
                    ),
                )

            self.autoscalers[name] = HorizontalPodAutoscalerV2(
                self,
                f"{name}-hpa",
                metadata=HorizontalPodAutoscalerV2Metadata(name=f"{name}-hpa", namespace=ns),
                spec=HorizontalPodAutoscalerV2Spec(
                    scale_target_ref=HorizontalPodAutoscalerV2SpecScaleTargetRef(
                        api_version="apps/v1", kind="Deployment", name=self.workloads[name].name
                    ),
                    min_replicas=hpa.min_replicas,
                    max_replicas=hpa.max_replicas,
                    metric=[
                        utilization("cpu", hpa.cpu_utilization),
                        utilization("memory", hpa.memory_utilization),
                    ],
                    # Seed 12.2 behaviour: scale down 10 %/min after 5 min, up 50 %/min after 1 min.
                    behavior=HorizontalPodAutoscalerV2SpecBehavior(
                        scale_down=[
                            HorizontalPodAutoscalerV2SpecBehaviorScaleDown(
                                stabilization_window_seconds=300,
                                policy=[
                                    HorizontalPodAutoscalerV2SpecBehaviorScaleDownPolicy(
                                        type="Percent", value=10, period_seconds=60
                                    )
                                ],
                            )
                        ],
                        scale_up=[
                            HorizontalPodAutoscalerV2SpecBehaviorScaleUp(
                                stabilization_window_seconds=60,
                                policy=[
                                    HorizontalPodAutoscalerV2SpecBehaviorScaleUpPolicy(
                                        type="Percent", value=50, period_seconds=60
                                    )
                                ],
                            )
                        ],
                    ),
                ),
                depends_on=[self.workloads[name].deployment, self.charts["metrics-server"].release],
                provider=self.k8s,
            )

    def _ingress(self, ns: str) -> None:
        config = self.config
        limit = "limit-rps" if config.rate_limit_window == "1s" else "limit-rpm"
        routes = [
            (self.hosts["api"], self.workloads["backend-api"]),
            (self.hosts["app"], self.workloads["web-frontend"]),
        ]
        self.ingress = IngressV1(
            self,
            "ingress",
            metadata=IngressV1Metadata(
                name="iworkz-ingress",
                namespace=ns,
                annotations={
                    "nginx.ingress.kubernetes.io/ssl-redirect": "true",
                    "nginx.ingress.kubernetes.io/use-regex": "true",
                    f"nginx.ingress.kubernetes.io/{limit}": str(config.rate_limit),
                    "cert-manager.io/cluster-issuer": CLUSTER_ISSUER,
                    "nginx.ingress.kubernetes.io/enable-cors": "true",
                    "nginx.ingress.kubernetes.io/cors-allow-origin": f"https://{self.hosts['app']}",
                    "nginx.ingress.kubernetes.io/cors-allow-methods": CORS_METHODS,
                    "nginx.ingress.kubernetes.io/cors-allow-headers": CORS_HEADERS,
                },
            ),
            spec=IngressV1Spec(
                # ingressClassName replaces the seed's deprecated kubernetes.io/ingress.class annotation.
                ingress_class_name=INGRESS_CLASS,
                tls=[IngressV1SpecTls(hosts=[host for host, _ in routes], secret_name=TLS_SECRET)],
                rule=[
                    IngressV1SpecRule(
                        host=host,
                        http=IngressV1SpecRuleHttp(
                            path=[
                                IngressV1SpecRuleHttpPath(
                                    path="/",
                                    path_type="Prefix",
                                    backend=IngressV1SpecRuleHttpPathBackend(
                                        service=IngressV1SpecRuleHttpPathBackendService(
                                            name=workload.service_name,
                                            port=IngressV1SpecRuleHttpPathBackendServicePort(
                                                number=workload.service_port
                                            ),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                    for host, workload in routes
                ],
            ),
            depends_on=[
                self.charts["ingress-nginx"].release,
                self.cluster_issuer,
                *(workload.service for _, workload in routes),
            ],
            provider=self.k8s,
        )

    def _network_policy(self, ns: str) -> None:
        backend = self.workloads["backend-api"]
        port = str(SEED_WORKLOADS["backend-api"].port)

        def egress(number: int, protocol: str = "TCP") -> NetworkPolicyV1SpecEgressPorts:
            return NetworkPolicyV1SpecEgressPorts(port=str(number), protocol=protocol)

        self.network_policy = NetworkPolicyV1(
            self,
            "backend-api-netpol",
            metadata=NetworkPolicyV1Metadata(name="backend-api-netpol", namespace=ns),
            spec=NetworkPolicyV1Spec(
                pod_selector=NetworkPolicyV1SpecPodSelector(match_labels=backend.selector_labels),
                policy_types=["Ingress", "Egress"],
                ingress=[
                    NetworkPolicyV1SpecIngress(
                        from_=[
                            # The seed selects "name: ingress-nginx"; Kubernetes sets this label on every namespace.
                            NetworkPolicyV1SpecIngressFrom(
                                namespace_selector=NetworkPolicyV1SpecIngressFromNamespaceSelector(
                                    match_labels={"kubernetes.io/metadata.name": INGRESS_NAMESPACE}
                                )
                            ),
                            NetworkPolicyV1SpecIngressFrom(
                                pod_selector=NetworkPolicyV1SpecIngressFromPodSelector(
                                    match_labels=self.workloads["web-frontend"].selector_labels
                                )
                            ),
                        ],
                        ports=[NetworkPolicyV1SpecIngressPorts(port=port, protocol="TCP")],
                    ),
                    # Prometheus (seed 12.5 job backend-api) scrapes the metrics port.
                    NetworkPolicyV1SpecIngress(
                        from_=[
                            NetworkPolicyV1SpecIngressFrom(
                                namespace_selector=NetworkPolicyV1SpecIngressFromNamespaceSelector(
                                    match_labels={"kubernetes.io/metadata.name": MONITORING_NAMESPACE}
                                )
                            )
                        ],
                        ports=[NetworkPolicyV1SpecIngressPorts(port=str(METRICS_PORT), protocol="TCP")],
                    ),
                ],
                egress=[
                    NetworkPolicyV1SpecEgress(
                        ports=[
                            egress(POSTGRES_PORT),
                            egress(REDIS_PORT),
                            egress(HTTPS_PORT),
                            egress(DNS_PORT, "TCP"),
                            egress(DNS_PORT, "UDP"),
                        ]
                    )
                ],
            ),
            provider=self.k8s,
        )


def build(scope: Construct, context: StackContext, dependencies: Mapping[str, TerraformStack]) -> PlatformStack:
    return PlatformStack(scope, context, dependencies["eks"], dependencies["data"])
