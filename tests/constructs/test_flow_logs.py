"""FlowLogs: all defaults, all options, bad props."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.flow_logs import FlowLogs, FlowLogsProps
from tests.tf import new_app, one, policy_json, resources, synth_stack

BASE: dict[str, Any] = {"name": "test", "vpc_id": "vpc-0123", "account_id": "123456789012", "region": "ap-northeast-1"}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def test_defaults_log_all_traffic_encrypted_for_a_year():
    stack = _stack()
    logs = FlowLogs(stack, "flow-logs", FlowLogsProps(**BASE))
    doc = synth_stack(stack)
    flow_log = one(doc, "aws_flow_log")
    assert flow_log["vpc_id"] == "vpc-0123"
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert flow_log["max_aggregation_interval"] == 60
    group = one(doc, "aws_cloudwatch_log_group")
    assert group["name"] == "/aws/vpc-flow-logs/test"
    assert group["retention_in_days"] == 365
    assert group["lifecycle"]["prevent_destroy"] is True
    (key_id,) = resources(doc, "aws_kms_key")
    assert key_id in group["kms_key_id"]
    key_policy = policy_json(doc, one(doc, "aws_kms_key")["policy"])
    (logs_statement,) = [
        s for s in key_policy["Statement"] if s["Principal"] == {"Service": "logs.ap-northeast-1.amazonaws.com"}
    ]
    assert logs_statement["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:ap-northeast-1:123456789012:*"
    }
    (trust,) = policy_json(doc, one(doc, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:ec2:ap-northeast-1:123456789012:vpc-flow-log/*"}
    statements = policy_json(doc, one(doc, "aws_iam_role_policy")["policy"])["Statement"]
    write = next(s for s in statements if s["Sid"] == "WriteFlowLogStreams")
    (group_id,) = resources(doc, "aws_cloudwatch_log_group")
    assert all(group_id in r for r in write["Resource"])
    assert logs.key is not None and logs.kms_key_arn == logs.key.arn


def test_all_options():
    stack = _stack()
    logs = FlowLogs(
        stack,
        "flow-logs",
        FlowLogsProps(
            **BASE,
            retention_days=3653,
            traffic_type="REJECT",
            max_aggregation_interval=600,
            kms_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/abcd",
            prevent_destroy=False,
        ),
    )
    doc = synth_stack(stack)
    assert not resources(doc, "aws_kms_key") and logs.key is None
    group = one(doc, "aws_cloudwatch_log_group")
    assert group["kms_key_id"] == "arn:aws:kms:ap-northeast-1:123456789012:key/abcd"
    assert group["retention_in_days"] == 3653
    assert group.get("lifecycle", {}).get("prevent_destroy") in (None, False)
    flow_log = one(doc, "aws_flow_log")
    assert (flow_log["traffic_type"], flow_log["max_aggregation_interval"]) == ("REJECT", 600)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"retention_days": 180}, "retention_days must be one of", id="shorter-than-a-year"),
        pytest.param({"retention_days": 366}, "retention_days must be one of", id="not-a-cloudwatch-period"),
        pytest.param({"traffic_type": "SOME"}, "traffic_type must be one of", id="traffic-type"),
        pytest.param({"max_aggregation_interval": 120}, "max_aggregation_interval must be one of", id="interval"),
        pytest.param({"name": ""}, "name must not be empty", id="empty-name"),
    ],
)
def test_fails_on_bad_props(change, message):
    with pytest.raises(ValueError, match=message):
        FlowLogsProps(**{**BASE, **change})
