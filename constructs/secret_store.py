"""A namespace's own External Secrets store: it reads exactly the secrets granted to it.

The External Secrets Operator holds no AWS identity of its own. Each namespace gets a
``SecretStore`` that authenticates as a service account of that namespace (ESO requests a
token for it and assumes the account's IRSA role), and that role may read only the Secrets
Manager entries :meth:`NamespaceSecretStore.grant_read` names, decrypting them with their key.
A workload in another namespace cannot use the store, and nothing reads by name pattern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

from iworkz.contracts import ClusterOutputs
from iworkz_constructs.external_secret import API_VERSION, ExternalSecret, ExternalSecretProps, RemoteValue

SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class NamespaceSecretStoreProps:
    """Properties of :class:`NamespaceSecretStore`.

    | name | meaning | default |
    |---|---|---|
    | namespace | the namespace the store serves | required |
    | cluster | the cluster's contract (IRSA trust and region) | required |
    | role_name | IAM role of the store's service account | required |
    | kms_key_arn | key the granted secrets are encrypted with | required |
    | name | name of the SecretStore and of its service account | ``aws-secrets-manager`` |
    | depends_on | what must exist first (the namespace) | none |
    | provider | kubernetes provider | the stack's default |
    """

    namespace: str
    cluster: ClusterOutputs
    role_name: str
    kms_key_arn: str
    name: str = "aws-secrets-manager"
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or len(self.name) > 63:
            raise ValueError(f"secret store name {self.name!r} must be a DNS label")


class NamespaceSecretStore(Construct):
    """Service account, IRSA role and ``SecretStore``. Attributes: ``name``, ``role``, ``store``."""

    def __init__(self, scope: Construct, id: str, props: NamespaceSecretStoreProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self.name = props.name
        self._granted: list[str] = []
        self.role = props.cluster.service_account_role(
            self,
            "role",
            role_name=props.role_name,
            namespace=props.namespace,
            service_account=props.name,
            description=f"External Secrets store of namespace {props.namespace}: reads the secrets granted to it",
        )
        self.service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=props.name, namespace=props.namespace, annotations=self.role.service_account_annotations
            ),
            automount_service_account_token=False,
            depends_on=list(props.depends_on) or None,
            provider=props.provider,
        )
        self.store = Manifest(
            self,
            "store",
            manifest={
                "apiVersion": API_VERSION,
                "kind": "SecretStore",
                "metadata": {"name": props.name, "namespace": props.namespace},
                "spec": {
                    "provider": {
                        "aws": {
                            "service": "SecretsManager",
                            "region": props.cluster.region,
                            "auth": {"jwt": {"serviceAccountRef": {"name": props.name}}},
                        }
                    }
                },
            },
            depends_on=[self.service_account, self.role.role],
            provider=props.provider,
        )

    def grant_read(self, sid: str, *secret_arns: str) -> None:
        """Lets the store read these secrets (statement ``sid``) and decrypt them with the store's key."""
        statements: list[Mapping[str, object]] = [
            {"Sid": sid, "Effect": "Allow", "Action": list(SECRET_READ_ACTIONS), "Resource": list(secret_arns)}
        ]
        if not self._granted:
            statements.append(
                {
                    "Sid": "DecryptSecrets",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": self._props.kms_key_arn,
                }
            )
        self._granted.extend(secret_arns)
        self.role.add_to_policy(*statements)

    def external_secret(
        self,
        scope: Construct,
        id: str,
        values: Sequence[RemoteValue],
        *,
        name: str | None = None,
        template: Mapping[str, str] | None = None,
        secret_type: str = "Opaque",
    ) -> ExternalSecret:
        """ExternalSecret (and Secret) ``name`` (default: ``id``) of this namespace, read through this
        store, which may read exactly the secrets it names."""
        self.grant_read(
            "Read" + "".join(part.title() for part in re.split(r"[^a-zA-Z0-9]", id)),
            *dict.fromkeys(v.remote_key for v in values),
        )
        return ExternalSecret(
            scope,
            id,
            ExternalSecretProps(
                name=name or id,
                namespace=self._props.namespace,
                store_name=self.name,
                store_kind="SecretStore",
                values=values,
                template=template,
                secret_type=secret_type,
                depends_on=[self.store],
                provider=self._props.provider,
            ),
        )
