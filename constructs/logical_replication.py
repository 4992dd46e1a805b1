"""PostgreSQL logical replication from RDS to the DR site, created and kept in shape by a setup Job.

Publication, replication role and subscription live inside the two servers: no pinned Terraform
provider manages them. The Job (``runtime/logical_replication.sh``, psql 16) runs in the primary
cluster, which reaches RDS directly and the Azure server over the site-to-site VPN; it signs in
to RDS as the master user (Secrets Manager, synced by External Secrets) and to Azure as an Entra
workload identity (a projected service account token exchanged for an Entra token). Terraform
waits for it; it runs again whenever its configuration changes and is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from iworkz_constructs.entra_workload_identity import AZURE_TOKEN_DIR, TOKEN_EXCHANGE_AUDIENCE
from iworkz_constructs.runtime_files import MOUNT_PATH, check_name, runtime_files
from iworkz_constructs.setup_job import SetupJob, SetupJobProps

SCRIPT = "logical_replication.sh"
POSTGRES_IMAGE_USER = 70  # the postgres user of the official Alpine images
# The Kubernetes Secret keys the Job reads (an ExternalSecret of the caller fills them).
CREDENTIAL_KEYS = ("master-username", "master-password", "replicator-password", "app-password")


@dataclass(frozen=True)
class LogicalReplicationProps:
    """Properties of :class:`LogicalReplication`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the Job (it holds the master credentials: nothing else runs there) | required |
    | publisher_host / publisher_port / database | the RDS primary and the replicated database | required |
    | subscriber_host | the Azure flexible server (private FQDN) | required |
    | subscriber_user | the Entra principal name administering it (the workload identity's name) | required |
    | credentials_secret | Kubernetes Secret with ``master-username``, ``master-password``, ``replicator-password``, ``app-password`` | required |
    | app_user | the application's role, created on Azure (read-only while subscribed) with the ``app-password`` | required |
    | azure_environment | the workload identity's ``AZURE_*`` variables (``EntraWorkloadIdentity.pod_environment``) | required |
    | service_account_annotations | the workload identity's annotations | required |
    | image | a PostgreSQL 16 client image (psql, pg_dump, busybox wget), ``repository:tag`` | required |
    | replicator | the replication role on RDS | ``dr_replicator`` |
    | publication / subscription | their names | ``iworkz_dr`` |
    | name | prefix of the Job's name; its service account | ``dr-replication`` |
    | depends_on / provider | the credentials' ExternalSecret, the identity's grant / kubernetes provider | none / default |
    """

    namespace: str
    publisher_host: str
    publisher_port: int
    database: str
    subscriber_host: str
    subscriber_user: str
    credentials_secret: str
    app_user: str
    azure_environment: Mapping[str, str]
    service_account_annotations: Mapping[str, str]
    image: str
    replicator: str = "dr_replicator"
    publication: str = "iworkz_dr"
    subscription: str = "iworkz_dr"
    name: str = "dr-replication"
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        check_name("name", self.name, max_length=52)
        for label in ("replicator", "publication", "subscription", "app_user"):
            value = getattr(self, label)
            if not value.replace("_", "").isalnum() or not value[0].isalpha() or len(value) > 63:
                raise ValueError(f"{label} {value!r} must be a plain PostgreSQL identifier")
        missing = sorted(
            {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"} - set(self.azure_environment)
        )
        if missing:
            raise ValueError(f"azure_environment lacks {missing}: the Job signs in to Azure as a workload identity")


class LogicalReplication(SetupJob):
    """Attributes: ``job`` (the kubernetes_job_v1), ``job_name``, ``name`` (its prefix); ``publication``, ``subscription``."""

    def __init__(self, scope: Construct, id: str, props: LogicalReplicationProps) -> None:
        secret = props.credentials_secret
        super().__init__(
            scope,
            id,
            SetupJobProps(
                name=props.name,
                namespace=props.namespace,
                service_account=props.name,
                service_account_annotations=props.service_account_annotations,
                projected_token=(AZURE_TOKEN_DIR, TOKEN_EXCHANGE_AUDIENCE),
                image=props.image,
                command=["sh", f"{MOUNT_PATH}/{SCRIPT}"],
                files=runtime_files(SCRIPT),
                env={
                    "PUB_HOST": props.publisher_host,
                    "PUB_PORT": str(props.publisher_port),
                    "DATABASE": props.database,
                    "SUB_HOST": props.subscriber_host,
                    "SUB_USER": props.subscriber_user,
                    "REPLICATOR": props.replicator,
                    "PUBLICATION": props.publication,
                    "SUBSCRIPTION": props.subscription,
                    "APP_USER": props.app_user,
                    **props.azure_environment,
                },
                secret_env={
                    "PUB_USER": (secret, "master-username"),
                    "PUB_PASSWORD": (secret, "master-password"),
                    "REPLICATOR_PASSWORD": (secret, "replicator-password"),
                    "APP_PASSWORD": (secret, "app-password"),
                },
                run_as_user=POSTGRES_IMAGE_USER,
                # The initial table copy can take a while; later runs take seconds.
                timeout_minutes=30,
                depends_on=props.depends_on,
                provider=props.provider,
            ),
        )
        self.name = props.name
        self.publication = props.publication
        self.subscription = props.subscription
