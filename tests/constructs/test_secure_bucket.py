"""SecureBucket: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps, Transition
from tests.tf import new_app, one, policy_json, synth_stack

KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/abc"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def test_defaults_are_private_encrypted_versioned_and_tls_only():
    stack = _stack()
    SecureBucket(stack, "docs", SecureBucketProps(bucket_name="docs", kms_key_arn=KEY, access_log_bucket="logs"))
    doc = synth_stack(stack)
    bucket = one(doc, "aws_s3_bucket")
    assert bucket["lifecycle"]["prevent_destroy"] is True and bucket["force_destroy"] is False
    assert one(doc, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    rule = one(doc, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
    assert rule["bucket_key_enabled"] is True
    block = one(doc, "aws_s3_bucket_public_access_block")
    assert all(
        block[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert one(doc, "aws_s3_bucket_ownership_controls")["rule"]["object_ownership"] == "BucketOwnerEnforced"
    assert one(doc, "aws_s3_bucket_logging")["target_bucket"] == "logs"
    statements = policy_json(doc, one(doc, "aws_s3_bucket_policy")["policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["DenyInsecureTransport"]
    lifecycle = one(doc, "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert lifecycle["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    assert "transition" not in lifecycle and "expiration" not in lifecycle


def test_all_options():
    stack = _stack()
    backup = AwsProvider(stack, "aws_backup", alias="backup", region="ap-northeast-3")
    bucket = SecureBucket(
        stack,
        "logs",
        SecureBucketProps(
            bucket_name="logs",
            sse_s3_reason="S3 access logs need SSE-S3 targets",
            access_log_opt_out="this is the access log bucket",
            transitions=(Transition(30, "STANDARD_IA"), Transition(365, "GLACIER"), Transition(730, "DEEP_ARCHIVE")),
            expiration_days=2555,
            noncurrent_version_expiration_days=400,
            extra_policy_statements=({"Sid": "Extra", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"},),
            prevent_destroy=False,
            provider=backup,
        ),
    )
    doc = synth_stack(stack)
    assert one(doc, "aws_s3_bucket")["provider"] == "aws.backup"
    rule = one(doc, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert "aws_s3_bucket_logging" not in doc["resource"]
    lifecycle = one(doc, "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert [t["storage_class"] for t in lifecycle["transition"]] == ["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"]
    assert lifecycle["expiration"] == [{"days": 2555}]
    assert lifecycle["noncurrent_version_expiration"] == [{"noncurrent_days": 400}]
    # on the bucket resource, the one the two findings are about
    rules = {entry.data["rule"] for entry in bucket.bucket.node.metadata if entry.type == "iworkz:suppress"}
    assert rules == {"ENCRYPTION_CMK", "ACCESS_LOGGING"}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"access_log_bucket": "logs"}, "give kms_key_arn, or sse_s3_reason"),
        ({"kms_key_arn": KEY, "sse_s3_reason": "both", "access_log_bucket": "l"}, "give kms_key_arn, or sse_s3_reason"),
        ({"kms_key_arn": KEY}, "give access_log_bucket, or access_log_opt_out"),
    ],
)
def test_fails_without_an_explicit_opt_out(props, message):
    with pytest.raises(ValueError, match=message):
        SecureBucketProps(bucket_name="b", **props)
