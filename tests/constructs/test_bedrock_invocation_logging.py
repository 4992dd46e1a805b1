"""BedrockInvocationLogging: S3 and CloudWatch delivery, encrypted, written only by this account's Bedrock."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.bedrock_invocation_logging import BedrockInvocationLogging, BedrockInvocationLoggingProps
from tests.tf import new_app, one, policy_json, resources, synth_stack

ACCOUNT = "123456789012"
KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/k"
SOURCE = {
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
    "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:ap-northeast-1:{ACCOUNT}:*"},
}


def test_prompts_and_responses_go_to_s3_and_cloudwatch_encrypted():
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    logging = BedrockInvocationLogging(
        stack,
        "logging",
        BedrockInvocationLoggingProps(
            name="test",
            region="ap-northeast-1",
            account_id=ACCOUNT,
            bucket_name="test-bedrock-invocation-logs",
            kms_key_arn=KEY,
            access_log_bucket="test-access-logs",
            retention_days=90,
        ),
    )
    doc = synth_stack(stack)
    (config,) = one(doc, "aws_bedrock_model_invocation_logging_configuration")["logging_config"]
    assert config["text_data_delivery_enabled"] is True
    (bucket_id,) = resources(doc, "aws_s3_bucket")
    (s3,) = config["s3_config"]
    assert s3 == {"bucket_name": f"${{aws_s3_bucket.{bucket_id}.bucket}}", "key_prefix": "invocations"}
    (cloudwatch,) = config["cloudwatch_config"]
    assert cloudwatch["log_group_name"] == "/aws/bedrock/test/model-invocations"
    assert cloudwatch["large_data_delivery_s3_config"][0]["key_prefix"] == "large-payloads"
    group = one(doc, "aws_cloudwatch_log_group")
    assert (group["kms_key_id"], group["retention_in_days"], group["lifecycle"]) == (KEY, 90, {"prevent_destroy": True})
    encryption = one(doc, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"]["kms_master_key_id"] == KEY
    assert one(doc, "aws_s3_bucket_lifecycle_configuration")["rule"][0]["expiration"] == [{"days": 90}]
    bucket_policy = policy_json(doc, one(doc, "aws_s3_bucket_policy")["policy"])["Statement"]
    (delivery,) = [s for s in bucket_policy if s.get("Sid") == "BedrockDeliversInvocationLogs"]
    assert delivery["Principal"] == {"Service": "bedrock.amazonaws.com"} and delivery["Condition"] == SOURCE
    (trust,) = policy_json(doc, one(doc, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"} and trust["Condition"] == SOURCE
    (write,) = policy_json(doc, one(doc, "aws_iam_role_policy")["policy"])["Statement"]
    (group_id,) = resources(doc, "aws_cloudwatch_log_group")
    assert write["Resource"] == f"${{aws_cloudwatch_log_group.{group_id}.arn}}:log-stream:*"
    assert logging.log_group.name == "/aws/bedrock/test/model-invocations"
