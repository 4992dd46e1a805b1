"""The iWORKZ application of the platform design's 12.2: backend-api, ai-services and web-frontend.

Cloud-neutral: the caller passes where the databases are, which Secrets hold the credentials
(synced by its own secret store) and what each service account carries (an IRSA role on EKS,
a workload identity on AKS), so the primary and the DR site deploy the same application.

Differences from the design, on purpose:

- images are ``repository:tag`` from configuration (no ``latest``); after creation the
  application pipeline owns the image (``ignore_changes``, see constructs/k8s_workload.py);
- ai-services' tolerations and node selector come from its node group (``placements``; the
  design's ``ai-workload`` toleration and ``instance-type`` selector match no node group);
- containers also run with a read-only root filesystem, no privilege escalation and no
  capabilities;
- the design's ``nvidia.com/gpu: 0`` request is dropped: Kubernetes requires requests equal to
  limits for extended resources, so the request defaults to the limit;
- the Services also expose the metrics port 9090 the design's Prometheus jobs scrape, and
  backend-api's NetworkPolicy admits the namespaces labelled as metrics scrapers on it;
- every workload sends its traces over OTLP (the standard ``OTEL_*`` variables of the
  OpenTelemetry SDKs: the collector's endpoint, the service name, the environment, a
  parent-based ratio sampler; metrics stay with Prometheus, logs with stdout) and its errors
  to Sentry (``SENTRY_DSN`` from the operators' secret, optional: an unfilled DSN turns Sentry
  off instead of stopping the pods), the design's 12.1 "OpenTelemetry" and "Sentry".
- backend-api's NetworkPolicy admits the load balancer's subnets (the ALB reaches the pods
  directly, IP targets) where the design admitted the ingress-nginx namespace; in the mesh
  (``in_mesh``) it also admits ztunnel's HBONE port from the same peers and the kubelet probes'
  mesh source address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml
from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from constructs import Construct

from iworkz.config.platform import SEED_REQUESTS, WorkloadConfig
from iworkz_constructs.k8s_workload import ConfigVolume, EnvVar, HttpProbe, K8sWorkload, K8sWorkloadProps
from iworkz_constructs.mesh_mtls import HBONE_PORT, PROBE_SOURCE
from iworkz_constructs.network_policy import EgressPort, IngressRule, Peer
from iworkz_constructs.scheduling import Placement

METRICS_PORT = 9090  # design 12.5 scrape targets <service>:9090 and backend app.yaml monitoring.prometheus.port
IMAGE_PULL_SECRET = "docker-registry-secret"  # design 12.2 imagePullSecrets
HTTPS_PORT = 443
DNS_PORT = 53
# The Kubernetes Secrets the design's Deployments read (created by the caller's secret store).
DATABASE_SECRET = "database-secret"
REDIS_SECRET = "redis-secret"
JWT_SECRET = "jwt-secret"
AI_SECRETS = "ai-secrets"
SENTRY_SECRET = "sentry-dsn"
OTLP_GRPC_PORT = 4317


@dataclass(frozen=True)
class Telemetry:
    """Where the workloads' traces and errors go.

    | name | meaning | default |
    |---|---|---|
    | otlp_endpoint | OTLP gRPC endpoint, e.g. ``http://otel-collector.opentelemetry.svc:4317`` | required |
    | environment | ``deployment.environment.name`` and ``SENTRY_ENVIRONMENT`` | required |
    | sampling_ratio | share of new traces sampled (0-1) | 0.1 |
    | sentry_secret | Secret with the Sentry DSN under ``dsn`` | ``sentry-dsn`` |
    """

    otlp_endpoint: str
    environment: str
    sampling_ratio: float = 0.1
    sentry_secret: str = SENTRY_SECRET

    def __post_init__(self) -> None:
        if not 0 <= self.sampling_ratio <= 1:
            raise ValueError(f"telemetry: sampling_ratio {self.sampling_ratio} is not between 0 and 1")
        if not self.otlp_endpoint.startswith(("http://", "https://")):
            raise ValueError(f"telemetry: otlp_endpoint {self.otlp_endpoint!r} needs its scheme (http:// or https://)")

    def environment_variables(self, service: str, namespace: str) -> tuple[EnvVar, ...]:
        """The OpenTelemetry SDKs' standard settings and Sentry's, for one workload."""
        resource = f"deployment.environment.name={self.environment},service.namespace={namespace}"
        return (
            EnvVar("OTEL_SERVICE_NAME", value=service),
            EnvVar("OTEL_EXPORTER_OTLP_ENDPOINT", value=self.otlp_endpoint),
            EnvVar("OTEL_EXPORTER_OTLP_PROTOCOL", value="grpc"),
            EnvVar("OTEL_TRACES_EXPORTER", value="otlp"),
            # Prometheus scrapes the metrics port; logs go to stdout (Fluent Bit, Container Insights).
            EnvVar("OTEL_METRICS_EXPORTER", value="none"),
            EnvVar("OTEL_LOGS_EXPORTER", value="none"),
            EnvVar("OTEL_PROPAGATORS", value="tracecontext,baggage"),
            EnvVar("OTEL_TRACES_SAMPLER", value="parentbased_traceidratio"),
            EnvVar("OTEL_TRACES_SAMPLER_ARG", value=f"{self.sampling_ratio:g}"),
            EnvVar("OTEL_RESOURCE_ATTRIBUTES", value=resource),
            EnvVar("SENTRY_DSN", secret=(self.sentry_secret, "dsn"), optional=True),
            EnvVar("SENTRY_ENVIRONMENT", value=self.environment),
        )


@dataclass(frozen=True)
class WorkloadSpec:
    """The design's fixed per-workload values (12.2); image, replicas and placement come from config."""

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
        requests=SEED_REQUESTS["backend-api"],
        limits={"memory": "1Gi", "cpu": "500m"},
        liveness=HttpProbe("/health", initial_delay_seconds=30, period_seconds=10, timeout_seconds=5),
        readiness=HttpProbe("/ready", initial_delay_seconds=5, period_seconds=5, timeout_seconds=3),
        max_surge=1,
        max_unavailable=0,
    ),
    "ai-services": WorkloadSpec(
        port=8000,
        tier="ai",
        requests=SEED_REQUESTS["ai-services"],
        limits={"memory": "4Gi", "cpu": "2000m"},
        liveness=HttpProbe("/health", initial_delay_seconds=60, period_seconds=30, timeout_seconds=10),
        readiness=HttpProbe("/ready", initial_delay_seconds=10, period_seconds=10, timeout_seconds=5),
        max_surge=1,
        max_unavailable=0,
    ),
    "web-frontend": WorkloadSpec(
        port=3000,
        tier="frontend",
        requests=SEED_REQUESTS["web-frontend"],
        limits={"memory": "512Mi", "cpu": "250m"},
        liveness=HttpProbe("/api/health", initial_delay_seconds=30, period_seconds=10),
        readiness=HttpProbe("/api/ready", initial_delay_seconds=5, period_seconds=5),
        max_surge=2,
        max_unavailable=1,
        # Next.js standalone writes its image cache below .next/cache (WORKDIR /app in the design).
        writable_paths=("/tmp", "/app/.next/cache"),
    ),
}


