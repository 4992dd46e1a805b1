"""redis_exporter for an ElastiCache Redis that only accepts IAM authentication.

ElastiCache IAM authentication wants a SigV4-signed token as the password (valid 15 minutes)
and redis_exporter cannot sign one. So the pod carries the token helper of
``runtime/elasticache_iam_token.py`` (standard-library Python, mounted from a ConfigMap):

- an init container writes the first token into an in-memory volume (``--once``): the
  exporter refuses to start without its password file;
- a sidecar renews it every ``refresh_seconds`` and calls the exporter's ``/-/reload``;
- the exporter (``--redis.password-file``) opens a new connection, with the current token,
  on every scrape.

With cluster mode the exporter reads the node the configuration endpoint leads it to (INFO of
one node per scrape); every shard's own figures are ElastiCache's CloudWatch metrics.

The pod's service account carries an IRSA role that may ``elasticache:Connect`` as the
exporter's user (see ``Redis.connect_statement``); no password exists anywhere. Connection
details (host, port, user, replication group) come from a Kubernetes Secret, synced from the
data stack's connection secret in Secrets Manager.

Secure defaults: non-root, read-only root filesystem, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, no Kubernetes API token in the pod, only
``/metrics`` served, and a NetworkPolicy that admits the scrapers' namespaces to it alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.deployment_v1 import (
    DeploymentV1,
    DeploymentV1Metadata,
    DeploymentV1Spec,
    DeploymentV1SpecSelector,
    DeploymentV1SpecTemplate,
    DeploymentV1SpecTemplateMetadata,
    DeploymentV1SpecTemplateSpec,
    DeploymentV1SpecTemplateSpecContainer,
    DeploymentV1SpecTemplateSpecContainerEnv,
    DeploymentV1SpecTemplateSpecContainerEnvValueFrom,
    DeploymentV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef,
    DeploymentV1SpecTemplateSpecContainerLivenessProbe,
    DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet,
    DeploymentV1SpecTemplateSpecContainerPort,
    DeploymentV1SpecTemplateSpecContainerReadinessProbe,
    DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet,
    DeploymentV1SpecTemplateSpecContainerResources,
    DeploymentV1SpecTemplateSpecContainerSecurityContext,
    DeploymentV1SpecTemplateSpecContainerSecurityContextCapabilities,
    DeploymentV1SpecTemplateSpecContainerVolumeMount,
    DeploymentV1SpecTemplateSpecInitContainer,
    DeploymentV1SpecTemplateSpecInitContainerEnv,
    DeploymentV1SpecTemplateSpecInitContainerEnvValueFrom,
    DeploymentV1SpecTemplateSpecInitContainerEnvValueFromSecretKeyRef,
    DeploymentV1SpecTemplateSpecInitContainerResources,
    DeploymentV1SpecTemplateSpecInitContainerSecurityContext,
    DeploymentV1SpecTemplateSpecInitContainerSecurityContextCapabilities,
    DeploymentV1SpecTemplateSpecInitContainerVolumeMount,
    DeploymentV1SpecTemplateSpecSecurityContext,
    DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile,
    DeploymentV1SpecTemplateSpecVolume,
    DeploymentV1SpecTemplateSpecVolumeConfigMap,
    DeploymentV1SpecTemplateSpecVolumeEmptyDir,
)
from cdktf_cdktf_provider_kubernetes.network_policy_v1 import (
    NetworkPolicyV1,
    NetworkPolicyV1Metadata,
    NetworkPolicyV1Spec,
    NetworkPolicyV1SpecIngress,
    NetworkPolicyV1SpecIngressFrom,
    NetworkPolicyV1SpecIngressFromNamespaceSelector,
    NetworkPolicyV1SpecIngressPorts,
    NetworkPolicyV1SpecPodSelector,
)
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from cdktf_cdktf_provider_kubernetes.service_v1 import ServiceV1, ServiceV1Metadata, ServiceV1Spec, ServiceV1SpecPort
from constructs import Construct

from iworkz_constructs.k8s_workload import check_image
from iworkz_constructs.runtime_files import MOUNT_PATH, NOBODY, check_name, runtime_files

TOKEN_SCRIPTS = ("sigv4.py", "elasticache_iam_token.py")
TOKEN_LIFETIME_SECONDS = 900
AUTH_PATH = "/run/redis-auth"
PASSWORD_FILE = f"{AUTH_PATH}/passwords.json"
# Keys of the connection Secret (synced from the data stack's secret) -> environment variables.
CONNECTION_KEYS = {
    "host": "REDIS_HOST",
    "port": "REDIS_PORT",
    "user": "REDIS_USER",
    "replication_group_id": "REPLICATION_GROUP_ID",
}


@dataclass(frozen=True)
class RedisExporterProps:
    """Properties of :class:`RedisExporter`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the exporter | required |
    | connection_secret | Kubernetes Secret with keys host, port, user, replication_group_id | required |
    | role_arn | IRSA role allowed to ``elasticache:Connect`` as that user | required |
    | region | AWS region of the cache (token signing and STS) | required |
    | exporter_image | redis_exporter image, ``repository:tag`` | required |
    | token_image | Python 3.11+ image running the token helper (standard library only) | required |
    | name | Deployment, Service and ServiceAccount name (the scrape target's host) | ``redis-exporter`` |
    | port | metrics port of the container and the Service | 9121 |
    | scraper_namespaces | namespaces whose pods may reach the metrics port (Prometheus) | the exporter's namespace |
    | refresh_seconds | token renewal period; tokens live 900 s | 300 |
    | requests / limits | exporter container resources | 20m, 32Mi / 200m, 128Mi |
    | provider | kubernetes provider | the stack's default |
    | depends_on | e.g. the namespace and the ExternalSecret of ``connection_secret`` | none |
    """

    namespace: str
    connection_secret: str
    role_arn: str
    region: str
    exporter_image: str
    token_image: str
    name: str = "redis-exporter"
    port: int = 9121
    scraper_namespaces: Sequence[str] = ()
    refresh_seconds: int = 300
    requests: Mapping[str, str] = field(default_factory=lambda: {"cpu": "20m", "memory": "32Mi"})
    limits: Mapping[str, str] = field(default_factory=lambda: {"cpu": "200m", "memory": "128Mi"})
    provider: TerraformProvider | None = None
    depends_on: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        check_name("name", self.name)
        check_name("namespace", self.namespace)
        for scraper in self.scraper_namespaces:
            check_name("scraper_namespaces", scraper)
        check_image("exporter_image", self.exporter_image)
        check_image("token_image", self.token_image)
        if not 0 < self.refresh_seconds < TOKEN_LIFETIME_SECONDS:
            raise ValueError(
                f"refresh_seconds {self.refresh_seconds}: must renew inside the token's "
                f"{TOKEN_LIFETIME_SECONDS} s lifetime (1-{TOKEN_LIFETIME_SECONDS - 1})"
            )
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port")


class RedisExporter(Construct):
    """Attributes: ``service_name``, ``port``, ``service_account_name``, ``deployment``, ``service``,
    ``network_policy``."""

    def __init__(self, scope: Construct, id: str, props: RedisExporterProps) -> None:
        super().__init__(scope, id)
        name = props.name
        self.service_name = name
        self.service_account_name = name
        self.port = props.port
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "metrics"}
        provider = props.provider

        service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=name,
                namespace=props.namespace,
                labels=labels,
                annotations={"eks.amazonaws.com/role-arn": props.role_arn},
            ),
            # IRSA projects its own token; the pod needs no Kubernetes API access.
            automount_service_account_token=False,
            provider=provider,
        )
        scripts = runtime_files(*TOKEN_SCRIPTS)
        scripts_map = ConfigMapV1(
            self,
            "scripts",
            metadata=ConfigMapV1Metadata(name=f"{name}-token-helper", namespace=props.namespace, labels=labels),
            data=scripts,
            provider=provider,
        )
        # A new script version rolls the pods (a ConfigMap change alone does not).
        scripts_digest = hashlib.sha256("".join(scripts.values()).encode()).hexdigest()[:16]

        self.deployment = DeploymentV1(
            self,
            "deployment",
            metadata=DeploymentV1Metadata(name=name, namespace=props.namespace, labels=labels),
            spec=DeploymentV1Spec(
                replicas="1",
                selector=DeploymentV1SpecSelector(match_labels={"app.kubernetes.io/name": name}),
                template=DeploymentV1SpecTemplate(
                    metadata=DeploymentV1SpecTemplateMetadata(
                        labels=labels, annotations={"iworkz.com/token-helper-sha256": scripts_digest}
                    ),
                    spec=self._pod_spec(props, scripts_map.metadata.name),
                ),
            ),
            depends_on=[service_account, scripts_map, *props.depends_on],
            provider=provider,
        )
        self.service = ServiceV1(
            self,
            "service",
            metadata=ServiceV1Metadata(name=name, namespace=props.namespace, labels=labels),
            spec=ServiceV1Spec(
                type="ClusterIP",
                selector={"app.kubernetes.io/name": name},
                port=[ServiceV1SpecPort(name="metrics", port=props.port, target_port="metrics", protocol="TCP")],
            ),
            provider=provider,
        )

        # Ingress: the metrics port, from the scrapers' namespaces only (egress stays open: STS, Redis).
        scrapers = list(props.scraper_namespaces) or [props.namespace]
        self.network_policy = NetworkPolicyV1(
            self,
            "network-policy",
            metadata=NetworkPolicyV1Metadata(name=name, namespace=props.namespace, labels=labels),
            spec=NetworkPolicyV1Spec(
                pod_selector=NetworkPolicyV1SpecPodSelector(match_labels={"app.kubernetes.io/name": name}),
                policy_types=["Ingress"],
                ingress=[
                    NetworkPolicyV1SpecIngress(
                        from_=[
                            NetworkPolicyV1SpecIngressFrom(
                                namespace_selector=NetworkPolicyV1SpecIngressFromNamespaceSelector(
                                    match_labels={"kubernetes.io/metadata.name": namespace}
                                )
                            )
                            for namespace in scrapers
                        ],
                        ports=[NetworkPolicyV1SpecIngressPorts(port=str(props.port), protocol="TCP")],
                    )
                ],
            ),
            provider=provider,
        )

    @staticmethod
    def _pod_spec(props: RedisExporterProps, scripts_map: str) -> DeploymentV1SpecTemplateSpec:
        helper_command = ["python", f"{MOUNT_PATH}/elasticache_iam_token.py"]
        exporter_env = {
            # Kubernetes expands $(VAR) from the connection variables before it.
            "REDIS_ADDR": "rediss://$(REDIS_HOST):$(REDIS_PORT)",
            "REDIS_PASSWORD_FILE": PASSWORD_FILE,
            # ElastiCache has no CONFIG command (and the metrics user may not run it).
            "REDIS_EXPORTER_CONFIG_COMMAND": "-",
            # Only /metrics: /scrape would let any caller aim the exporter, with its token, elsewhere.
            "REDIS_EXPORTER_DISABLE_SCRAPE_ENDPOINT": "true",
            "REDIS_EXPORTER_WEB_LISTEN_ADDRESS": f":{props.port}",
        }
        exporter = _container(
            _CONTAINER,
            props,
            name="redis-exporter",
            image=props.exporter_image,
            env=exporter_env,
            resources=(dict(props.requests), dict(props.limits)),
            mounts=("redis-auth",),
            port=[DeploymentV1SpecTemplateSpecContainerPort(name="metrics", container_port=props.port)],
            liveness_probe=DeploymentV1SpecTemplateSpecContainerLivenessProbe(
                http_get=DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet(path="/", port="metrics")
            ),
            readiness_probe=DeploymentV1SpecTemplateSpecContainerReadinessProbe(
                http_get=DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet(path="/", port="metrics")
            ),
        )
        helper_env = {
            "AWS_REGION": props.region,
            "PASSWORD_FILE": PASSWORD_FILE,
            "EXPORTER_RELOAD_URL": f"http://127.0.0.1:{props.port}/-/reload",
            "REFRESH_SECONDS": str(props.refresh_seconds),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        helper: dict[str, Any] = {
            "image": props.token_image,
            "env": helper_env,
            "resources": ({"cpu": "5m", "memory": "24Mi"}, {"cpu": "100m", "memory": "64Mi"}),
            "mounts": ("token-helper", "redis-auth"),
        }
        return DeploymentV1SpecTemplateSpec(
            service_account_name=props.name,
            automount_service_account_token=False,
            security_context=DeploymentV1SpecTemplateSpecSecurityContext(
                run_as_non_root=True,
                run_as_user=str(NOBODY),
                run_as_group=str(NOBODY),
                fs_group=str(NOBODY),
                seccomp_profile=DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
            ),
            init_container=[
                _container(_INIT_CONTAINER, props, name="token-init", command=[*helper_command, "--once"], **helper)
            ],
            container=[
                exporter,
                _container(_CONTAINER, props, name="token-refresher", command=helper_command, **helper),
            ],
            volume=[
                DeploymentV1SpecTemplateSpecVolume(
                    name="token-helper",
                    config_map=DeploymentV1SpecTemplateSpecVolumeConfigMap(name=scripts_map, default_mode="0444"),
                ),
                DeploymentV1SpecTemplateSpecVolume(
                    name="redis-auth",
                    empty_dir=DeploymentV1SpecTemplateSpecVolumeEmptyDir(medium="Memory", size_limit="1Mi"),
                ),
            ],
        )


@dataclass(frozen=True)
class _Kind:
    """The provider generates one set of struct classes for containers and one for init containers."""

    container: Any
    env: Any
    value_from: Any
    secret_key_ref: Any
    resources: Any
    security_context: Any
    capabilities: Any
    volume_mount: Any


_CONTAINER = _Kind(
    DeploymentV1SpecTemplateSpecContainer,
    DeploymentV1SpecTemplateSpecContainerEnv,
    DeploymentV1SpecTemplateSpecContainerEnvValueFrom,
    DeploymentV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef,
    DeploymentV1SpecTemplateSpecContainerResources,
    DeploymentV1SpecTemplateSpecContainerSecurityContext,
    DeploymentV1SpecTemplateSpecContainerSecurityContextCapabilities,
    DeploymentV1SpecTemplateSpecContainerVolumeMount,
)
_INIT_CONTAINER = _Kind(
    DeploymentV1SpecTemplateSpecInitContainer,
    DeploymentV1SpecTemplateSpecInitContainerEnv,
    DeploymentV1SpecTemplateSpecInitContainerEnvValueFrom,
    DeploymentV1SpecTemplateSpecInitContainerEnvValueFromSecretKeyRef,
    DeploymentV1SpecTemplateSpecInitContainerResources,
    DeploymentV1SpecTemplateSpecInitContainerSecurityContext,
    DeploymentV1SpecTemplateSpecInitContainerSecurityContextCapabilities,
    DeploymentV1SpecTemplateSpecInitContainerVolumeMount,
)
_MOUNT_PATHS = {"token-helper": MOUNT_PATH, "redis-auth": AUTH_PATH}


def _container(
    kind: _Kind,
    props: RedisExporterProps,
    *,
    name: str,
    image: str,
    env: Mapping[str, str],
    resources: tuple[Mapping[str, str], Mapping[str, str]],
    mounts: Sequence[str],
    **extra: Any,
) -> Any:
    """A hardened container: the connection variables from the Secret, then ``env``."""
    connection = [
        kind.env(
            name=variable,
            value_from=kind.value_from(
                secret_key_ref=kind.secret_key_ref(name=props.connection_secret, key=key),
            ),
        )
        for key, variable in CONNECTION_KEYS.items()
    ]
    requests, limits = resources
    return kind.container(
        name=name,
        image=image,
        # Tags can be re-pushed; Always makes every node run what the registry holds for the tag.
        image_pull_policy="Always",
        env=[*connection, *(kind.env(name=k, value=v) for k, v in env.items())],
        resources=kind.resources(requests=dict(requests), limits=dict(limits)),
        security_context=kind.security_context(
            run_as_non_root=True,
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            capabilities=kind.capabilities(drop=["ALL"]),
        ),
        volume_mount=[
            kind.volume_mount(name=mount, mount_path=_MOUNT_PATHS[mount], read_only=mount == "token-helper")
            for mount in mounts
        ],
        **extra,
    )
