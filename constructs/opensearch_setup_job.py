"""A Kubernetes Job that applies OpenSearch security roles, their IAM mappings and ISM policies.

With fine-grained access control those live inside the domain, behind its REST API: no AWS
API and no pinned Terraform provider manages them. The Job runs ``runtime/opensearch_bootstrap.py``
(standard-library Python, mounted from a ConfigMap with its JSON configuration) as a service
account whose IRSA role is the domain's master user, and Terraform waits for it to succeed.

A :class:`~iworkz_constructs.setup_job.SetupJob`: hardened, named after a digest of its
ConfigMap, awaited by Terraform.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from iworkz_constructs.k8s_workload import check_image
from iworkz_constructs.runtime_files import MOUNT_PATH, check_name, runtime_files
from iworkz_constructs.setup_job import SetupJob, SetupJobProps
from iworkz_constructs.workload_role import IRSA_ANNOTATION

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


class OpenSearchSetupJob(SetupJob):
    """Attributes: ``job`` (the kubernetes_job_v1), ``job_name``, ``config`` (the applied document)."""

    def __init__(self, scope: Construct, id: str, props: OpenSearchSetupJobProps) -> None:
        config = props.document()
        # The configuration keeps its Terraform references (the role ARNs).
        files = runtime_files(*SCRIPTS)
        files[CONFIG_KEY] = json.dumps(config, indent=2, sort_keys=True)
        super().__init__(
            scope,
            id,
            SetupJobProps(
                name=props.name,
                namespace=props.namespace,
                service_account=props.service_account,
                service_account_annotations={IRSA_ANNOTATION: props.role_arn},
                image=props.image,
                command=["python", f"{MOUNT_PATH}/opensearch_bootstrap.py"],
                files=files,
                env={
                    "OPENSEARCH_ENDPOINT": props.endpoint,
                    "AWS_REGION": props.region,
                    "CONFIG_FILE": f"{MOUNT_PATH}/{CONFIG_KEY}",
                    "PYTHONDONTWRITEBYTECODE": "1",
                },
                timeout_minutes=props.timeout_minutes,
                backoff_limit=props.backoff_limit,
                depends_on=props.depends_on,
                provider=props.provider,
            ),
        )
        self.config = config
