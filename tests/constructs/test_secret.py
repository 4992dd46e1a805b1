"""Secret: generated values never reach the output; documents are stored as given."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.secret import GeneratedValue, Secret, SecretProps
from tests.tf import new_app, one, synth_stack

KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/secrets"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def test_generated_value_is_ephemeral_and_write_only():
    stack = _stack()
    Secret(stack, "jwt", SecretProps(name="app/jwt", description="jwt", kms_key_arn=KEY, generated=GeneratedValue()))
    doc = synth_stack(stack)
    secret = one(doc, "aws_secretsmanager_secret")
    assert secret["kms_key_id"] == KEY and secret["recovery_window_in_days"] == 30
    assert secret["lifecycle"]["prevent_destroy"] is True
    version = one(doc, "aws_secretsmanager_secret_version")
    assert "secret_string" not in version
    assert version["secret_string_wo"] == "${ephemeral.aws_secretsmanager_random_password.jwt.random_password}"
    assert version["secret_string_wo_version"] == 1
    assert doc["ephemeral"]["aws_secretsmanager_random_password"]["jwt"] == {
        "password_length": 64,
        "exclude_punctuation": True,
        "require_each_included_type": True,
    }
    assert "random_password" not in doc.get("resource", {})


def test_all_options():
    stack = _stack()
    backup = AwsProvider(stack, "aws_backup", alias="backup", region="ap-northeast-3")
    Secret(
        stack,
        "conn",
        SecretProps(
            name="app/conn",
            description="connection",
            kms_key_arn=KEY,
            document='{"host": "db"}',
            recovery_window_in_days=7,
            prevent_destroy=False,
            provider=backup,
        ),
    )
    Secret(
        stack,
        "key",
        SecretProps(
            name="app/key",
            description="k",
            kms_key_arn=KEY,
            generated=GeneratedValue(length=128, exclude_punctuation=False, version=3),
        ),
    )
    doc = synth_stack(stack)
    versions = doc["resource"]["aws_secretsmanager_secret_version"]
    conn = next(v for v in versions.values() if "secret_string" in v)
    assert conn["secret_string"] == '{"host": "db"}' and conn["provider"] == "aws.backup"
    generated = next(v for v in versions.values() if "secret_string_wo" in v)
    assert generated["secret_string_wo_version"] == 3
    assert doc["ephemeral"]["aws_secretsmanager_random_password"]["key"]["password_length"] == 128


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "exactly one of generated or document"),
        ({"generated": GeneratedValue(), "document": "{}"}, "exactly one"),
        ({"document": "{}", "recovery_window_in_days": 3}, "7-30"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        SecretProps(name="n", description="d", kms_key_arn=KEY, **overrides)


@pytest.mark.parametrize(("kwargs", "message"), [({"length": 16}, "32-4096"), ({"version": 0}, "version")])
def test_fails_on_bad_generated_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneratedValue(**kwargs)
