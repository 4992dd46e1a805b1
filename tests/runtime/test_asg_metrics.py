"""runtime/lambdas/asg_metrics: turns on the group metrics the node groups' capacity alarms read."""

from __future__ import annotations

import asg_metrics
import botocore.session
import pytest
from botocore.stub import Stubber

from iworkz_constructs.group_metrics import GROUP_METRICS

GROUP = "eks-general-12345678-abcd-ef01-2345-6789abcdef01"


def test_enables_the_metrics_the_alarms_read_at_one_minute_granularity() -> None:
    client = botocore.session.get_session().create_client("autoscaling", region_name="ap-northeast-1")
    with Stubber(client) as stub:
        stub.add_response(
            "enable_metrics_collection",
            {},
            {"AutoScalingGroupName": GROUP, "Metrics": list(GROUP_METRICS), "Granularity": "1Minute"},
        )
        result = asg_metrics.enable(client, GROUP, list(GROUP_METRICS))
        stub.assert_no_pending_responses()
    assert result == {"AutoScalingGroupName": GROUP, "Metrics": list(GROUP_METRICS), "Granularity": "1Minute"}
    # The capacity alarm compares these two.
    assert {"GroupDesiredCapacity", "GroupInServiceInstances"} <= set(GROUP_METRICS)


@pytest.mark.parametrize(
    "event",
    [{}, {"AutoScalingGroupName": GROUP}, {"AutoScalingGroupName": "", "Metrics": ["GroupDesiredCapacity"]}],
)
def test_refuses_an_incomplete_event(event) -> None:
    with pytest.raises(ValueError, match="AutoScalingGroupName"):
        asg_metrics.handler(event, None)
