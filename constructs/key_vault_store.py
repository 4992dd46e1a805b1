"""The DR site's ``ClusterSecretStore`` on the Key Vault, and the ExternalSecrets read through it.

The store authenticates as the Entra workload identity of the service account the DR platform
stack creates for it (``Key Vault Secrets User`` on the vault): no key, no client secret. The
vault's secrets are fed from Secrets Manager by the PushSecrets of the dr-sync stack; the values
never pass through Terraform (the manifests only name the vault's secrets).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from constructs import Construct

from iworkz_constructs.external_secret import API_VERSION, ExternalSecret, ExternalSecretProps, RemoteValue


@dataclass(frozen=True)
class KeyVaultStoreProps:
    """Properties of :class:`KeyVaultStore`.

    | name | meaning | default |
    |---|---|---|
    | vault_uri | the Key Vault's URI | required |
    | reader | ``<namespace>/<service account>`` with the vault's workload identity | required |
    | name | name of the ClusterSecretStore | ``azure-key-vault`` |
    | depends_on / provider | what must exist first / kubernetes provider | none / the stack's default |
    """

    vault_uri: str
    reader: str
    name: str = "azure-key-vault"
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if self.reader.count("/") != 1 or not all(self.reader.split("/")):
            raise ValueError(f"key vault store: reader {self.reader!r} is not <namespace>/<service account>")


class KeyVaultStore(Construct):
    """The ClusterSecretStore. Attributes: ``store`` (the manifest), ``name``."""

    def __init__(self, scope: Construct, id: str, props: KeyVaultStoreProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self.name = props.name
        namespace, service_account = props.reader.split("/")
        self.store = Manifest(
            self,
            "store",
            manifest={
                "apiVersion": API_VERSION,
                "kind": "ClusterSecretStore",
                "metadata": {"name": props.name},
                "spec": {
                    "provider": {
                        "azurekv": {
                            "authType": "WorkloadIdentity",
                            "vaultUrl": props.vault_uri,
                            "serviceAccountRef": {"name": service_account, "namespace": namespace},
                        }
                    }
                },
            },
            depends_on=list(props.depends_on) or None,
            provider=props.provider,
        )

    def external_secret(
        self,
        scope: Construct,
        id: str,
        namespace: str,
        values: Sequence[RemoteValue],
        *,
        template: Mapping[str, str] | None = None,
        secret_type: str = "Opaque",
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> ExternalSecret:
        """ExternalSecret (and Secret) ``id`` in ``namespace`` from the vault's secrets (``remote_key``: their names)."""
        return ExternalSecret(
            scope,
            id,
            ExternalSecretProps(
                name=id,
                namespace=namespace,
                store_name=self.name,
                store_kind="ClusterSecretStore",
                values=values,
                template=template,
                secret_type=secret_type,
                depends_on=[self.store, *depends_on],
                provider=self._props.provider,
            ),
        )
