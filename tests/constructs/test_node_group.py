"""NodeGroup: hardened launch template, scaling, taints, labels and autoscaler tags."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup

from iworkz_constructs.group_metrics import GROUP_METRICS, GroupMetricsCollection, GroupMetricsCollectionProps
from iworkz_constructs.node_group import NodeGroup, NodeGroupProps, NodeTaint
from tests.constructs.alerting import ACTIONS
from tests.tf import new_app, one, policy_json, resources, synth_stack

KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/abc"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _props(**overrides) -> NodeGroupProps:
    values = {
        "cluster_name": "iworkz-test",
        "name": "general",
        "node_role_arn": "arn:aws:iam::123456789012:role/node",
        "subnet_ids": ("subnet-a", "subnet-b"),
        "security_group_ids": ("sg-nodes",),
        "volume_kms_key_arn": KEY,
        "instance_types": ("m6i.large", "m6i.xlarge"),
        "min_size": 3,
        "max_size": 20,
        "desired_size": 6,
        "alarms_opt_out": "the launch template and group are under test; test_capacity_alarm tests the alarm",
    }
    return NodeGroupProps(**{**values, **overrides})


def test_defaults_harden_the_launch_template():
    stack = _stack()
    NodeGroup(stack, "general", _props())
    doc = synth_stack(stack)
    lt_id, template = next(iter(resources(doc, "aws_launch_template").items()))
    assert template["name"] == "iworkz-test-general"
    assert template["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
        "instance_metadata_tags": "disabled",
    }
    assert template["block_device_mappings"] == [
        {
            "device_name": "/dev/xvda",
            "ebs": {
                "volume_size": 100,
                "volume_type": "gp3",
                "encrypted": "true",
                "kms_key_id": KEY,
                "delete_on_termination": "true",
            },
        }
    ]
    assert template["vpc_security_group_ids"] == ["sg-nodes"]
    assert "image_id" not in template and "user_data" not in template  # EKS picks the AMI and writes nodeadm config
    assert sorted(t["resource_type"] for t in template["tag_specifications"]) == [
        "instance",
        "network-interface",
        "volume",
    ]
    assert all(t["tags"]["NodeGroup"] == "general" for t in template["tag_specifications"])

    group = one(doc, "aws_eks_node_group")
    assert group["cluster_name"] == "iworkz-test" and group["node_group_name"] == "general"
    assert group["launch_template"] == {
        "id": f"${{aws_launch_template.{lt_id}.id}}",
        "version": f"${{aws_launch_template.{lt_id}.latest_version}}",
    }
    assert group["scaling_config"] == {"min_size": 3, "max_size": 20, "desired_size": 6}
    assert group["lifecycle"]["ignore_changes"] == ["scaling_config[0].desired_size"]
    assert group["update_config"] == {"max_unavailable_percentage": 33}
    assert group["ami_type"] == "AL2023_x86_64_STANDARD" and group["capacity_type"] == "ON_DEMAND"
    assert group["subnet_ids"] == ["subnet-a", "subnet-b"]
    assert "taint" not in group and "labels" not in group
    assert group["tags"]["k8s.io/cluster-autoscaler/enabled"] == "true"
    assert group["tags"]["k8s.io/cluster-autoscaler/iworkz-test"] == "owned"
    assert "disk_size" not in group  # the launch template owns the disk
    assert resources(doc, "aws_autoscaling_group_tag") == {}


def test_all_options_convert_taints_and_tag_for_scale_from_zero():
    stack = _stack()
    cluster_stand_in = SecurityGroup(stack, "dependency", name="x")
    NodeGroup(
        stack,
        "gpu",
        _props(
            name="compute-optimized",
            instance_types=("g5.xlarge",),
            ami_type="AL2023_x86_64_NVIDIA",
            capacity_type="SPOT",
            min_size=0,
            max_size=10,
            desired_size=2,
            disk_size_gb=200,
            labels={"NodeGroup": "compute-optimized", "Workload": "ai-ml"},
            taints=(
                NodeTaint("compute-optimized", "true", "NoSchedule"),
                NodeTaint("nvidia.com/gpu", "true", "NoSchedule"),
                NodeTaint("spot", "yes", "PreferNoSchedule"),
                NodeTaint("drain", "now", "NoExecute"),
            ),
            max_unavailable_percentage=10,
            metadata_hop_limit=2,
            tags={"Team": "ai"},
            depends_on=(cluster_stand_in,),
        ),
    )
    doc = synth_stack(stack)
    template = one(doc, "aws_launch_template")
    assert template["metadata_options"]["http_put_response_hop_limit"] == 2
    assert template["block_device_mappings"][0]["ebs"]["volume_size"] == 200
    assert template["tags"]["Team"] == "ai"
    group = one(doc, "aws_eks_node_group")
    assert group["ami_type"] == "AL2023_x86_64_NVIDIA" and group["capacity_type"] == "SPOT"
    assert group["labels"] == {"NodeGroup": "compute-optimized", "Workload": "ai-ml"}
    assert group["taint"] == [
        {"key": "compute-optimized", "value": "true", "effect": "NO_SCHEDULE"},
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"},
        {"key": "spot", "value": "yes", "effect": "PREFER_NO_SCHEDULE"},
        {"key": "drain", "value": "now", "effect": "NO_EXECUTE"},
    ]
    assert group["update_config"] == {"max_unavailable_percentage": 10}
    assert group["depends_on"] == [f"aws_security_group.{next(iter(resources(doc, 'aws_security_group')))}"]
    template_tags = {
        "k8s.io/cluster-autoscaler/node-template/label/NodeGroup": "compute-optimized",
        "k8s.io/cluster-autoscaler/node-template/label/Workload": "ai-ml",
        "k8s.io/cluster-autoscaler/node-template/taint/compute-optimized": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/taint/spot": "yes:PreferNoSchedule",
        "k8s.io/cluster-autoscaler/node-template/taint/drain": "now:NoExecute",
    }
    assert {k: v for k, v in group["tags"].items() if "node-template" in k} == template_tags
    asg_tags = resources(doc, "aws_autoscaling_group_tag").values()
    assert {t["tag"]["key"]: t["tag"]["value"] for t in asg_tags} == template_tags
    assert all(t["tag"]["propagate_at_launch"] is False for t in asg_tags)
    assert all(t["autoscaling_group_name"].endswith(".resources[0].autoscaling_groups[0].name}") for t in asg_tags)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_size": 5, "max_size": 3, "desired_size": 4}, "min_size"),
        ({"desired_size": 30}, "outside"),
        ({"desired_size": 1}, "outside"),
        ({"instance_types": ()}, "instance type"),
        ({"name": "Compute_Optimized"}, "name must be"),
        ({"capacity_type": "RESERVED"}, "capacity_type"),
        ({"disk_size_gb": 8}, "disk_size_gb"),
        ({"metadata_hop_limit": 3}, "metadata_hop_limit"),
        ({"max_unavailable_percentage": 0}, "max_unavailable_percentage"),
        ({"labels": {"bad key!": "x"}}, "label key"),
        ({"taints": (NodeTaint("a", "1", "NoSchedule"), NodeTaint("a", "2", "NoSchedule"))}, "duplicate"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)


def test_fails_on_unknown_taint_effect():
    with pytest.raises(ValueError, match="effect 'NO_SCHEDULE' is not one of NoSchedule"):
        NodeTaint("compute-optimized", "true", "NO_SCHEDULE")


def test_fails_on_token_cluster_name():
    stack = _stack()
    token = SecurityGroup(stack, "sg", name="x").name
    with pytest.raises(ValueError, match="literal name"):
        _props(cluster_name=token)


def test_capacity_alarm_compares_in_service_with_desired_from_enabled_group_metrics():
    stack = _stack()
    metrics = GroupMetricsCollection(
        stack,
        "group-metrics",
        GroupMetricsCollectionProps("iworkz-test", "ap-northeast-1", "123456789012", KEY, ACTIONS),
    )
    NodeGroup(stack, "general", _props(alarms_opt_out=None, alarm_actions=ACTIONS, group_metrics=metrics))
    doc = synth_stack(stack)
    group_id = next(iter(resources(doc, "aws_eks_node_group")))
    asg = f"${{aws_eks_node_group.{group_id}.resources[0].autoscaling_groups[0].name}}"
    (invocation,) = resources(doc, "aws_lambda_invocation").values()
    assert invocation["triggers"] == {"group": asg} and asg.strip("${}") in invocation["input"]
    assert all(metric in invocation["input"] for metric in GROUP_METRICS)
    alarm = next(a for a in resources(doc, "aws_cloudwatch_metric_alarm").values() if "capacity" in a["alarm_name"])
    assert alarm["alarm_name"] == "iworkz-test-general-capacity-shortfall"
    inputs = {q["id"]: q["metric"] for q in alarm["metric_query"] if "metric" in q}
    assert {m["metric_name"] for m in inputs.values()} == {"GroupDesiredCapacity", "GroupInServiceInstances"}
    assert all(m["dimensions"] == {"AutoScalingGroupName": asg} for m in inputs.values())
    # The function may enable metrics on this cluster's EKS groups only.
    policy = next(p for p in resources(doc, "aws_iam_role_policy").values() if "asg-metrics" in p["name"])
    statements = {s["Sid"]: s for s in policy_json(doc, policy["policy"])["Statement"]}
    scoped = statements["ClusterNodeGroupsOnly"]
    assert scoped["Action"] == "autoscaling:EnableMetricsCollection"
    assert scoped["Condition"] == {"StringEquals": {"aws:ResourceTag/eks:cluster-name": "iworkz-test"}}


def test_alarms_need_the_group_metrics():
    with pytest.raises(ValueError, match="group_metrics"):
        _props(alarms_opt_out=None, alarm_actions=ACTIONS)
    with pytest.raises(ValueError, match="alarms_opt_out"):
        _props(alarms_opt_out=None)
