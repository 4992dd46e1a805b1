"""Turns on group metrics collection of an EKS managed node group's Auto Scaling group.

EKS creates the group and does not enable its metrics; Terraform does not own the group, so
it invokes this function (``aws_lambda_invocation``) with the group's name whenever the group
changes. Without the metrics, the node group's capacity alarm (in service vs desired) sees no data.

Event: ``{"AutoScalingGroupName": "eks-general-...", "Metrics": ["GroupDesiredCapacity", ...]}``.
Runs on AWS Lambda's Python runtime, which brings botocore.
"""

from __future__ import annotations

from typing import Any

import botocore.session

GRANULARITY = "1Minute"  # the only granularity Auto Scaling offers


def enable(client: Any, group: str, metrics: list[str]) -> dict[str, Any]:
    """Enables the metrics on the group (idempotent: enabling enabled metrics changes nothing)."""
    client.enable_metrics_collection(AutoScalingGroupName=group, Metrics=metrics, Granularity=GRANULARITY)
    return {"AutoScalingGroupName": group, "Metrics": metrics, "Granularity": GRANULARITY}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    group = event.get("AutoScalingGroupName")
    metrics = event.get("Metrics")
    if not isinstance(group, str) or not group or not isinstance(metrics, list) or not metrics:
        raise ValueError("the event needs AutoScalingGroupName (a string) and Metrics (a non-empty list)")
    client = botocore.session.get_session().create_client("autoscaling")
    return enable(client, group, [str(metric) for metric in metrics])
