"""Group metrics collection for the Auto Scaling groups of EKS managed node groups.

EKS does not enable group metrics on the groups it creates for managed node groups (EKS user
guide, "Enable Auto Scaling group metrics collection"), and Terraform cannot, because it does
not own them. A small function (runtime/lambdas/asg_metrics) does it; each node group invokes it
with its group's name (``aws_lambda_invocation``, again whenever the name changes), so that the
capacity alarm compares ``GroupInServiceInstances`` with ``GroupDesiredCapacity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import Fn
from cdktf_cdktf_provider_aws.lambda_invocation import LambdaInvocation
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.alarm_settings import FunctionAlarms
from iworkz_constructs.alarms import AlarmActions
from iworkz_constructs.python_function import PythonFunction, PythonFunctionProps

# What the node groups' alarms and dashboards read.
GROUP_METRICS = ("GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTotalInstances")
# The tag EKS puts on the Auto Scaling groups of a cluster's managed node groups.
CLUSTER_TAG = "eks:cluster-name"


@dataclass(frozen=True)
class GroupMetricsCollectionProps:
    """Properties of :class:`GroupMetricsCollection`.

    | name | meaning | default |
    |---|---|---|
    | cluster_name | the EKS cluster whose node groups' Auto Scaling groups it may change | required |
    | region / account_id | where those groups are | required |
    | kms_key_arn | key of the function's environment, logs and dead-letter queue | required |
    | alarm_actions | alert topics of the function's failed-events alarm | required |
    | alarms | settings of that alarm | :class:`FunctionAlarms` defaults |
    | provider | aws provider | the stack's default |
    """

    cluster_name: str
    region: str
    account_id: str
    kms_key_arn: str
    alarm_actions: AlarmActions
    alarms: FunctionAlarms = field(default_factory=FunctionAlarms)
    provider: AwsProvider | None = None


class GroupMetricsCollection(Construct):
    """The function; :meth:`enable` turns the metrics on for one group. Attribute: ``function``."""

    def __init__(self, scope: Construct, id: str, props: GroupMetricsCollectionProps) -> None:
        super().__init__(scope, id)
        self._provider = props.provider
        groups = f"arn:aws:autoscaling:{props.region}:{props.account_id}:autoScalingGroup:*:autoScalingGroupName/eks-*"
        self.function = PythonFunction(
            self,
            "function",
            PythonFunctionProps(
                function_name=f"{props.cluster_name}-asg-metrics",
                description=f"Enables group metrics on the Auto Scaling groups of {props.cluster_name}'s node groups",
                source="asg_metrics",
                handler="asg_metrics.handler",
                kms_key_arn=props.kms_key_arn,
                concurrency=1,
                alarm_actions=props.alarm_actions,
                alarms=props.alarms,
                statements=[
                    {
                        "Sid": "ClusterNodeGroupsOnly",
                        "Effect": "Allow",
                        "Action": "autoscaling:EnableMetricsCollection",
                        "Resource": groups,
                        "Condition": {"StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": props.cluster_name}},
                    }
                ],
                provider=props.provider,
            ),
        )

    def enable(self, scope: Construct, id: str, group_name: str) -> LambdaInvocation:
        """Invokes the function for ``group_name`` now and whenever the name changes."""
        return LambdaInvocation(
            scope,
            id,
            function_name=self.function.name,
            input=Fn.jsonencode({"AutoScalingGroupName": group_name, "Metrics": list(GROUP_METRICS)}),
            triggers={"group": group_name},
            provider=self._provider,
        )
