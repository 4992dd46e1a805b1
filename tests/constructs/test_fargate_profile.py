"""FargateProfile: pod execution role confined to the cluster's profiles, private subnets."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.fargate_profile import FargateProfile, FargateProfileProps
from tests.tf import new_app, one, policy_json, synth_stack


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


LOG_GROUP = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/eks/iworkz-test/fargate"


def _props(**overrides) -> FargateProfileProps:
    values = {
        "cluster_name": "iworkz-test",
        "name": "default",
        "namespaces": ("fargate-workloads",),
        "subnet_ids": ("subnet-a", "subnet-b"),
        "account_id": "123456789012",
        "region": "ap-northeast-1",
        "log_group_arn": LOG_GROUP,
    }
    return FargateProfileProps(**{**values, **overrides})


def test_defaults():
    stack = _stack()
    FargateProfile(stack, "fargate", _props())
    doc = synth_stack(stack)
    profile = one(doc, "aws_eks_fargate_profile")
    assert profile["fargate_profile_name"] == "default" and profile["cluster_name"] == "iworkz-test"
    assert profile["selector"] == [{"namespace": "fargate-workloads"}]
    assert profile["subnet_ids"] == ["subnet-a", "subnet-b"]
    assert profile["timeouts"] == {"create": "20m", "delete": "20m"}
    assert profile["pod_execution_role_arn"].startswith("${aws_iam_role.")
    role = one(doc, "aws_iam_role")
    trust = policy_json(doc, role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    assert trust["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:eks:ap-northeast-1:123456789012:fargateprofile/iworkz-test/*"}
    }
    attachment = one(doc, "aws_iam_role_policy_attachment")
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"


def test_all_options():
    stack = _stack()
    FargateProfile(
        stack,
        "fargate",
        _props(namespaces=("batch", "jobs"), labels={"compute": "fargate"}, tags={"Owner": "fargate"}),
    )
    doc = synth_stack(stack)
    profile = one(doc, "aws_eks_fargate_profile")
    assert profile["selector"] == [
        {"namespace": "batch", "labels": {"compute": "fargate"}},
        {"namespace": "jobs", "labels": {"compute": "fargate"}},
    ]
    assert profile["tags"] == {"Owner": "fargate"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespaces": ()}, "1-5 namespaces"),
        ({"namespaces": ("a", "b", "c", "d", "e", "f")}, "1-5 namespaces"),
        ({"namespaces": ("fargate-*",)}, "not a namespace"),
        ({"name": "Default"}, "lowercase"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)
