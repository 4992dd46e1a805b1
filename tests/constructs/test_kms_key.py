"""KmsKey: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from tests.tf import new_app, one, policy_json, synth_stack


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def test_defaults_rotate_and_protect_the_key():
    stack = _stack()
    KmsKey(stack, "key", KmsKeyProps(alias="iworkz-test", description="test", account_id="123456789012"))
    doc = synth_stack(stack)
    key = one(doc, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert key["lifecycle"]["prevent_destroy"] is True
    policy = policy_json(doc, key["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["AccountAdministers"]
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert one(doc, "aws_kms_alias")["name"] == "alias/iworkz-test"


def test_all_options():
    stack = _stack()
    backup = AwsProvider(stack, "aws_backup", alias="backup", region="ap-northeast-3")
    KmsKey(
        stack,
        "key",
        KmsKeyProps(
            alias="iworkz-logs",
            description="logs",
            account_id="123456789012",
            service_principals=("logs.ap-northeast-3.amazonaws.com", "delivery.logs.amazonaws.com"),
            extra_statements=({"Sid": "Extra", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"},),
            deletion_window_in_days=7,
            prevent_destroy=False,
            provider=backup,
        ),
    )
    doc = synth_stack(stack)
    key = one(doc, "aws_kms_key")
    assert key["provider"] == "aws.backup" and key["deletion_window_in_days"] == 7
    assert "lifecycle" not in key or key["lifecycle"].get("prevent_destroy") is False
    statements = {s["Sid"]: s for s in policy_json(doc, key["policy"])["Statement"]}
    assert statements["ServiceUsesLogs"]["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:ap-northeast-3:123456789012:*"}
    }
    assert statements["ServiceUsesDelivery"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert "Extra" in statements


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"deletion_window_in_days": 3}, "7-30"), ({"alias": "alias/x"}, "without the 'alias/' prefix")],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        KmsKeyProps(**{"alias": "x", "description": "d", "account_id": "1", **overrides})
