"""A scheduled, keyless copy of S3 buckets into an Azure Blob container, and its staleness alert.

A Kubernetes CronJob of the primary cluster runs rclone as one service account that holds two
federated identities and no key: an IRSA role reads the buckets (the EKS webhook injects its web
identity token), and an Entra workload identity writes the container (a projected token with
the ``api://AzureADTokenExchange`` audience, read by rclone's ``env_auth``). ``rclone copy``
only adds: the container is immutable (time-based retention), nothing there is overwritten or
deleted. Each bucket lands below ``<container>/<bucket>/``.

The PrometheusRule alerts (severity ``critical``) when the last successful run is older than
the objects RPO, from kube-state-metrics' ``kube_cronjob_status_last_successful_time``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.cron_job_v1 import (
    CronJobV1,
    CronJobV1Metadata,
    CronJobV1Spec,
    CronJobV1SpecJobTemplate,
    CronJobV1SpecJobTemplateMetadata,
    CronJobV1SpecJobTemplateSpec,
    CronJobV1SpecJobTemplateSpecTemplate,
    CronJobV1SpecJobTemplateSpecTemplateMetadata,
    CronJobV1SpecJobTemplateSpecTemplateSpec,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainer,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerEnv,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerResources,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContext,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContextCapabilities,
    CronJobV1SpecJobTemplateSpecTemplateSpecContainerVolumeMount,
    CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContext,
    CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContextSeccompProfile,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolume,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolumeEmptyDir,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolumeProjected,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolumeProjectedSources,
    CronJobV1SpecJobTemplateSpecTemplateSpecVolumeProjectedSourcesServiceAccountToken,
)
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

from iworkz_constructs.entra_workload_identity import AZURE_TOKEN_DIR, TOKEN_EXCHANGE_AUDIENCE
from iworkz_constructs.k8s_workload import check_image
from iworkz_constructs.runtime_files import NOBODY, check_name
from iworkz_constructs.setup_job import TOKEN_FILE

PROMETHEUS_RULE_API = "monitoring.coreos.com/v1"


@dataclass(frozen=True)
class ObjectCopyProps:
    """Properties of :class:`ObjectCopy`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the CronJob and its service account | required |
    | buckets | S3 bucket names to copy | required |
    | region | AWS region of the buckets | required |
    | storage_account / container | the Azure destination | required |
    | schedule | cron schedule (UTC) | required |
    | max_minutes | deadline of one run (``activeDeadlineSeconds``) | required |
    | stale_after_hours | alert when the last successful run is older (the objects RPO) | required |
    | service_account_annotations | the IRSA role and the Entra workload identity | required |
    | azure_environment | the workload identity's ``AZURE_*`` variables | required |
    | image | rclone image, ``repository:tag`` | required |
    | name | CronJob and service account name | ``object-copy`` |
    | depends_on / provider | the identities' grants / kubernetes provider | none / default |
    """

    namespace: str
    buckets: Sequence[str]
    region: str
    storage_account: str
    container: str
    schedule: str
    max_minutes: int
    stale_after_hours: int
    service_account_annotations: Mapping[str, str]
    azure_environment: Mapping[str, str]
    image: str
    name: str = "object-copy"
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        check_name("name", self.name, max_length=52)
        check_name("namespace", self.namespace)
        check_image("image", self.image)
        if not self.buckets:
            raise ValueError(f"{self.name}: give at least one bucket to copy")
        if len(self.schedule.split()) != 5:
            raise ValueError(f"schedule {self.schedule!r} is not a five-field cron expression")
        if self.max_minutes < 10:
            raise ValueError(f"max_minutes {self.max_minutes}: a run needs at least 10 minutes")
        if self.stale_after_hours * 60 <= self.max_minutes:
            raise ValueError(f"stale_after_hours {self.stale_after_hours} must exceed one run ({self.max_minutes} min)")


class ObjectCopy(Construct):
    """Service account, CronJob and PrometheusRule. Attributes: ``cron_job``, ``name``, ``rule``, ``alert_name``."""

    def __init__(self, scope: Construct, id: str, props: ObjectCopyProps) -> None:
        super().__init__(scope, id)
        labels = {"app.kubernetes.io/name": props.name, "app.kubernetes.io/component": "dr-copy"}
        service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=props.name,
                namespace=props.namespace,
                labels=labels,
                annotations=dict(props.service_account_annotations),
            ),
            automount_service_account_token=False,
            provider=props.provider,
        )
        env = {
            **props.azure_environment,
            "BUCKETS": " ".join(props.buckets),
            "CONTAINER": props.container,
            "HOME": "/tmp",
            # Remotes from the environment: no rclone.conf, no key in either of them.
            "RCLONE_CONFIG_S3_TYPE": "s3",
            "RCLONE_CONFIG_S3_PROVIDER": "AWS",
            "RCLONE_CONFIG_S3_ENV_AUTH": "true",
            "RCLONE_CONFIG_S3_REGION": props.region,
            "RCLONE_CONFIG_BLOB_TYPE": "azureblob",
            "RCLONE_CONFIG_BLOB_ACCOUNT": props.storage_account,
            "RCLONE_CONFIG_BLOB_ENV_AUTH": "true",
        }
        # --immutable: a changed object fails the run (and alerts) instead of being overwritten.
        script = (
            'set -eu; for bucket in $BUCKETS; do rclone copy "s3:$bucket" "blob:$CONTAINER/$bucket" '
            "--immutable --checksum --transfers 8 --stats-one-line --stats 5m; done"
        )
        self.cron_job = CronJobV1(
            self,
            "cron-job",
            metadata=CronJobV1Metadata(name=props.name, namespace=props.namespace, labels=labels),
            spec=CronJobV1Spec(
                schedule=props.schedule,
                concurrency_policy="Forbid",
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=CronJobV1SpecJobTemplate(
                    metadata=CronJobV1SpecJobTemplateMetadata(labels=labels),
                    spec=CronJobV1SpecJobTemplateSpec(
                        backoff_limit=2,
                        active_deadline_seconds=props.max_minutes * 60,
                        template=CronJobV1SpecJobTemplateSpecTemplate(
                            metadata=CronJobV1SpecJobTemplateSpecTemplateMetadata(labels=labels),
                            spec=self._pod(props, env, script),
                        ),
                    ),
                ),
            ),
            depends_on=[service_account, *props.depends_on],
            provider=props.provider,
        )
        self.name = props.name
        self.alert_name = "DrObjectCopyStale"
        threshold = props.stale_after_hours * 3600
        selector = f'namespace="{props.namespace}", cronjob="{props.name}"'
        self.rule = Manifest(
            self,
            "staleness-rule",
            manifest={
                "apiVersion": PROMETHEUS_RULE_API,
                "kind": "PrometheusRule",
                "metadata": {"name": f"{props.name}-staleness", "namespace": props.namespace, "labels": labels},
                "spec": {
                    "groups": [
                        {
                            "name": "dr-object-copy",
                            "rules": [
                                {
                                    "alert": self.alert_name,
                                    # Never succeeded counts as stale once the RPO has passed.
                                    "expr": f"(time() - max(kube_cronjob_status_last_successful_time{{{selector}}}) "
                                    f"> {threshold}) or (absent(kube_cronjob_status_last_successful_time{{{selector}}}) "
                                    f"and on() (time() - max(kube_cronjob_created{{{selector}}}) > {threshold}))",
                                    "for": "10m",
                                    "labels": {"severity": "critical"},
                                    "annotations": {
                                        "summary": "The S3 -> Azure Blob copy of the DR site is older than its RPO",
                                        "description": f"No successful {props.name} run for {props.stale_after_hours} h "
                                        "(objects RPO): runbook, steady state.",
                                    },
                                }
                            ],
                        }
                    ]
                },
            },
            provider=props.provider,
        )

    @staticmethod
    def _pod(props: ObjectCopyProps, env: Mapping[str, str], script: str) -> CronJobV1SpecJobTemplateSpecTemplateSpec:
        return CronJobV1SpecJobTemplateSpecTemplateSpec(
            service_account_name=props.name,
            automount_service_account_token=False,
            restart_policy="Never",
            security_context=CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContext(
                run_as_non_root=True,
                run_as_user=str(NOBODY),
                run_as_group=str(NOBODY),
                fs_group=str(NOBODY),
                seccomp_profile=CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContextSeccompProfile(
                    type="RuntimeDefault"
                ),
            ),
            container=[
                CronJobV1SpecJobTemplateSpecTemplateSpecContainer(
                    name="copy",
                    image=props.image,
                    image_pull_policy="Always",
                    command=["sh", "-c", script],
                    env=[CronJobV1SpecJobTemplateSpecTemplateSpecContainerEnv(name=k, value=v) for k, v in env.items()],
                    resources=CronJobV1SpecJobTemplateSpecTemplateSpecContainerResources(
                        requests={"cpu": "250m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
                    ),
                    security_context=CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContext(
                        run_as_non_root=True,
                        allow_privilege_escalation=False,
                        privileged=False,
                        read_only_root_filesystem=True,
                        capabilities=CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContextCapabilities(
                            drop=["ALL"]
                        ),
                    ),
                    volume_mount=[
                        CronJobV1SpecJobTemplateSpecTemplateSpecContainerVolumeMount(
                            name="token", mount_path=AZURE_TOKEN_DIR, read_only=True
                        ),
                        CronJobV1SpecJobTemplateSpecTemplateSpecContainerVolumeMount(name="tmp", mount_path="/tmp"),
                    ],
                )
            ],
            volume=[
                CronJobV1SpecJobTemplateSpecTemplateSpecVolume(
                    name="token",
                    projected=[
                        CronJobV1SpecJobTemplateSpecTemplateSpecVolumeProjected(
                            sources=[
                                CronJobV1SpecJobTemplateSpecTemplateSpecVolumeProjectedSources(
                                    service_account_token=CronJobV1SpecJobTemplateSpecTemplateSpecVolumeProjectedSourcesServiceAccountToken(
                                        audience=TOKEN_EXCHANGE_AUDIENCE, path=TOKEN_FILE, expiration_seconds=3600
                                    )
                                )
                            ]
                        )
                    ],
                ),
                CronJobV1SpecJobTemplateSpecTemplateSpecVolume(
                    name="tmp", empty_dir=CronJobV1SpecJobTemplateSpecTemplateSpecVolumeEmptyDir(size_limit="1Gi")
                ),
            ],
        )
