"""ExternalSecret: a Secret synced from Secrets Manager by the External Secrets Operator."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

from iworkz_constructs.external_secret import REMOTE_REF_DEFAULTS, ExternalSecret, ExternalSecretProps, RemoteValue
from tests.tf import new_app, one, synth_stack

ARN = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:app/db-AbCdEf"


def _synth(**overrides):
    stack = TerraformStack(new_app(), "test")
    KubernetesProvider(stack, "kubernetes")
    props = {
        "name": "db-secret",
        "namespace": "apps",
        "store_name": "aws-secrets-manager",
        "values": (RemoteValue("password", ARN, "password"),),
        **overrides,
    }
    secret = ExternalSecret(stack, "db-secret", ExternalSecretProps(**props))
    return secret, one(synth_stack(stack), "kubernetes_manifest")["manifest"]


def test_all_defaults():
    secret, manifest = _synth()
    assert manifest["apiVersion"] == "external-secrets.io/v1"
    assert manifest["kind"] == "ExternalSecret"
    assert manifest["metadata"] == {"name": "db-secret", "namespace": "apps"}
    spec = manifest["spec"]
    assert spec["refreshInterval"] == "1h"
    # A namespace's own store by default; the CRD's defaults written out (no drift after apply).
    assert spec["secretStoreRef"] == {"name": "aws-secrets-manager", "kind": "SecretStore"}
    assert spec["target"] == {
        "name": "db-secret",
        "creationPolicy": "Owner",
        "deletionPolicy": "Retain",
        "template": {"engineVersion": "v2", "mergePolicy": "Replace", "type": "Opaque"},
    }
    assert spec["data"] == [
        {"secretKey": "password", "remoteRef": {"key": ARN, "property": "password", **REMOTE_REF_DEFAULTS}}
    ]
    assert secret.secret_keys == ("password",)


def test_all_options():
    secret, manifest = _synth(
        values=(RemoteValue("user", ARN, "username"), RemoteValue("token", ARN)),
        template={"url": "https://{{ .user }}:{{ .token }}@example.com"},
        secret_type="kubernetes.io/basic-auth",
        store_kind="ClusterSecretStore",
        refresh_interval="15m",
        deletion_policy="Delete",
        labels={"app": "api"},
    )
    spec = manifest["spec"]
    assert manifest["metadata"]["labels"] == {"app": "api"}
    assert spec["secretStoreRef"]["kind"] == "ClusterSecretStore"
    assert spec["refreshInterval"] == "15m"
    assert spec["target"]["deletionPolicy"] == "Delete"
    assert spec["target"]["template"] == {
        "engineVersion": "v2",
        "mergePolicy": "Replace",
        "type": "kubernetes.io/basic-auth",
        "metadata": {"labels": {"app": "api"}},
        "data": {"url": "https://{{ .user }}:{{ .token }}@example.com"},
    }
    assert spec["data"][1] == {"secretKey": "token", "remoteRef": {"key": ARN, **REMOTE_REF_DEFAULTS}}
    assert secret.secret_keys == ("url",)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"values": ()}, "at least one value"),
        ({"name": "DB"}, "not a Kubernetes name"),
        ({"values": (RemoteValue("a", ARN), RemoteValue("a", ARN))}, "repeat"),
        ({"store_kind": "Vault"}, "ClusterSecretStore or SecretStore"),
        ({"deletion_policy": "Forget"}, "Retain, Delete or Merge"),
        ({"refresh_interval": "hourly"}, "duration"),
        ({"template": {}}, "empty template"),
        ({"template": {"url": "{{ .other }}"}}, "not used by the template"),
    ],
)
def test_fails_on_invalid_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _synth(**overrides)


def test_fails_on_invalid_remote_value():
    with pytest.raises(ValueError, match="not a valid Secret key"):
        RemoteValue("bad key", ARN)
    with pytest.raises(ValueError, match="remote_key"):
        RemoteValue("key", "")
