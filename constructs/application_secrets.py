"""The application namespace's secrets: the entries the operators fill and what the workloads read.

:func:`operator_secrets` creates the Secrets Manager entries no code knows the value of (the
OpenAI key, the registry token); :func:`application_secrets` the ExternalSecrets the workloads
mount (database URL of the application's own role, Redis, JWT key, the OpenAI key, the image
pull secret). They are builders, not constructs: their resources belong to the caller's scope,
so the addresses the workloads stack has had since the platform split stay as they are
(``iworkz/migrations.py`` imports them there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from iworkz_constructs.application import AI_SECRETS, DATABASE_SECRET, IMAGE_PULL_SECRET, JWT_SECRET, REDIS_SECRET
from iworkz_constructs.external_secret import ExternalSecret, RemoteValue, docker_config_template
from iworkz_constructs.operator_secret import OperatorSecret, OperatorSecretProps
from iworkz_constructs.postgres import POSTGRES_PORT

if TYPE_CHECKING:
    from iworkz.contracts import DataOutputs
    from iworkz_constructs.secret_store import NamespaceSecretStore

OPENAI = "openai"
REGISTRY = "registry"


def registry_hosts(images: Iterable[str]) -> list[str]:
    """The registries the images are pulled from (``registry.gitlab.com/iworkz/api`` -> ``registry.gitlab.com``)."""
    return sorted({image.split("/")[0] for image in images})


def operator_secrets(
    scope: Construct, prefix: str, kms_key_arn: str, pull_from: Sequence[str] = ()
) -> dict[str, OperatorSecret]:
    """The entries the operators fill under ``<prefix>/platform/`` (no value in code or state):
    the OpenAI key and, when images are pulled with a token, the registry credentials for
    ``pull_from``. Keys: :data:`OPENAI`, :data:`REGISTRY`."""
    secrets = {
        OPENAI: OperatorSecret(
            scope,
            "openai-api-key",
            OperatorSecretProps(
                f"{prefix}/platform/openai-api-key", "OpenAI API key of ai-services (plain string)", kms_key_arn
            ),
        )
    }
    if pull_from:
        secrets[REGISTRY] = OperatorSecret(
            scope,
            "registry-credentials",
            OperatorSecretProps(
                f"{prefix}/platform/registry-credentials",
                f'Read-only registry token for {", ".join(pull_from)}: JSON {{"username": ..., "password": ...}}',
                kms_key_arn,
            ),
        )
    return secrets


@dataclass(frozen=True)
class ApplicationSecretsProps:
    """Properties of :func:`application_secrets`.

    | name | meaning | default |
    |---|---|---|
    | store | the namespace's secret store (it reads Secrets Manager) | required |
    | data | the data stack's contract: the database, Redis and JWT entries | required |
    | operator | :func:`operator_secrets` (with :data:`REGISTRY`: an image pull secret too) | required |
    | pull_from | registries of the pull secret (:func:`registry_hosts`) | none |
    """

    store: NamespaceSecretStore
    data: DataOutputs
    operator: dict[str, OperatorSecret]
    pull_from: Sequence[str] = ()

    def __post_init__(self) -> None:
        if OPENAI not in self.operator:
            raise ValueError("operator: ai-services reads the OpenAI key (operator_secrets gives it)")
        if (REGISTRY in self.operator) != bool(self.pull_from):
            raise ValueError("pull_from: name the registries exactly when there is a registry token")


def application_secrets(scope: Construct, props: ApplicationSecretsProps) -> list[ExternalSecret]:
    """The ExternalSecrets the workloads read, in ``scope``."""
    store, postgres, operator = props.store, props.data.postgres, props.operator
    redis = props.data.redis.auth_secret_arn
    # The application's own role (never the rotating master user). The server enforces TLS
    # (rds.force_ssl); verify-full needs the RDS CA bundle inside the image.
    secrets = [
        store.external_secret(
            scope,
            DATABASE_SECRET,
            [RemoteValue("password", postgres.app_password_secret_arn)],
            template=database_url_template(postgres.app_user, postgres.address, postgres.database_name),
        ),
        # Redis uses IAM authentication: the URL names the user; the app signs a token with its role.
        store.external_secret(
            scope,
            REDIS_SECRET,
            [RemoteValue(key, redis, key) for key in ("username", "host", "port")],
            template={"url": "rediss://{{ .username }}@{{ .host }}:{{ .port }}"},
        ),
        store.external_secret(scope, JWT_SECRET, [RemoteValue("secret", props.data.jwt_secret_arn)]),
        store.external_secret(scope, AI_SECRETS, [RemoteValue("openai-key", operator[OPENAI].arn)]),
    ]
    if REGISTRY in operator:
        registry = operator[REGISTRY].arn
        secrets.append(
            store.external_secret(
                scope,
                IMAGE_PULL_SECRET,
                [RemoteValue("username", registry, "username"), RemoteValue("password", registry, "password")],
                template=docker_config_template(props.pull_from),
                secret_type="kubernetes.io/dockerconfigjson",
            )
        )
    return secrets


def database_url_template(user: str, address: str, database: str) -> dict[str, str]:
    """``DATABASE_URL`` of a role whose password is the ``password`` value (TLS required: RDS and Azure enforce it)."""
    host = f"{address}:{POSTGRES_PORT}/{database}"
    return {"url": f"postgresql://{user}:" + "{{ .password | urlquery }}@" + f"{host}?sslmode=require"}