@dataclass(frozen=True)
class AiServices:
    """What ai-services calls (its ``ai-config`` ConfigMap): the SageMaker endpoint of the matching
    model (None: the environment runs none, and ai-services gets no ``SAGEMAKER_ENDPOINT``), the
    Bedrock guardrail every call names and the Bedrock models it may invoke."""

    sagemaker_endpoint: str | None
    guardrail_id: str
    guardrail_version: str
    bedrock_models: Sequence[str]

    def config(self) -> dict[str, str]:
        endpoint = {"sagemaker-endpoint": self.sagemaker_endpoint} if self.sagemaker_endpoint else {}
        return {
            **endpoint,
            "bedrock-guardrail-id": self.guardrail_id,
            "bedrock-guardrail-version": self.guardrail_version,
            "bedrock-models": ",".join(self.bedrock_models),
        }


# ai-config key -> ai-services' environment variable
AI_CONFIG_ENV = {
    "sagemaker-endpoint": "SAGEMAKER_ENDPOINT",
    "bedrock-guardrail-id": "BEDROCK_GUARDRAIL_ID",
    "bedrock-guardrail-version": "BEDROCK_GUARDRAIL_VERSION",
    "bedrock-models": "BEDROCK_MODEL_IDS",
}


def _environment(region: str, ai: AiServices, redis_url: str | None) -> dict[str, tuple[EnvVar, ...]]:
    """Environment of each workload (design 12.2), by the Secrets and ConfigMaps above."""
    return {
        "backend-api": (
            # Node's runtime mode (optimisations), not the deployment environment.
            EnvVar("NODE_ENV", value="production"),
            EnvVar("DATABASE_URL", secret=(DATABASE_SECRET, "url")),
            EnvVar("REDIS_URL", value=redis_url) if redis_url else EnvVar("REDIS_URL", secret=(REDIS_SECRET, "url")),
            EnvVar("JWT_SECRET", secret=(JWT_SECRET, "secret")),
        ),
        "ai-services": (
            EnvVar("OPENAI_API_KEY", secret=(AI_SECRETS, "openai-key")),
            EnvVar("AWS_REGION", value=region),
            *(EnvVar(AI_CONFIG_ENV[key], config_map=("ai-config", key)) for key in ai.config()),
        ),
        "web-frontend": (
            EnvVar("NEXT_PUBLIC_API_URL", config_map=("frontend-config", "api-url")),
            EnvVar("NEXT_PUBLIC_GA_ID", config_map=("frontend-config", "ga-id"), optional=True),
        ),
    }


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


