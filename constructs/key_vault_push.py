"""Kubernetes Secrets pushed into an Azure Key Vault by External Secrets (``PushSecret``).

The DR site's workloads read their secrets from the Key Vault; the values originate in Secrets
Manager. In the primary cluster, an ExternalSecret syncs each value into a Kubernetes Secret and
a ``PushSecret`` writes it into the vault through a ``SecretStore`` that signs in as an Entra
workload identity (``authType: WorkloadIdentity``: External Secrets requests a token for the
store's service account with the ``api://AzureADTokenExchange`` audience). No value passes
through Terraform; a rotated value reaches the vault within ``refresh_interval``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

from iworkz_constructs.external_secret import API_VERSION, ExternalSecret

PUSH_SECRET_API = "external-secrets.io/v1alpha1"
_VAULT_SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


@dataclass(frozen=True)
class PushedSecret:
    """One Key Vault secret fed from a key of a synced Kubernetes Secret.

    | name | meaning |
    |---|---|
    | vault_name | the secret's name in the Key Vault (letters, digits, ``-``) |
    | source | the ExternalSecret whose Kubernetes Secret holds the value |
    | key | the key of that Secret |
    """

    vault_name: str
    source: ExternalSecret
    key: str

    def __post_init__(self) -> None:
        if not _VAULT_SECRET_NAME.match(self.vault_name):
            raise ValueError(f"Key Vault secret name {self.vault_name!r}: 1-127 letters, digits and '-'")
        if self.key not in self.source.secret_keys:
            raise ValueError(f"{self.vault_name}: {self.source.secret_name} has no key {self.key!r}")


@dataclass(frozen=True)
class KeyVaultPushProps:
    """Properties of :class:`KeyVaultPush`.

    | name | meaning | default |
    |---|---|---|
    | namespace | namespace of the store, its service account and the PushSecrets | required |
    | vault_uri | the Key Vault's URI | required |
    | service_account_annotations | the Entra workload identity (client and tenant ID) | required |
    | secrets | :class:`PushedSecret` entries | required |
    | name | name of the SecretStore and its service account | ``azure-key-vault`` |
    | refresh_interval | how often the values are pushed again | ``1h`` |
    | depends_on / provider | the identity's grant on the vault / kubernetes provider | none / default |
    """

    namespace: str
    vault_uri: str
    service_account_annotations: Mapping[str, str]
    secrets: Sequence[PushedSecret]
    name: str = "azure-key-vault"
    refresh_interval: str = "1h"
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not self.secrets:
            raise ValueError("give at least one secret to push")
        names = [s.vault_name for s in self.secrets]
        if len(set(names)) != len(names):
            raise ValueError(f"Key Vault secret names repeat: {names}")


class KeyVaultPush(Construct):
    """Store and PushSecrets. Attributes: ``store``, ``pushes`` (vault name -> manifest), ``vault_names``."""

    def __init__(self, scope: Construct, id: str, props: KeyVaultPushProps) -> None:
        super().__init__(scope, id)
        service_account = ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=props.name, namespace=props.namespace, annotations=dict(props.service_account_annotations)
            ),
            automount_service_account_token=False,
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
                        "azurekv": {
                            "authType": "WorkloadIdentity",
                            "vaultUrl": props.vault_uri,
                            "serviceAccountRef": {"name": props.name},
                        }
                    }
                },
            },
            depends_on=[service_account, *props.depends_on],
            provider=props.provider,
        )
        self.vault_names = tuple(s.vault_name for s in props.secrets)
        self.pushes = {
            secret.vault_name: Manifest(
                self,
                secret.vault_name,
                manifest={
                    "apiVersion": PUSH_SECRET_API,
                    "kind": "PushSecret",
                    "metadata": {"name": f"push-{secret.vault_name}", "namespace": props.namespace},
                    "spec": {
                        "refreshInterval": props.refresh_interval,
                        "updatePolicy": "Replace",
                        # The vault keeps its copy when the PushSecret goes (the DR site may need it).
                        "deletionPolicy": "None",
                        "secretStoreRefs": [{"name": props.name, "kind": "SecretStore"}],
                        "selector": {"secret": {"name": secret.source.secret_name}},
                        "data": [{"match": {"secretKey": secret.key, "remoteRef": {"remoteKey": secret.vault_name}}}],
                    },
                },
                depends_on=[self.store, secret.source.manifest],
                provider=props.provider,
            )
            for secret in props.secrets
        }
