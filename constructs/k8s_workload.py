"""A Kubernetes workload as in seed 12.2: ServiceAccount + Deployment + ClusterIP Service.

Secure defaults: non-root (UID/GID 1001 as the seed's images), read-only root filesystem with
writable emptyDir paths, no privilege escalation, all capabilities dropped, RuntimeDefault
seccomp, no service-account token mounted, tagged images only.

Ownership: Terraform creates the Deployment with the configured image; the application
pipeline rolls out new images afterwards (seed 12.3, ``kubectl set image``). The container
image is therefore in ``lifecycle.ignore_changes`` so that a plan does not roll it back
(``ignore_image_changes=False`` hands image ownership back to Terraform).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_kubernetes.deployment_v1 import (
    DeploymentV1,
    DeploymentV1Metadata,
    DeploymentV1Spec,
    DeploymentV1SpecSelector,
    DeploymentV1SpecStrategy,
    DeploymentV1SpecStrategyRollingUpdate,
    DeploymentV1SpecTemplate,
    DeploymentV1SpecTemplateMetadata,
    DeploymentV1SpecTemplateSpec,
    DeploymentV1SpecTemplateSpecContainer,
    DeploymentV1SpecTemplateSpecContainerEnv,
    DeploymentV1SpecTemplateSpecContainerEnvValueFrom,
    DeploymentV1SpecTemplateSpecContainerEnvValueFromConfigMapKeyRef,
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
    DeploymentV1SpecTemplateSpecImagePullSecrets,
    DeploymentV1SpecTemplateSpecSecurityContext,
    DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile,
    DeploymentV1SpecTemplateSpecToleration,
    DeploymentV1SpecTemplateSpecVolume,
    DeploymentV1SpecTemplateSpecVolumeConfigMap,
    DeploymentV1SpecTemplateSpecVolumeEmptyDir,
)
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from cdktf_cdktf_provider_kubernetes.service_v1 import ServiceV1, ServiceV1Metadata, ServiceV1Spec, ServiceV1SpecPort
from constructs import Construct

from iworkz_constructs.autoscaler import Autoscaler, AutoscalerProps
from iworkz_constructs.network_policy import EgressPort, IngressRule, NetworkPolicy, NetworkPolicyProps
from iworkz_constructs.scheduling import Placement

# Terraform address of the image inside kubernetes_deployment_v1 (one pod template, one container).
IMAGE_ATTRIBUTE = "spec[0].template[0].spec[0].container[0].image"
# Replicas of a Deployment a HorizontalPodAutoscaler scales.
REPLICAS_ATTRIBUTE = "spec[0].replicas"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IMAGE = re.compile(r"^[^\s@]+/?[^\s@:/]+:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")


def service_name(workload: str) -> str:
    """The design's Service naming (12.2): ``backend-api`` is reached as ``backend-api-service``."""
    return f"{workload}-service"


def metrics_target(workload: str, namespace: str, port: int) -> str:
    """Fully qualified address of a workload's metrics port: resolves from any namespace."""
    return f"{service_name(workload)}.{namespace}.svc:{port}"


def check_image(label: str, image: str) -> None:
    """A container image must name a release tag: no digest-only, untagged or ``latest`` image."""
    match = _IMAGE.match(image)
    if not match:
        raise ValueError(f"{label} {image!r} must be 'repository:tag' (a tag is required, no digest)")
    if match.group("tag") == "latest":
        raise ValueError(f"{label} {image!r}: 'latest' is not a release; pin a tag")


@dataclass(frozen=True)
class HttpProbe:
    """An HTTP GET probe on the container port.

    | name | meaning | default |
    |---|---|---|
    | path | request path, e.g. ``/health`` | required |
    | initial_delay_seconds | wait before the first probe | 0 |
    | period_seconds | interval | 10 |
    | timeout_seconds | per-probe timeout | 1 (Kubernetes' default) |
    | failure_threshold | failures before acting | 3 |
    """

    path: str
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    failure_threshold: int = 3

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"probe path {self.path!r} must start with '/'")
        if self.period_seconds < 1 or self.timeout_seconds < 1 or self.failure_threshold < 1:
            raise ValueError("probe period, timeout and failure threshold must be at least 1")