@dataclass(frozen=True)
class ApplicationProps:
    """Properties of :class:`Application`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the workloads (created by the caller) | required |
    | workloads | configuration of each workload of ``SEED_WORKLOADS`` (image, replicas, GPUs, HPA) | required |
    | region | cloud region the services call (``AWS_REGION`` of ai-services) | required |
    | api_host / app_host | public host names of the API and the web app | required |
    | database / database_name | PostgreSQL endpoint and database | required |
    | redis | Redis configuration endpoint | required |
    | ai | what ai-services calls: SageMaker endpoint, Bedrock guardrail and models (``ai-config``) | required |
    | load_balancer_cidrs | subnets of the load balancer that reaches the pods (may reach backend-api) | required |
    | metrics_scrapers | labels of the namespaces that may scrape the metrics port | required |
    | telemetry | where traces and errors go (:class:`Telemetry`); None: no collector, the SDKs are off | required |
    | in_mesh | the namespace is in the ambient mesh (NetworkPolicies admit HBONE and probes) | False |
    | placements | node selector and tolerations per workload | none |
    | service_account_annotations | per workload, e.g. its IAM role | none |
    | image_pull_secret | Secret with the registry credentials; None: public images | ``docker-registry-secret`` |
    | google_analytics_id | frontend measurement ID (public) | none |
    | redis_cluster_mode | the cache is a Redis cluster (ElastiCache cluster mode); False: one primary (Azure Cache for Redis) | True |
    | pod_labels | per workload, further pod labels (e.g. ``azure.workload.identity/use``) | none |
    | redis_url | ``REDIS_URL`` itself when it holds no secret (an Entra sign-in names only the user); none: from ``redis-secret`` | none |
    | depends_on | what must exist first (the namespace, the synced Secrets) | none |
    | provider | kubernetes provider | the stack's default |
    """

    namespace: str
    workloads: Mapping[str, WorkloadConfig]
    region: str
    api_host: str
    app_host: str
    database: Endpoint
    database_name: str
    redis: Endpoint
    ai: AiServices
    load_balancer_cidrs: Sequence[str]
    metrics_scrapers: Mapping[str, str]
    telemetry: Telemetry | None
    in_mesh: bool = False
    placements: Mapping[str, Placement] = field(default_factory=dict)
    service_account_annotations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    image_pull_secret: str | None = IMAGE_PULL_SECRET
    google_analytics_id: str | None = None
    redis_cluster_mode: bool = True
    pod_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    redis_url: str | None = None
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        missing = sorted(set(SEED_WORKLOADS) - set(self.workloads))
        if missing:
            raise ValueError(f"the application needs a configuration for {missing}")


