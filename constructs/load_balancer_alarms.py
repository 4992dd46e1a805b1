"""Alarms of an Application Load Balancer: 5xx from the load balancer and from its targets, the
95th percentile response time, and unhealthy targets in each target group.

Terraform does not create the platform's ALB: the AWS Load Balancer Controller provisions it for
the Kubernetes Gateway (the edge stack's Gateway API objects). Two ways to alarm on it:

- :class:`LoadBalancerAlarmSet` with the ``arn_suffix`` of the load balancer and its target
  groups (``app/<name>/<id>``, ``targetgroup/<name>/<id>``), for an ALB a stack knows;
- :meth:`LoadBalancerAlarmSet.tagged`, which finds the target groups (and the ALB, unless the
  stack gives its ``arn_suffix``) by their tags (``data "aws_lb"``, ``data "aws_lb_target_group"``;
  the controller adds the tags of the Gateway's configurations). The lookups run at plan time,
  so the stack that uses it deploys after the Gateway exists (the edge stack does).

tests/test_alarms.py walks every ``aws_lb`` and ``data.aws_lb`` of the synthesised stacks and
fails for one without these alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_lb import DataAwsLb
from cdktf_cdktf_provider_aws.data_aws_lb_target_group import DataAwsLbTargetGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.alarm_settings import LoadBalancerAlarms, check_settings
from iworkz_constructs.alarms import AlarmActions, AlarmSpec, Metric, ResourceAlarms, ResourceAlarmsProps


@dataclass(frozen=True)
class LoadBalancerAlarmSetProps:
    """Properties of :class:`LoadBalancerAlarmSet`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix of the alarms, e.g. ``iworkz-production-gateway`` | required |
    | load_balancer_arn_suffix | the ALB's ``arn_suffix`` (``app/<name>/<id>``) | required |
    | target_groups | short name -> target group ``arn_suffix`` | required |
    | alarm_actions | alert topics | required |
    | alarms | thresholds | :class:`LoadBalancerAlarms` defaults |
    | provider | aws provider | the stack's default |
    """

    name: str
    load_balancer_arn_suffix: str
    target_groups: Mapping[str, str]
    alarm_actions: AlarmActions
    alarms: LoadBalancerAlarms = field(default_factory=LoadBalancerAlarms)
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not self.target_groups:
            raise ValueError(f"load balancer {self.name}: give its target groups (unhealthy targets alarm per group)")
        check_settings(self.alarms)


class LoadBalancerAlarmSet(Construct):
    """Attribute: ``alarms`` (:class:`ResourceAlarms`)."""

    def __init__(self, scope: Construct, id: str, props: LoadBalancerAlarmSetProps) -> None:
        super().__init__(scope, id)
        self.alarms = ResourceAlarms(
            self,
            "alarms",
            ResourceAlarmsProps(props.alarms.team, props.alarm_actions, load_balancer_alarms(props), props.provider),
        )

    @classmethod
    def tagged(
        cls,
        scope: Construct,
        id: str,
        *,
        name: str,
        target_group_tags: Mapping[str, Mapping[str, str]],
        alarm_actions: AlarmActions,
        tags: Mapping[str, str] | None = None,
        load_balancer_arn_suffix: str | None = None,
        alarms: LoadBalancerAlarms | None = None,
        provider: AwsProvider | None = None,
    ) -> LoadBalancerAlarmSet:
        """Alarms on the ALB and its target groups (by short name) that carry these tags.

        The ALB is found by ``tags``, or given by ``load_balancer_arn_suffix`` where the stack
        already reads it (by name, say); the target groups are always found by their tags.
        """
        if (tags is None) == (load_balancer_arn_suffix is None):
            raise ValueError(f"load balancer {name}: give either its tags or its arn_suffix")
        if tags == {} or not target_group_tags or not all(target_group_tags.values()):
            raise ValueError(f"load balancer {name}: give the tags that identify it and each target group")
        if load_balancer_arn_suffix is None:
            load_balancer_arn_suffix = DataAwsLb(
                scope, f"{id}-load-balancer", tags=dict(tags or {}), provider=provider
            ).arn_suffix
        groups = {
            short: DataAwsLbTargetGroup(scope, f"{id}-target-group-{short}", tags=dict(group_tags), provider=provider)
            for short, group_tags in target_group_tags.items()
        }
        return cls(
            scope,
            id,
            LoadBalancerAlarmSetProps(
                name=name,
                load_balancer_arn_suffix=load_balancer_arn_suffix,
                target_groups={short: group.arn_suffix for short, group in groups.items()},
                alarm_actions=alarm_actions,
                alarms=alarms or LoadBalancerAlarms(),
                provider=provider,
            ),
        )


def load_balancer_alarms(props: LoadBalancerAlarmSetProps) -> list[AlarmSpec]:
    """The load balancer's alarms and one unhealthy-targets alarm per target group."""
    settings, name = props.alarms, props.name
    balancer = {"LoadBalancer": props.load_balancer_arn_suffix}

    def alb(metric: str, statistic: str, dimensions: Mapping[str, str] = balancer) -> Metric:
        return Metric("AWS/ApplicationELB", metric, dimensions, statistic)

    elb, target, latency = settings.elb_5xx_count, settings.target_5xx_count, settings.target_response_time_seconds
    unhealthy = settings.unhealthy_hosts_count
    specs = [
        AlarmSpec(
            "elb-5xx",
            f"{name}-elb-5xx",
            f"ALB {name}: more than {elb.value:g} 5xx answers of the load balancer itself per {elb.period_seconds} s",
            elb,
            ">",
            elb.value,
            alb("HTTPCode_ELB_5XX_Count", "Sum"),
            treat_missing_data="notBreaching",
        ),
        AlarmSpec(
            "target-5xx",
            f"{name}-target-5xx",
            f"ALB {name}: more than {target.value:g} 5xx answers of its targets per {target.period_seconds} s",
            target,
            ">",
            target.value,
            alb("HTTPCode_Target_5XX_Count", "Sum"),
            treat_missing_data="notBreaching",
        ),
        AlarmSpec(
            "target-response-time",
            f"{name}-target-response-time",
            f"ALB {name}: 95th percentile response time above {latency.value:g} s",
            latency,
            ">",
            latency.value,
            alb("TargetResponseTime", "p95"),
            treat_missing_data="notBreaching",
            unit="s",
        ),
    ]
    for short, suffix in props.target_groups.items():
        specs.append(
            AlarmSpec(
                f"{short}-unhealthy-hosts",
                f"{name}-{short}-unhealthy-hosts",
                f"ALB {name}: more than {unhealthy.value:g} unhealthy targets in {short}",
                unhealthy,
                ">",
                unhealthy.value,
                alb("UnHealthyHostCount", "Maximum", {**balancer, "TargetGroup": suffix}),
            )
        )
    return specs
