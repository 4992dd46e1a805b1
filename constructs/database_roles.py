"""The database roles of the platform's services, created inside PostgreSQL by a setup Job.

The services must not log in as the RDS master user: RDS rotates its managed master secret
(every 7 days by default) while pods keep the password they started with, and the master user
can do everything. The Job (``runtime/postgres_roles.sql``, psql as the master user) creates
one role per service with a password Secrets Manager generated, grants what each needs and
hands the application its schema objects; the master user stays for administration.
:func:`database_setup` gives the Job a namespace and a secret store of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from iworkz_constructs.external_secret import RemoteValue
from iworkz_constructs.namespace import Namespace, NamespaceProps
from iworkz_constructs.postgres import POSTGRES_PORT
from iworkz_constructs.runtime_files import MOUNT_PATH, runtime_files
from iworkz_constructs.secret import GeneratedValue, Secret, SecretProps
from iworkz_constructs.secret_store import NamespaceSecretStore, NamespaceSecretStoreProps
from iworkz_constructs.setup_job import SetupJob, SetupJobProps

if TYPE_CHECKING:
    from iworkz.contracts import ClusterOutputs, PostgresOutputs

SCRIPT = "postgres_roles.sql"
POSTGRES_IMAGE_USER = 70  # the postgres user of the official Alpine images


@dataclass(frozen=True)
class DatabaseRolesProps:
    """Properties of :class:`DatabaseRoles`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the Job (holds the master credentials: nothing else runs there) | required |
    | host / port / database | the PostgreSQL server and the application database | required |
    | credentials_secret | Kubernetes Secret with ``master-username``, ``master-password``, ``app-password``, ``monitoring-password`` | required |
    | app_user / monitoring_user | the roles of the application and of postgres_exporter | required |
    | image | a PostgreSQL client image (psql >= 15), ``repository:tag`` | required |
    | name | prefix of the Job's name | ``database-roles`` |
    | depends_on / provider | the ExternalSecret of ``credentials_secret`` / kubernetes provider | none / default |
    """

    namespace: str
    host: str
    port: int
    database: str
    credentials_secret: str
    app_user: str
    monitoring_user: str
    image: str
    name: str = "database-roles"
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None


class DatabaseRoles(SetupJob):
    """Attributes: ``job`` (what the services wait for), ``job_name``."""

    def __init__(self, scope: Construct, id: str, props: DatabaseRolesProps) -> None:
        secret = props.credentials_secret
        super().__init__(
            scope,
            id,
            SetupJobProps(
                name=props.name,
                namespace=props.namespace,
                service_account=props.name,
                image=props.image,
                command=["psql", "--no-psqlrc", "--quiet", "--file", f"{MOUNT_PATH}/{SCRIPT}"],
                files=runtime_files(SCRIPT),
                env={
                    "PGHOST": props.host,
                    "PGPORT": str(props.port),
                    "PGDATABASE": props.database,
                    # The server forces TLS (rds.force_ssl); verify-full would need the RDS CA bundle.
                    "PGSSLMODE": "require",
                    "APP_USER": props.app_user,
                    "MONITORING_USER": props.monitoring_user,
                },
                secret_env={
                    "PGUSER": (secret, "master-username"),
                    "PGPASSWORD": (secret, "master-password"),
                    "APP_PASSWORD": (secret, "app-password"),
                    "MONITORING_PASSWORD": (secret, "monitoring-password"),
                },
                run_as_user=POSTGRES_IMAGE_USER,
                depends_on=props.depends_on,
                provider=props.provider,
            ),
        )


@dataclass(frozen=True)
class DatabaseSetupProps:
    """Properties of :func:`database_setup`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of its own for the Job and its secret store (only it sees the master user) | required |
    | cluster | the cluster's contract (the store's IRSA role) | required |
    | role_name | IAM role of the store | required |
    | postgres | the data stack's PostgreSQL contract (server, master and role secrets) | required |
    | kms_key_arn | key of those secrets | required |
    | image | a PostgreSQL client image (psql >= 15) | required |
    | provider | kubernetes provider | the stack's default |
    """

    namespace: str
    cluster: ClusterOutputs
    role_name: str
    postgres: PostgresOutputs
    kms_key_arn: str
    image: str
    provider: TerraformProvider | None = None


def database_setup(scope: Construct, props: DatabaseSetupProps) -> DatabaseRoles:
    """The namespace, its secret store, the credentials and the :class:`DatabaseRoles` Job, in
    ``scope`` (a builder: the resources keep the addresses they have in the workloads stack)."""
    postgres = props.postgres
    namespace = Namespace(scope, "database-setup-namespace", NamespaceProps(props.namespace, provider=props.provider))
    store = NamespaceSecretStore(
        scope,
        "database-setup-store",
        NamespaceSecretStoreProps(
            namespace=props.namespace,
            cluster=props.cluster,
            role_name=props.role_name,
            kms_key_arn=props.kms_key_arn,
            depends_on=[namespace],
            provider=props.provider,
        ),
    )
    master = postgres.master_user_secret_arn
    credentials = store.external_secret(
        scope,
        "database-roles-credentials",
        [
            RemoteValue("master-username", master, "username"),
            RemoteValue("master-password", master, "password"),
            RemoteValue("app-password", postgres.app_password_secret_arn),
            RemoteValue("monitoring-password", postgres.monitoring_password_secret_arn),
        ],
    )
    return DatabaseRoles(
        scope,
        "database-roles",
        DatabaseRolesProps(
            namespace=props.namespace,
            host=postgres.address,
            port=POSTGRES_PORT,
            database=postgres.database_name,
            credentials_secret=credentials.secret_name,
            app_user=postgres.app_user,
            monitoring_user=postgres.monitoring_user,
            image=props.image,
            depends_on=[credentials.manifest],
            provider=props.provider,
        ),
    )


DATABASE_ROLES = ("app", "monitoring")


def role_password_secrets(scope: Construct, prefix: str, kms_key_arn: str) -> dict[str, Secret]:
    """The passwords of :data:`DATABASE_ROLES`, generated by Secrets Manager (``<prefix>/database/<role>``),
    in ``scope`` as ``postgres-<role>-password``."""
    return {
        role: Secret(
            scope,
            f"postgres-{role}-password",
            SecretProps(
                name=f"{prefix}/database/{role}",
                description=f"Password of the {role} database role (generated by Secrets Manager)",
                kms_key_arn=kms_key_arn,
                generated=GeneratedValue(length=48),
            ),
        )
        for role in DATABASE_ROLES
    }