class Application(Construct):
    """The three workloads, their ConfigMaps, backend-api's autoscaler and NetworkPolicy.

    Attributes: ``workloads`` (name -> :class:`K8sWorkload`), ``config_maps`` (name -> resource),
    ``metrics_targets`` (workload -> ``<service>.<namespace>.svc:9090``).
    """

    def __init__(self, scope: Construct, id: str, props: ApplicationProps) -> None:
        super().__init__(scope, id)
        self.config_maps = {
            name: ConfigMapV1(
                self,
                name,
                metadata=ConfigMapV1Metadata(name=name, namespace=props.namespace),
                data=data,
                provider=props.provider,
            )
            for name, data in _config_maps(props).items()
        }
        depends_on = [*props.depends_on, *self.config_maps.values()]
        self.workloads: dict[str, K8sWorkload] = {}
        environment = _environment(props.region, props.ai, props.redis_url)
        for name, seed in SEED_WORKLOADS.items():
            config = props.workloads[name]
            limits = dict(seed.limits)
            if config.gpus:
                limits["nvidia.com/gpu"] = str(config.gpus)
            self.workloads[name] = K8sWorkload(
                self,
                name,
                K8sWorkloadProps(
                    name=name,
                    namespace=props.namespace,
                    image=config.image.reference,
                    container_port=seed.port,
                    replicas=config.replicas,
                    requests=seed.requests,
                    limits=limits,
                    liveness=seed.liveness,
                    readiness=seed.readiness,
                    labels={"tier": seed.tier, **props.pod_labels.get(name, {})},
                    env=environment[name] + _telemetry_environment(props.telemetry, name, props.namespace),
                    max_surge=seed.max_surge,
                    max_unavailable=seed.max_unavailable,
                    metrics_port=METRICS_PORT,
                    service_account_annotations=props.service_account_annotations.get(name, {}),
                    writable_paths=seed.writable_paths,
                    config_volumes=(ConfigVolume("backend-api-config", "/app/config"),)
                    if name == "backend-api"
                    else (),
                    image_pull_secrets=(props.image_pull_secret,) if props.image_pull_secret else (),
                    placement=props.placements.get(name),
                    # The HPA owns the replica count once it exists (replicas is the initial count).
                    autoscaled=config.autoscaling is not None,
                    depends_on=depends_on,
                    provider=props.provider,
                ),
            )
            if config.autoscaling is not None:
                hpa = config.autoscaling
                self.workloads[name].autoscale(
                    hpa.min_replicas, hpa.max_replicas, hpa.cpu_utilization, hpa.memory_utilization
                )
        self.metrics_targets = {name: str(w.metrics_target) for name, w in self.workloads.items()}
        backend, frontend = self.workloads["backend-api"], self.workloads["web-frontend"]
        api_port = SEED_WORKLOADS["backend-api"].port
        # Meshed peers arrive on ztunnel's HBONE port (their traffic tunnelled, the port inside).
        tunnel = [HBONE_PORT] if props.in_mesh else []
        backend.restrict_traffic(
            ingress=[
                # The load balancer (plaintext, outside the mesh) and, in the mesh, the kubelet probes.
                IngressRule(
                    [Peer(cidrs=props.load_balancer_cidrs), *([Peer(cidrs=[PROBE_SOURCE])] if props.in_mesh else [])],
                    [api_port],
                ),
                IngressRule([Peer(pods=frontend.selector_labels)], [api_port, *tunnel]),
                # Prometheus (design 12.5 job backend-api) scrapes the metrics port.
                IngressRule([Peer(namespaces=props.metrics_scrapers)], [METRICS_PORT, *tunnel]),
            ],
            egress=[
                EgressPort(props.database.port),
                EgressPort(props.redis.port),
                EgressPort(HTTPS_PORT),
                EgressPort(OTLP_GRPC_PORT),
                EgressPort(DNS_PORT, "TCP"),
                EgressPort(DNS_PORT, "UDP"),
            ],
        )


def _telemetry_environment(telemetry: Telemetry | None, service: str, namespace: str) -> tuple[EnvVar, ...]:
    if telemetry is None:
        # The OpenTelemetry SDKs' own switch: without a collector they would retry an absent endpoint.
        return (EnvVar("OTEL_SDK_DISABLED", value="true"),)
    return telemetry.environment_variables(service, namespace)


def _config_maps(props: ApplicationProps) -> dict[str, dict[str, str]]:
    app_yaml = {
        "server": {
            "port": SEED_WORKLOADS["backend-api"].port,
            "host": "0.0.0.0",
            "cors": {"enabled": True, "origins": [f"https://{props.app_host}"]},
        },
        "database": {
            "host": props.database.host,
            "port": props.database.port,
            "name": props.database_name,
            "pool": {"min": 5, "max": 20, "idle_timeout": 10000},
            "ssl": True,
        },
        "redis": {
            "host": props.redis.host,
            "port": props.redis.port,
            "tls": True,
            "cluster_mode": props.redis_cluster_mode,
            "connection_timeout": 5000,
            "command_timeout": 3000,
        },
        "logging": {"level": "info", "format": "json"},
        "monitoring": {"prometheus": {"enabled": True, "port": METRICS_PORT}},
        "features": {"ai_matching": True, "voice_interface": True, "business_card_scanner": True},
    }
    frontend = {"api-url": f"https://{props.api_host}"}
    if props.google_analytics_id:
        frontend["ga-id"] = props.google_analytics_id
    return {
        "backend-api-config": {"app.yaml": yaml.safe_dump(app_yaml, sort_keys=False, width=1_000_000)},
        "ai-config": props.ai.config(),
        "frontend-config": frontend,
    }
