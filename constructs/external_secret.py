"""An External Secrets Operator ``ExternalSecret``: a Kubernetes Secret synced from Secrets Manager.

The secret values never pass through Terraform: the manifest only names the Secrets Manager
entries (by ARN) and the keys to copy; the operator reads them through the store, which
authenticates as the namespace's own service account (constructs/secret_store.py).

``kubernetes_manifest`` needs the ExternalSecret CRD at plan time: the stacks holding these
deploy after the platform stack, whose External Secrets release installs the CRDs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from constructs import Construct

API_VERSION = "external-secrets.io/v1"
# The CRD's defaults, written out: the API server adds them, and kubernetes_manifest reports any
# field it did not plan as a change (or an inconsistent result after apply).
REMOTE_REF_DEFAULTS = {"conversionStrategy": "Default", "decodingStrategy": "None", "metadataPolicy": "None"}
TEMPLATE_DEFAULTS = {"engineVersion": "v2", "mergePolicy": "Replace"}
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_INTERVAL = re.compile(r"^([0-9]+(\.[0-9]+)?(s|m|h))+$")


@dataclass(frozen=True)
class RemoteValue:
    """One value read from Secrets Manager.

    | name | meaning | default |
    |---|---|---|
    | secret_key | key of the value in the Kubernetes Secret (or template variable) | required |
    | remote_key | Secrets Manager secret ARN or name | required |
    | property | JSON field inside the secret; None: the whole secret string | none |
    """

    secret_key: str
    remote_key: str
    property: str | None = None

    def __post_init__(self) -> None:
        if not _KEY.match(self.secret_key):
            raise ValueError(f"secret_key {self.secret_key!r} is not a valid Secret key")
        if not self.remote_key:
            raise ValueError(f"{self.secret_key}: remote_key must name a Secrets Manager secret")

    def as_values(self) -> dict[str, Any]:
        remote: dict[str, Any] = {"key": self.remote_key, **REMOTE_REF_DEFAULTS}
        if self.property is not None:
            remote["property"] = self.property
        return {"secretKey": self.secret_key, "remoteRef": remote}


@dataclass(frozen=True)
class ExternalSecretProps:
    """Properties of :class:`ExternalSecret`.

    | name | meaning | default |
    |---|---|---|
    | name | name of the ExternalSecret and of the Secret it creates | required |
    | namespace | namespace of both | required |
    | store_name | the ``ClusterSecretStore`` (or ``SecretStore``) to read through | required |
    | values | :class:`RemoteValue` entries read from Secrets Manager | required |
    | template | target keys rendered from the values (ESO template v2, ``{{ .secret_key }}``); none: keys as read | none |
    | secret_type | type of the created Secret, e.g. ``kubernetes.io/dockerconfigjson`` | ``Opaque`` |
    | store_kind | ``SecretStore`` (the namespace's own, :mod:`secret_store`) or ``ClusterSecretStore`` | ``SecretStore`` |
    | refresh_interval | how often the operator re-reads the values (rotation) | ``1h`` |
    | deletion_policy | what happens to the Secret when the remote value disappears | ``Retain`` |
    | labels | labels on the ExternalSecret and the Secret | none |
    | depends_on | resources to create first (the operator release, the store) | none |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    namespace: str
    store_name: str
    values: Sequence[RemoteValue]
    template: Mapping[str, str] | None = None
    secret_type: str = "Opaque"
    store_kind: str = "SecretStore"
    refresh_interval: str = "1h"
    deletion_policy: str = "Retain"
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or len(self.name) > 253:
            raise ValueError(f"ExternalSecret name {self.name!r} is not a Kubernetes name")
        if not self.values:
            raise ValueError(f"ExternalSecret {self.name}: give at least one value")
        keys = [v.secret_key for v in self.values]
        if len(set(keys)) != len(keys):
            raise ValueError(f"ExternalSecret {self.name}: secret keys repeat: {keys}")
        if self.store_kind not in ("ClusterSecretStore", "SecretStore"):
            raise ValueError(f"store_kind must be ClusterSecretStore or SecretStore, got {self.store_kind!r}")
        if self.deletion_policy not in ("Retain", "Delete", "Merge"):
            raise ValueError(f"deletion_policy must be Retain, Delete or Merge, got {self.deletion_policy!r}")
        if not _INTERVAL.match(self.refresh_interval):
            raise ValueError(f"refresh_interval {self.refresh_interval!r} is not a duration like 1h or 15m")
        if self.template is not None:
            if not self.template:
                raise ValueError(f"ExternalSecret {self.name}: an empty template would create an empty Secret")
            bad = [k for k in self.template if not _KEY.match(k)]
            if bad:
                raise ValueError(f"ExternalSecret {self.name}: template keys {bad} are not valid Secret keys")
            unused = [k for k in keys if not any(f".{k} " in t or f".{k}}}" in t for t in self.template.values())]
            if unused:
                raise ValueError(f"ExternalSecret {self.name}: values {unused} are read but not used by the template")


class ExternalSecret(Construct):
    """One ``ExternalSecret`` (``kubernetes_manifest``); the operator creates and owns the Secret.

    Attributes: ``manifest`` (the resource), ``secret_name`` (the Kubernetes Secret),
    ``secret_keys`` (the keys the Secret will hold).
    """

    def __init__(self, scope: Construct, id: str, props: ExternalSecretProps) -> None:
        super().__init__(scope, id)
        self.secret_name = props.name
        self.secret_keys = (
            tuple(props.template) if props.template is not None else tuple(v.secret_key for v in props.values)
        )
        self.manifest = Manifest(
            self,
            "manifest",
            manifest=external_secret_manifest(props),
            depends_on=list(props.depends_on) or None,
            provider=props.provider,
        )


def external_secret_manifest(props: ExternalSecretProps) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": props.name, "namespace": props.namespace}
    if props.labels:
        metadata["labels"] = dict(props.labels)
    target: dict[str, Any] = {
        "name": props.name,
        "creationPolicy": "Owner",
        "deletionPolicy": props.deletion_policy,
    }
    template: dict[str, Any] = {**TEMPLATE_DEFAULTS, "type": props.secret_type}
    if props.labels:
        template["metadata"] = {"labels": dict(props.labels)}
    if props.template is not None:
        template["data"] = dict(props.template)
    target["template"] = template
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": metadata,
        "spec": {
            "refreshInterval": props.refresh_interval,
            "secretStoreRef": {"name": props.store_name, "kind": props.store_kind},
            "target": target,
            "data": [v.as_values() for v in props.values],
        },
    }


def docker_config_template(registry_hosts: Sequence[str]) -> dict[str, str]:
    """The ``.dockerconfigjson`` template of an image pull Secret from ``username`` and ``password`` values."""
    auths = ",".join(
        f'"{host}":{{"username":"{{{{ .username }}}}","password":"{{{{ .password }}}}",'
        f'"auth":"{{{{ printf "%s:%s" .username .password | b64enc }}}}"}}'
        for host in registry_hosts
    )
    return {".dockerconfigjson": f'{{"auths":{{{auths}}}}}'}
