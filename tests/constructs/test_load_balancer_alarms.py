"""LoadBalancerAlarmSet: the ALB's alarms from its arn suffixes, or found by its tags."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.load_balancer_alarms import LoadBalancerAlarmSet, LoadBalancerAlarmSetProps
from tests.constructs.alerting import ACTIONS
from tests.tf import data_sources, new_app, resources, synth_stack


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def test_alarms_of_a_known_alb_and_each_target_group() -> None:
    stack = _stack()
    LoadBalancerAlarmSet(
        stack,
        "gateway",
        LoadBalancerAlarmSetProps(
            name="iworkz-test-gateway",
            load_balancer_arn_suffix="app/k8s-gateway/50dc6c495c0c9188",
            target_groups={"api": "targetgroup/api/73e2d6bc24d8a067", "app": "targetgroup/app/1aa2b3c4d5e6f7a8"},
            alarm_actions=ACTIONS,
        ),
    )
    alarms = {a["alarm_name"]: a for a in resources(synth_stack(stack), "aws_cloudwatch_metric_alarm").values()}
    assert sorted(alarms) == sorted(
        f"iworkz-test-gateway-{suffix}"
        for suffix in ("elb-5xx", "target-5xx", "target-response-time", "api-unhealthy-hosts", "app-unhealthy-hosts")
    )
    latency = alarms["iworkz-test-gateway-target-response-time"]
    assert latency["extended_statistic"] == "p95" and latency["threshold"] == 0.5
    unhealthy = alarms["iworkz-test-gateway-api-unhealthy-hosts"]
    assert unhealthy["dimensions"] == {
        "LoadBalancer": "app/k8s-gateway/50dc6c495c0c9188",
        "TargetGroup": "targetgroup/api/73e2d6bc24d8a067",
    }
    assert alarms["iworkz-test-gateway-elb-5xx"]["tags"] == {"Team": "backend", "Severity": "critical"}


def test_an_alb_another_controller_created_is_found_by_its_tags() -> None:
    stack = _stack()
    LoadBalancerAlarmSet.tagged(
        stack,
        "gateway",
        name="iworkz-test-gateway",
        tags={"gateway.k8s.aws/name": "iworkz"},
        target_group_tags={"api": {"iworkz.io/route": "api"}},
        alarm_actions=ACTIONS,
    )
    doc = synth_stack(stack)
    ((balancer_id, balancer),) = data_sources(doc, "aws_lb").items()
    assert balancer["tags"] == {"gateway.k8s.aws/name": "iworkz"}
    for alarm in resources(doc, "aws_cloudwatch_metric_alarm").values():
        assert alarm["dimensions"]["LoadBalancer"] == f"${{data.aws_lb.{balancer_id}.arn_suffix}}"


def test_fails_without_target_groups_or_tags() -> None:
    with pytest.raises(ValueError, match="target groups"):
        LoadBalancerAlarmSetProps("x", "app/x/1", {}, ACTIONS)
    with pytest.raises(ValueError, match="tags"):
        LoadBalancerAlarmSet.tagged(
            _stack(), "x", name="x", tags={}, target_group_tags={"api": {"a": "b"}}, alarm_actions=ACTIONS
        )
    with pytest.raises(ValueError, match="either its tags or its arn_suffix"):
        LoadBalancerAlarmSet.tagged(
            _stack(), "x", name="x", target_group_tags={"api": {"a": "b"}}, alarm_actions=ACTIONS
        )
    with pytest.raises(ValueError, match="either its tags or its arn_suffix"):
        LoadBalancerAlarmSet.tagged(
            _stack(),
            "x",
            name="x",
            tags={"a": "b"},
            load_balancer_arn_suffix="app/x/1",
            target_group_tags={"api": {"a": "b"}},
            alarm_actions=ACTIONS,
        )
