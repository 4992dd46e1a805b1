"""SageMakerEndpoint: the model -> configuration -> endpoint chain, its role and network, bad props."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.sagemaker_endpoint import SageMakerEndpoint, SageMakerEndpointProps, endpoint_log_group_name
from tests.tf import new_app, one, policy_json, resources, synth_stack

ACCOUNT = "123456789012"
BASE: dict[str, Any] = {
    "name": "test-ai-matching",
    "region": "ap-northeast-1",
    "account_id": ACCOUNT,
    "vpc_id": "vpc-0123",
    "vpc_cidr": "10.20.0.0/16",
    "subnet_ids": ("subnet-1", "subnet-2"),
    "image": "{account_id}.dkr.ecr.ap-northeast-1.amazonaws.com/iworkz/ai-matching:1.0.0",
    "model_artifact": "s3://test-ai-artifacts/matching/1.0.0/model.tar.gz",
    "artifact_bucket": "test-ai-artifacts",
    "capture_bucket": "test-ai-data-capture",
    "kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/k",
    "log_group_arn": "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/sagemaker/Endpoints/test-ai-matching",
}


def _synth(**overrides: Any) -> tuple[dict[str, Any], SageMakerEndpoint]:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    endpoint = SageMakerEndpoint(stack, "endpoint", SageMakerEndpointProps(**{**BASE, **overrides}))
    return synth_stack(stack), endpoint


def test_the_chain_model_configuration_endpoint():
    doc, endpoint = _synth()
    (model_id,) = resources(doc, "aws_sagemaker_model")
    model = one(doc, "aws_sagemaker_model")
    assert model["enable_network_isolation"] is True
    assert model["primary_container"] == {
        "image": f"{ACCOUNT}.dkr.ecr.ap-northeast-1.amazonaws.com/iworkz/ai-matching:1.0.0",
        "model_data_url": "s3://test-ai-artifacts/matching/1.0.0/model.tar.gz",
        "mode": "SingleModel",
    }
    (group_id,) = resources(doc, "aws_security_group")
    assert model["vpc_config"] == {
        "subnets": ["subnet-1", "subnet-2"],
        "security_group_ids": [f"${{aws_security_group.{group_id}.id}}"],
    }
    configuration = one(doc, "aws_sagemaker_endpoint_configuration")
    (variant,) = configuration["production_variants"]
    assert variant["model_name"] == f"${{aws_sagemaker_model.{model_id}.name}}"
    assert (variant["instance_type"], variant["initial_instance_count"]) == ("ml.c6i.large", 2)
    assert configuration["kms_key_arn"] == BASE["kms_key_arn"]
    capture = configuration["data_capture_config"]
    assert capture["enable_capture"] is True and capture["initial_sampling_percentage"] == 20
    assert capture["destination_s3_uri"] == "s3://test-ai-data-capture/test-ai-matching"
    assert capture["kms_key_id"] == BASE["kms_key_arn"]
    assert [o["capture_mode"] for o in capture["capture_options"]] == ["Input", "Output"]
    (configuration_id,) = resources(doc, "aws_sagemaker_endpoint_configuration")
    resource = one(doc, "aws_sagemaker_endpoint")
    assert resource["name"] == "test-ai-matching"
    assert resource["endpoint_config_name"] == f"${{aws_sagemaker_endpoint_configuration.{configuration_id}.name}}"
    # Replacements are created before the old ones go: the endpoint moves in place.
    assert model["lifecycle"]["create_before_destroy"] is True
    assert configuration["lifecycle"]["create_before_destroy"] is True
    assert "name" not in model and configuration["name_prefix"] == "test-ai-matching-"
    assert endpoint.name.startswith("${") and endpoint.arn.startswith("${")


def test_autoscaling_tracks_invocations_per_instance():
    doc, _ = _synth(instance_count=1, max_instance_count=3, invocations_per_instance=120)
    (endpoint_id,) = resources(doc, "aws_sagemaker_endpoint")
    target = one(doc, "aws_appautoscaling_target")
    assert target["service_namespace"] == "sagemaker"
    assert target["resource_id"] == f"endpoint/${{aws_sagemaker_endpoint.{endpoint_id}.name}}/variant/primary"
    assert target["scalable_dimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["min_capacity"], target["max_capacity"]) == (1, 3)
    policy = one(doc, "aws_appautoscaling_policy")
    assert policy["policy_type"] == "TargetTrackingScaling"
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert tracking["target_value"] == 120
    assert tracking["predefined_metric_specification"] == {
        "predefined_metric_type": "SageMakerVariantInvocationsPerInstance"
    }
    assert tracking["scale_in_cooldown"] > tracking["scale_out_cooldown"]


def test_the_network_admits_nothing_and_reaches_only_the_vpc_and_s3():
    doc, _ = _synth()
    assert not resources(doc, "aws_vpc_security_group_ingress_rule")
    rules = {r["description"].split()[2]: r for r in resources(doc, "aws_vpc_security_group_egress_rule").values()}
    assert set(rules) == {"vpc", "s3"}
    assert rules["vpc"]["cidr_ipv4"] == "10.20.0.0/16"
    assert "aws_ec2_managed_prefix_list" in rules["s3"]["prefix_list_id"]
    assert all((r["from_port"], r["to_port"], r["ip_protocol"]) == (443, 443, "tcp") for r in rules.values())
    prefix_list = next(iter(doc["data"]["aws_ec2_managed_prefix_list"].values()))
    assert prefix_list["name"] == "com.amazonaws.ap-northeast-1.s3"


def test_the_execution_role_reads_and_writes_exactly_its_objects():
    doc, _ = _synth()
    (trust,) = policy_json(doc, one(doc, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    statements = {s["Sid"]: s for s in policy_json(doc, one(doc, "aws_iam_role_policy")["policy"])["Statement"]}
    assert statements["ReadModelArchive"]["Resource"] == "arn:aws:s3:::test-ai-artifacts/matching/1.0.0/model.tar.gz"
    assert statements["WriteDataCapture"]["Resource"] == "arn:aws:s3:::test-ai-data-capture/test-ai-matching/*"
    assert statements["PullImage"]["Resource"] == f"arn:aws:ecr:ap-northeast-1:{ACCOUNT}:repository/iworkz/ai-matching"
    assert statements["UseKey"]["Resource"] == BASE["kms_key_arn"]
    assert statements["WriteEndpointLogs"]["Resource"] == [
        BASE["log_group_arn"],
        f"{BASE['log_group_arn']}:log-stream:*",
    ]
    assert statements["AttachToVpc"]["Condition"] == {
        "ArnEquals": {"ec2:Vpc": f"arn:aws:ec2:ap-northeast-1:{ACCOUNT}:vpc/vpc-0123"}
    }
    assert sorted(sid for sid, s in statements.items() if s["Resource"] == "*") == ["DescribeVpc", "GetRegistryToken"]
    # The model waits for its role's permissions (CreateModel checks the image and archive).
    (policy_id,) = resources(doc, "aws_iam_role_policy")
    assert f"aws_iam_role_policy.{policy_id}" in one(doc, "aws_sagemaker_model")["depends_on"]


def test_log_group_name_is_sagemakers():
    assert endpoint_log_group_name("x") == "/aws/sagemaker/Endpoints/x"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"instance_type": "c6i.large"}, "ml.<family>.<size>"),
        ({"instance_type": "ml.z9.large"}, "not a SageMaker real-time inference family"),
        ({"instance_type": "ml.c6i.medium"}, "ml.c6i comes in"),
        ({"instance_type": "ml.g5.xlarge"}, "local NVMe instance storage"),
        ({"image": "registry.gitlab.com/iworkz/ai-matching:1.0.0"}, "Amazon ECR image"),
        ({"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"}, "registry is in us-east-1"),
        ({"image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/m:latest"}, "pinned"),
        ({"model_artifact": "s3://test-ai-artifacts/model.zip"}, "model archive"),
        ({"model_artifact": "s3://elsewhere/model.tar.gz"}, "outside the environment's artifact bucket"),
        ({"instance_count": 3, "max_instance_count": 2}, "instance_count <= max_instance_count"),
        ({"data_capture_percentage": 0}, "capture percentage"),
        ({"subnet_ids": ()}, "private subnets"),
        ({"name": "x" * 64}, "at most 63"),
    ],
)
def test_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        SageMakerEndpointProps(**{**BASE, **overrides})
