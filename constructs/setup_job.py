"""A Kubernetes Job that configures a service from inside the cluster, and that Terraform waits for.

Some settings live behind a service's own API rather than AWS's (OpenSearch security roles,
PostgreSQL roles): no pinned Terraform provider manages them. A setup Job runs a script from
a ConfigMap, as its own service account, and Terraform waits until it has succeeded. The
Job's name carries a digest of its ConfigMap computed by Terraform, so a changed script or
configuration runs again (scripts are idempotent) and an unchanged one is left alone.

The pod is hardened: non-root, read-only root filesystem, no privilege escalation, no
capabilities, RuntimeDefault seccomp, no Kubernetes API token. Secrets reach it only as
environment variables from Kubernetes Secrets (``secret_env``), never in the ConfigMap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import Fn, ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from cdktf_cdktf_provider_kubernetes.job_v1 import (
    JobV1,
    JobV1Metadata,
    JobV1Spec,
    JobV1SpecTemplate,
    JobV1SpecTemplateMetadata,
    JobV1SpecTemplateSpec,
    JobV1SpecTemplateSpecContainer,
    JobV1SpecTemplateSpecContainerEnv,
    JobV1SpecTemplateSpecContainerEnvValueFrom,
    JobV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef,
    JobV1SpecTemplateSpecContainerResources,
    JobV1SpecTemplateSpecContainerSecurityContext,
    JobV1SpecTemplateSpecContainerSecurityContextCapabilities,
    JobV1SpecTemplateSpecContainerVolumeMount,
    JobV1SpecTemplateSpecSecurityContext,
    JobV1SpecTemplateSpecSecurityContextSeccompProfile,
    JobV1SpecTemplateSpecVolume,
    JobV1SpecTemplateSpecVolumeConfigMap,
    JobV1SpecTemplateSpecVolumeProjected,
    JobV1SpecTemplateSpecVolumeProjectedSources,
    JobV1SpecTemplateSpecVolumeProjectedSourcesServiceAccountToken,
    JobV1Timeouts,
)
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

from iworkz_constructs.k8s_workload import check_image
from iworkz_constructs.runtime_files import MOUNT_PATH, NOBODY, check_name

# The file name of the projected token inside ``projected_token``'s directory.
TOKEN_FILE = "azure-identity-token"


@dataclass(frozen=True)
class SetupJobProps:
    """Properties of :class:`SetupJob`.

    | name | meaning | default |
    |---|---|---|
    | name | prefix of the Job's name (a digest follows); also the ConfigMap's name | required |
    | namespace | namespace of the Job, its ConfigMap and service account | required |
    | service_account | the pod's service account (created here) | required |
    | image | ``repository:tag`` of the image that runs ``command`` | required |
    | command | what the container runs (the files are at ``MOUNT_PATH``) | required |
    | files | ConfigMap files: name -> content (scripts, configuration; no secrets) | required |
    | env | plain environment variables | none |
    | secret_env | variable -> (Kubernetes Secret, key) | none |
    | service_account_annotations | e.g. the IRSA role | none |
    | projected_token | (directory, audience): a service account token for another issuer's trust, e.g. Entra ID | none |
    | run_as_user | the pod's UID (the image's unprivileged user) | 65534 (nobody) |
    | timeout_minutes | how long Terraform waits for the Job | 10 |
    | backoff_limit | retries of a failed pod | 3 |
    | depends_on / provider | what must exist first (the secrets, the service's consumers) / kubernetes provider | none / default |
    """

    name: str
    namespace: str
    service_account: str
    image: str
    command: Sequence[str]
    files: Mapping[str, str]
    env: Mapping[str, str] = field(default_factory=dict)
    secret_env: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    projected_token: tuple[str, str] | None = None
    run_as_user: int = NOBODY
    timeout_minutes: int = 10
    backoff_limit: int = 3
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        # The Job's name adds 11 characters (a digest) to ``name``.
        check_name("name", self.name, max_length=52)
        check_name("namespace", self.namespace)
        check_name("service_account", self.service_account)
        check_image("image", self.image)
        if self.run_as_user == 0:
            raise ValueError(f"{self.name}: run_as_user 0 is root; the Job runs as non-root")
        if not 1 <= self.timeout_minutes <= 60:
            raise ValueError(f"timeout_minutes {self.timeout_minutes}: 1-60")
        if not 0 <= self.backoff_limit <= 10:
            raise ValueError(f"backoff_limit {self.backoff_limit}: 0-10")
        overlap = sorted(set(self.env) & set(self.secret_env))
        if overlap:
            raise ValueError(f"{self.name}: {overlap} set both as plain and as secret variables")


class SetupJob(Construct):
    """Attributes: ``job`` (the kubernetes_job_v1, for ``depends_on``), ``job_name``, ``config_map``."""

    def __init__(self, scope: Construct, id: str, props: SetupJobProps) -> None:
        super().__init__(scope, id)
        labels = {"app.kubernetes.io/name": props.name, "app.kubernetes.io/component": "setup"}
        provider = props.provider
        service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=props.service_account,
                namespace=props.namespace,
                labels=labels,
                annotations=dict(props.service_account_annotations) or None,
            ),
            automount_service_account_token=False,
            provider=provider,
        )
        self.config_map = ConfigMapV1(
            self,
            "config",
            metadata=ConfigMapV1Metadata(name=props.name, namespace=props.namespace, labels=labels),
            data=dict(props.files),
            provider=provider,
        )
        # Hashed by Terraform over the ConfigMap as applied (references are only known there).
        self.job_name = f"{props.name}-{Fn.substr(Fn.sha256(Fn.jsonencode(self.config_map.data)), 0, 10)}"
        env = [JobV1SpecTemplateSpecContainerEnv(name=k, value=v) for k, v in props.env.items()]
        env += [
            JobV1SpecTemplateSpecContainerEnv(
                name=variable,
                value_from=JobV1SpecTemplateSpecContainerEnvValueFrom(
                    secret_key_ref=JobV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef(name=secret, key=key)
                ),
            )
            for variable, (secret, key) in props.secret_env.items()
        ]
        mounts = {"setup": MOUNT_PATH}
        volumes = [
            JobV1SpecTemplateSpecVolume(
                name="setup",
                config_map=JobV1SpecTemplateSpecVolumeConfigMap(name=props.name, default_mode="0444"),
            )
        ]
        if props.projected_token is not None:
            directory, audience = props.projected_token
            mounts["token"] = directory
            volumes.append(
                JobV1SpecTemplateSpecVolume(
                    name="token",
                    projected=[
                        JobV1SpecTemplateSpecVolumeProjected(
                            sources=[
                                JobV1SpecTemplateSpecVolumeProjectedSources(
                                    service_account_token=JobV1SpecTemplateSpecVolumeProjectedSourcesServiceAccountToken(
                                        audience=audience, path=TOKEN_FILE, expiration_seconds=3600
                                    )
                                )
                            ]
                        )
                    ],
                )
            )
        self.job = JobV1(
            self,
            "job",
            metadata=JobV1Metadata(name=self.job_name, namespace=props.namespace, labels=labels),
            spec=JobV1Spec(
                backoff_limit=props.backoff_limit,
                template=JobV1SpecTemplate(
                    metadata=JobV1SpecTemplateMetadata(labels=labels),
                    spec=JobV1SpecTemplateSpec(
                        service_account_name=props.service_account,
                        automount_service_account_token=False,
                        restart_policy="Never",
                        security_context=JobV1SpecTemplateSpecSecurityContext(
                            run_as_non_root=True,
                            run_as_user=str(props.run_as_user),
                            run_as_group=str(props.run_as_user),
                            seccomp_profile=JobV1SpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
                        ),
                        container=[
                            JobV1SpecTemplateSpecContainer(
                                name="apply",
                                image=props.image,
                                image_pull_policy="Always",
                                command=list(props.command),
                                env=env,
                                resources=JobV1SpecTemplateSpecContainerResources(
                                    requests={"cpu": "10m", "memory": "32Mi"}, limits={"cpu": "200m", "memory": "64Mi"}
                                ),
                                security_context=JobV1SpecTemplateSpecContainerSecurityContext(
                                    run_as_non_root=True,
                                    allow_privilege_escalation=False,
                                    privileged=False,
                                    read_only_root_filesystem=True,
                                    capabilities=JobV1SpecTemplateSpecContainerSecurityContextCapabilities(
                                        drop=["ALL"]
                                    ),
                                ),
                                volume_mount=[
                                    JobV1SpecTemplateSpecContainerVolumeMount(
                                        name=name, mount_path=path, read_only=True
                                    )
                                    for name, path in mounts.items()
                                ],
                            )
                        ],
                        volume=volumes,
                    ),
                ),
            ),
            wait_for_completion=True,
            timeouts=JobV1Timeouts(create=f"{props.timeout_minutes}m", update=f"{props.timeout_minutes}m"),
            depends_on=[service_account, self.config_map, *props.depends_on],
            provider=provider,
        )