@dataclass(frozen=True)
class EnvVar:
    """An environment variable: a literal (non-secret) value, a Secret key or a ConfigMap key.

    | name | meaning | default |
    |---|---|---|
    | name | variable name | required |
    | value | literal value (never a secret) | none |
    | secret | ``(secret name, key)`` | none |
    | config_map | ``(config map name, key)`` | none |
    | optional | the referenced key may be absent | False |
    """

    name: str
    value: str | None = None
    secret: tuple[str, str] | None = None
    config_map: tuple[str, str] | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        given = [x for x in (self.value, self.secret, self.config_map) if x is not None]
        if len(given) != 1:
            raise ValueError(f"env {self.name}: give exactly one of value, secret, config_map")


@dataclass(frozen=True)
class ConfigVolume:
    """A ConfigMap mounted read-only at ``mount_path``."""

    config_map: str
    mount_path: str


@dataclass(frozen=True)
class K8sWorkloadProps:
    """Properties of :class:`K8sWorkload`.

    | name | meaning | default |
    |---|---|---|
    | name | Deployment and container name; the Service is ``<name>-service`` | required |
    | namespace | namespace (pass the namespace resource's name so it is created first) | required |
    | image | ``repository:tag`` (a tag is required; no digests) | required |
    | container_port | the application's HTTP port (named ``http``) | required |
    | replicas | desired replicas (an HPA may change them afterwards) | required |
    | requests / limits | resource requests and limits, e.g. ``{"cpu": "250m"}`` | required |
    | liveness / readiness | HTTP probes | required |
    | labels | extra pod/deployment labels besides ``app: <name>`` (e.g. ``tier``) | none |
    | env | environment variables | none |
    | max_surge / max_unavailable | rolling-update bounds | 1 / 0 |
    | service_port | Service port forwarding to ``http`` | 80 |
    | metrics_port | container and Service port ``metrics`` (Prometheus); None: none | 9090 |
    | service_account_name | service account | ``<name>-sa`` |
    | service_account_annotations | e.g. ``eks.amazonaws.com/role-arn`` for IRSA | none |
    | automount_service_account_token | mount the Kubernetes API token | False |
    | run_as_user / fs_group | pod UID and filesystem group | 1001 / 1001 (seed) |
    | read_only_root_filesystem | container root filesystem read-only | True |
    | writable_paths | emptyDir mounts for a read-only root (first is ``temp-storage``) | ``("/tmp",)`` |
    | config_volumes | ConfigMaps mounted read-only | none |
    | image_pull_secrets | Secret names used to pull the image | none |
    | image_pull_policy | pull policy | ``Always`` (seed; pull credentials checked at every start) |
    | placement | node selector and tolerations (:mod:`scheduling`) | none |
    | ignore_image_changes | the application pipeline owns the image after creation | True |
    | autoscaled | an HPA owns the replica count after creation (``replicas`` is the initial value) | False |
    | wait_for_rollout | Terraform waits until the rollout completes | True |
    | depends_on | resources to create first (secrets, config maps) | none |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    namespace: str
    image: str
    container_port: int
    replicas: int
    requests: Mapping[str, str]
    limits: Mapping[str, str]
    liveness: HttpProbe
    readiness: HttpProbe
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Sequence[EnvVar] = ()
    max_surge: int | str = 1
    max_unavailable: int | str = 0
    service_port: int = 80
    metrics_port: int | None = 9090
    service_account_name: str | None = None
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    automount_service_account_token: bool = False
    run_as_user: int = 1001
    fs_group: int = 1001
    read_only_root_filesystem: bool = True
    writable_paths: Sequence[str] = ("/tmp",)
    config_volumes: Sequence[ConfigVolume] = ()
    image_pull_secrets: Sequence[str] = ()
    # Seed 12.2: Always. With a private registry it also makes every pod start prove its pull
    # credentials instead of reusing an image another pod pulled onto the node.
    image_pull_policy: str = "Always"
    placement: Placement | None = None
    ignore_image_changes: bool = True
    autoscaled: bool = False
    wait_for_rollout: bool = True
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or len(self.name) > 55:
            raise ValueError(f"workload name {self.name!r} must be a DNS label of at most 55 characters")
        check_image("image", self.image)
        ports = [self.container_port, self.service_port] + ([self.metrics_port] if self.metrics_port else [])
        if any(not 1 <= p <= 65535 for p in ports):
            raise ValueError(f"workload {self.name}: ports must be 1-65535, got {ports}")
        if self.metrics_port == self.container_port:
            raise ValueError(f"workload {self.name}: metrics_port must differ from container_port")
        if self.replicas < 0:
            raise ValueError(f"workload {self.name}: replicas must not be negative")
        if self.run_as_user == 0:
            raise ValueError(f"workload {self.name}: run_as_user 0 is root; the pod runs as non-root")
        if self.image_pull_policy not in ("Always", "IfNotPresent", "Never"):
            raise ValueError(f"image_pull_policy {self.image_pull_policy!r} is not a Kubernetes pull policy")
        if "app" in self.labels:
            raise ValueError(f"workload {self.name}: the 'app' label is set from the name")
        if self.read_only_root_filesystem and not self.writable_paths:
            raise ValueError(f"workload {self.name}: a read-only root filesystem needs at least a writable /tmp")
        if len(set(self.writable_paths)) != len(self.writable_paths):
            raise ValueError(f"workload {self.name}: writable_paths repeat a path")

    @property
    def sa_name(self) -> str:
        return self.service_account_name or f"{self.name}-sa"


class K8sWorkload(Construct):
    """ServiceAccount, Deployment and ClusterIP Service of one application.

    Attributes: ``service_account``, ``deployment``, ``service`` (the resources), ``name``,
    ``namespace``, ``service_name``, ``service_account_name``, ``selector_labels`` (``{"app": name}``),
    ``container_port``, ``readiness_path``, ``service_port``, ``metrics_port``, ``metrics_target``
    (``<service>.<namespace>.svc:<port>``),
    and, once added, ``autoscaler`` (:meth:`autoscale`) and ``network_policy`` (:meth:`restrict_traffic`).
    """

    def __init__(self, scope: Construct, id: str, props: K8sWorkloadProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self.name = props.name
        self.namespace = props.namespace
        self.service_name = service_name(props.name)
        self.service_account_name = props.sa_name
        self.selector_labels = {"app": props.name}
        self.service_port = props.service_port
        self.container_port = props.container_port
        self.readiness_path = props.readiness.path
        self.metrics_port = props.metrics_port
        self.metrics_target = (
            metrics_target(props.name, props.namespace, props.metrics_port) if props.metrics_port else None
        )
        self.autoscaler: Autoscaler | None = None
        self.network_policy: NetworkPolicy | None = None
        labels = {**self.selector_labels, **props.labels}

        self.service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=props.sa_name,
                namespace=props.namespace,
                labels=labels,
                annotations=dict(props.service_account_annotations) or None,
            ),
            automount_service_account_token=props.automount_service_account_token,
            provider=props.provider,
        )

        ignored = [IMAGE_ATTRIBUTE] if props.ignore_image_changes else []
        if props.autoscaled:
            ignored.append(REPLICAS_ATTRIBUTE)
        self.deployment = DeploymentV1(
            self,
            "deployment",
            metadata=DeploymentV1Metadata(name=props.name, namespace=props.namespace, labels=labels),
            spec=DeploymentV1Spec(
                replicas=str(props.replicas),
                strategy=DeploymentV1SpecStrategy(
                    type="RollingUpdate",
                    rolling_update=DeploymentV1SpecStrategyRollingUpdate(
                        max_surge=str(props.max_surge), max_unavailable=str(props.max_unavailable)
                    ),
                ),
                selector=DeploymentV1SpecSelector(match_labels=self.selector_labels),
                template=DeploymentV1SpecTemplate(
                    metadata=DeploymentV1SpecTemplateMetadata(labels=labels),
                    spec=self._pod_spec(props),
                ),
            ),
            wait_for_rollout=props.wait_for_rollout,
            depends_on=[self.service_account, *props.depends_on],
            lifecycle=TerraformResourceLifecycle(ignore_changes=ignored) if ignored else None,
            provider=props.provider,
        )

        ports = [ServiceV1SpecPort(name="http", port=props.service_port, target_port="http", protocol="TCP")]
        if props.metrics_port is not None:
            ports.append(
                ServiceV1SpecPort(name="metrics", port=props.metrics_port, target_port="metrics", protocol="TCP")
            )
        self.service = ServiceV1(
            self,
            "service",
            metadata=ServiceV1Metadata(
                name=self.service_name, namespace=props.namespace, labels=dict(self.selector_labels)
            ),
            spec=ServiceV1Spec(type="ClusterIP", selector=self.selector_labels, port=ports),
            provider=props.provider,
        )

    def autoscale(
        self,
        min_replicas: int,
        max_replicas: int,
        cpu_utilization: int,
        memory_utilization: int,
        *,
        after: Sequence[ITerraformDependable] = (),
    ) -> Autoscaler:
        """A HorizontalPodAutoscaler ``<name>-hpa`` on CPU and memory (``autoscaled`` hands it the replicas)."""
        if not self._props.autoscaled:
            raise ValueError(f"workload {self.name}: set autoscaled=True so Terraform leaves the replicas to the HPA")
        self.autoscaler = Autoscaler(
            self,
            "autoscaler",
            AutoscalerProps(
                name=f"{self.name}-hpa",
                namespace=self.namespace,
                deployment=self.name,
                min_replicas=min_replicas,
                max_replicas=max_replicas,
                cpu_utilization=cpu_utilization,
                memory_utilization=memory_utilization,
                depends_on=[self.deployment, *after],
                provider=self._props.provider,
            ),
        )
        return self.autoscaler

    def restrict_traffic(
        self, ingress: Sequence[IngressRule], egress: Sequence[EgressPort] | None = None
    ) -> NetworkPolicy:
        """A NetworkPolicy ``<name>-netpol``: only ``ingress`` reaches the pods; ``egress`` limits where they go."""
        self.network_policy = NetworkPolicy(
            self,
            "network-policy",
            NetworkPolicyProps(
                name=f"{self.name}-netpol",
                namespace=self.namespace,
                pod_selector=self.selector_labels,
                ingress=ingress,
                egress=egress,
                provider=self._props.provider,
            ),
        )
        return self.network_policy

    def _pod_spec(self, props: K8sWorkloadProps) -> DeploymentV1SpecTemplateSpec:
        volumes = [
            DeploymentV1SpecTemplateSpecVolume(
                name=_volume_name(index),
                config_map=DeploymentV1SpecTemplateSpecVolumeConfigMap(name=volume.config_map),
            )
            for index, volume in enumerate(props.config_volumes)
        ]
        mounts = [
            DeploymentV1SpecTemplateSpecContainerVolumeMount(
                name=_volume_name(index), mount_path=volume.mount_path, read_only=True
            )
            for index, volume in enumerate(props.config_volumes)
        ]
        for index, path in enumerate(props.writable_paths):
            name = "temp-storage" if index == 0 else f"writable-{index}"
            volumes.append(
                DeploymentV1SpecTemplateSpecVolume(name=name, empty_dir=DeploymentV1SpecTemplateSpecVolumeEmptyDir())
            )
            mounts.append(DeploymentV1SpecTemplateSpecContainerVolumeMount(name=name, mount_path=path))

        container_ports = [DeploymentV1SpecTemplateSpecContainerPort(name="http", container_port=props.container_port)]
        if props.metrics_port is not None:
            container_ports.append(
                DeploymentV1SpecTemplateSpecContainerPort(name="metrics", container_port=props.metrics_port)
            )
        placement = props.placement
        return DeploymentV1SpecTemplateSpec(
            service_account_name=props.sa_name,
            automount_service_account_token=props.automount_service_account_token,
            security_context=DeploymentV1SpecTemplateSpecSecurityContext(
                run_as_non_root=True,
                run_as_user=str(props.run_as_user),
                run_as_group=str(props.fs_group),
                fs_group=str(props.fs_group),
                seccomp_profile=DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
            ),
            image_pull_secrets=[DeploymentV1SpecTemplateSpecImagePullSecrets(name=n) for n in props.image_pull_secrets]
            or None,
            node_selector=dict(placement.node_selector) if placement else None,
            toleration=[
                DeploymentV1SpecTemplateSpecToleration(
                    key=t.key,
                    operator=t.operator,
                    value=t.value if t.operator == "Equal" else None,
                    effect=t.effect,
                )
                for t in placement.tolerations
            ]
            if placement and placement.tolerations
            else None,
            container=[
                DeploymentV1SpecTemplateSpecContainer(
                    name=props.name,
                    image=props.image,
                    image_pull_policy=props.image_pull_policy,
                    port=container_ports,
                    env=[_env(e) for e in props.env] or None,
                    resources=DeploymentV1SpecTemplateSpecContainerResources(
                        requests=dict(props.requests), limits=dict(props.limits)
                    ),
                    liveness_probe=DeploymentV1SpecTemplateSpecContainerLivenessProbe(
                        http_get=DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet(
                            path=props.liveness.path, port=str(props.container_port)
                        ),
                        initial_delay_seconds=props.liveness.initial_delay_seconds,
                        period_seconds=props.liveness.period_seconds,
                        timeout_seconds=props.liveness.timeout_seconds,
                        failure_threshold=props.liveness.failure_threshold,
                    ),
                    readiness_probe=DeploymentV1SpecTemplateSpecContainerReadinessProbe(
                        http_get=DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet(
                            path=props.readiness.path, port=str(props.container_port)
                        ),
                        initial_delay_seconds=props.readiness.initial_delay_seconds,
                        period_seconds=props.readiness.period_seconds,
                        timeout_seconds=props.readiness.timeout_seconds,
                        failure_threshold=props.readiness.failure_threshold,
                    ),
                    security_context=DeploymentV1SpecTemplateSpecContainerSecurityContext(
                        run_as_non_root=True,
                        allow_privilege_escalation=False,
                        privileged=False,
                        read_only_root_filesystem=props.read_only_root_filesystem,
                        capabilities=DeploymentV1SpecTemplateSpecContainerSecurityContextCapabilities(drop=["ALL"]),
                    ),
                    volume_mount=mounts or None,
                )
            ],
            volume=volumes or None,
        )


def _volume_name(index: int) -> str:
    """The seed's name for the first config volume, numbered names after it."""
    return "config-volume" if index == 0 else f"config-volume-{index}"


def _env(var: EnvVar) -> DeploymentV1SpecTemplateSpecContainerEnv:
    if var.value is not None:
        return DeploymentV1SpecTemplateSpecContainerEnv(name=var.name, value=var.value)
    if var.secret is not None:
        return DeploymentV1SpecTemplateSpecContainerEnv(
            name=var.name,
            value_from=DeploymentV1SpecTemplateSpecContainerEnvValueFrom(
                secret_key_ref=DeploymentV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef(
                    name=var.secret[0], key=var.secret[1], optional=var.optional
                )
            ),
        )
    assert var.config_map is not None
    return DeploymentV1SpecTemplateSpecContainerEnv(
        name=var.name,
        value_from=DeploymentV1SpecTemplateSpecContainerEnvValueFrom(
            config_map_key_ref=DeploymentV1SpecTemplateSpecContainerEnvValueFromConfigMapKeyRef(
                name=var.config_map[0], key=var.config_map[1], optional=var.optional
            )
        ),
    )
