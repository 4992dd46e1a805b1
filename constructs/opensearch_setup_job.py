"""A Kubernetes Job that applies OpenSearch security roles, their IAM mappings and ISM policies.

With fine-grained access control those live inside the domain, behind its REST API: no AWS
API and no pinned Terraform provider manages them. The Job runs ``runtime/opensearch_bootstrap.py``
(standard-library Python, mounted from a ConfigMap with its JSON configuration) as a service
account whose IRSA role is the domain's master user, and Terraform waits for it to succeed.

The Job's name carries a digest of its ConfigMap (scripts and configuration) computed by Terraform:
any change creates a new Job, which applies everything again (idempotently); an unchanged one is
left alone. The pod is
hardened (non-root, read-only root filesystem, no privilege escalation, no capabilities,
RuntimeDefault seccomp, no Kubernetes API token).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    JobV1SpecTemplateSpecContainerResources,
    JobV1SpecTemplateSpecContainerSecurityContext,
    JobV1SpecTemplateSpecContainerSecurityContextCapabilities,
    JobV1SpecTemplateSpecContainerVolumeMount,
    JobV1SpecTemplateSpecSecurityContext,
    JobV1SpecTemplateSpecSecurityContextSeccompProfile,
    JobV1SpecTemplateSpecVolume,
    JobV1SpecTemplateSpecVolumeConfigMap,
    JobV1Timeouts,
)
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

from iworkz_constructs.k8s_workload import check_image
from iworkz_constructs.runtime_files import MOUNT_PATH, NOBODY, check_name, runtime_files

SCRIPTS = ("sigv4.py", "opensearch_bootstrap.py")
CONFIG_KEY = "config.json"
# Roles the domain owns (the master user's mapping lives in all_access): never rewritten.
RESERVED_ROLES = frozenset({"all_access", "security_manager", "manage_snapshots", "kibana_server"})


@dataclass(frozen=True)
class OpenSearchSetupJobProps:
    """Properties of :class:`OpenSearchSetupJob`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the Job and its service account | required |
    | service_account | service account the master role trusts (IRSA) | required |
    | role_arn | the domain's master-user IAM role | required |
    | endpoint | the domain's endpoint (host name) | required |
    | region | AWS region of the domain | required |
    | image | Python 3.11+ image, ``repository:tag`` (standard library only) | required |
    | roles | OpenSearch security roles: name -> role body | none |
    | role_mappings | name (one of ``roles``) -> mapping body, e.g. ``{"backend_roles": [<IAM role ARN>]}`` | none |
    | ism_policies | ISM policy id -> policy body | none |
    | name | prefix of the Job's name; also the ConfigMap's name | ``opensearch-bootstrap`` |
    | timeout_minutes | how long Terraform waits for the Job | 10 |
    | backoff_limit | retries of a failed pod | 3 |
    | provider | kubernetes provider | the stack's default |
    | depends_on | e.g. the namespace and the domain's consumers' roles | none |
    """

    namespace: str
    service_account: str
    role_arn: str
    endpoint: str
    region: str
    image: str
    roles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    role_mappings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    ism_policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    name: str = "opensearch-bootstrap"
    timeout_minutes: int = 10
    backoff_limit: int = 3
    provider: TerraformProvider | None = None
    depends_on: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        # The Job's name adds 11 characters (a digest) to ``name``.
        check_name("name", self.name, max_length=52)
        check_name("namespace", self.namespace)
        check_name("service_account", self.service_account)
        check_image("image", self.image)
        if not (self.roles or self.role_mappings or self.ism_policies):
            raise ValueError(f"{self.name}: give roles, role_mappings or ism_policies to apply")
        for section in ("roles", "role_mappings"):
            reserved = sorted(RESERVED_ROLES & set(getattr(self, section)))
            if reserved:
                raise ValueError(f"{section}: {', '.join(reserved)} belong to the domain; define roles of your own")
        unknown = sorted(set(self.role_mappings) - set(self.roles))
        if unknown:
            raise ValueError(f"role_mappings: {', '.join(unknown)} not in roles; map only the roles this Job defines")
        if not 1 <= self.timeout_minutes <= 60:
            raise ValueError(f"timeout_minutes {self.timeout_minutes}: 1-60")
        if not 0 <= self.backoff_limit <= 10:
            raise ValueError(f"backoff_limit {self.backoff_limit}: 0-10")

    def document(self) -> dict[str, Any]:
        """The configuration the script reads (``CONFIG_FILE``)."""
        return {
            "roles": dict(self.roles),
            "role_mappings": dict(self.role_mappings),
            "ism_policies": dict(self.ism_policies),
        }


class OpenSearchSetupJob(Construct):
    """Attributes: ``job`` (the kubernetes_job_v1), ``job_name``, ``config`` (the applied document)."""

    def __init__(self, scope: Construct, id: str, props: OpenSearchSetupJobProps) -> None:
        super().__init__(scope, id)
        labels = {"app.kubernetes.io/name": props.name, "app.kubernetes.io/component": "setup"}
        provider = props.provider
        self.config = props.document()
        # The configuration keeps its Terraform references (the role ARNs).
        data = runtime_files(*SCRIPTS)
        data[CONFIG_KEY] = json.dumps(self.config, indent=2, sort_keys=True)

        service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=props.service_account,
                namespace=props.namespace,
                labels=labels,
                annotations={"eks.amazonaws.com/role-arn": props.role_arn},
            ),
            automount_service_account_token=False,
            provider=provider,
        )
        config_map = ConfigMapV1(
            self,
            "config",
            metadata=ConfigMapV1Metadata(name=props.name, namespace=props.namespace, labels=labels),
            data=data,
            provider=provider,
        )
        # Hashed by Terraform over the ConfigMap as applied (the role ARNs are only known there).
        self.job_name = f"{props.name}-{Fn.substr(Fn.sha256(Fn.jsonencode(config_map.data)), 0, 10)}"
        env = {
            "OPENSEARCH_ENDPOINT": props.endpoint,
            "AWS_REGION": props.region,
            "CONFIG_FILE": f"{MOUNT_PATH}/{CONFIG_KEY}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
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
                            run_as_user=str(NOBODY),
                            run_as_group=str(NOBODY),
                            seccomp_profile=JobV1SpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
                        ),
                        container=[
                            JobV1SpecTemplateSpecContainer(
                                name="apply",
                                image=props.image,
                                image_pull_policy="Always",
                                command=["python", f"{MOUNT_PATH}/opensearch_bootstrap.py"],
                                env=[JobV1SpecTemplateSpecContainerEnv(name=k, value=v) for k, v in env.items()],
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
                                        name="setup", mount_path=MOUNT_PATH, read_only=True
                                    )
                                ],
                            )
                        ],
                        volume=[
                            JobV1SpecTemplateSpecVolume(
                                name="setup",
                                config_map=JobV1SpecTemplateSpecVolumeConfigMap(name=props.name, default_mode="0444"),
                            )
                        ],
                    ),
                ),
            ),
            wait_for_completion=True,
            timeouts=JobV1Timeouts(create=f"{props.timeout_minutes}m", update=f"{props.timeout_minutes}m"),
            depends_on=[service_account, config_map, *props.depends_on],
            provider=provider,
        )
