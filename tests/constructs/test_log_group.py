"""LogGroup: encrypted, retained, protected; bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.log_group import LogGroup, LogGroupProps
from tests.tf import new_app, one, synth_stack

KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/k"


def test_defaults_keep_a_year_encrypted_and_protected():
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    group = LogGroup(stack, "logs", LogGroupProps(name="/aws/test", kms_key_arn=KEY))
    resource = one(synth_stack(stack), "aws_cloudwatch_log_group")
    assert resource == {
        "name": "/aws/test",
        "kms_key_id": KEY,
        "retention_in_days": 365,
        "lifecycle": {"prevent_destroy": True},
    }
    assert group.name == "/aws/test" and group.arn.startswith("${")


def test_options():
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    LogGroup(stack, "logs", LogGroupProps(name="/aws/test", kms_key_arn=KEY, retention_days=30, prevent_destroy=False))
    resource = one(synth_stack(stack), "aws_cloudwatch_log_group")
    assert resource["retention_in_days"] == 30 and resource["lifecycle"] == {"prevent_destroy": False}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"retention_days": 42}, "retention_days must be one of"), ({"name": "no-slash"}, "path-like name")],
)
def test_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        LogGroupProps(**{"name": "/aws/test", "kms_key_arn": KEY, **overrides})
