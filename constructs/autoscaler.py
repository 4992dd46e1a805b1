"""A HorizontalPodAutoscaler on CPU and memory utilisation, with the platform design's behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.horizontal_pod_autoscaler_v2 import (
    HorizontalPodAutoscalerV2,
    HorizontalPodAutoscalerV2Metadata,
    HorizontalPodAutoscalerV2Spec,
    HorizontalPodAutoscalerV2SpecBehavior,
    HorizontalPodAutoscalerV2SpecBehaviorScaleDown,
    HorizontalPodAutoscalerV2SpecBehaviorScaleDownPolicy,
    HorizontalPodAutoscalerV2SpecBehaviorScaleUp,
    HorizontalPodAutoscalerV2SpecBehaviorScaleUpPolicy,
    HorizontalPodAutoscalerV2SpecMetric,
    HorizontalPodAutoscalerV2SpecMetricResource,
    HorizontalPodAutoscalerV2SpecMetricResourceTarget,
    HorizontalPodAutoscalerV2SpecScaleTargetRef,
)
from constructs import Construct


@dataclass(frozen=True)
class AutoscalerProps:
    """Properties of :class:`Autoscaler`.

    | name | meaning | default |
    |---|---|---|
    | name / namespace | the HPA | required |
    | deployment | the Deployment it scales | required |
    | min_replicas / max_replicas | bounds | required |
    | cpu_utilization / memory_utilization | target average utilisation, percent | 70 / 80 |
    | scale_down_percent_per_minute / scale_down_stabilization_seconds | 10 / 300 (platform design, 12.2) |
    | scale_up_percent_per_minute / scale_up_stabilization_seconds | 50 / 60 (platform design, 12.2) |
    | depends_on | e.g. the Deployment | none |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    namespace: str
    deployment: str
    min_replicas: int
    max_replicas: int
    cpu_utilization: int = 70
    memory_utilization: int = 80
    scale_down_percent_per_minute: int = 10
    scale_down_stabilization_seconds: int = 300
    scale_up_percent_per_minute: int = 50
    scale_up_stabilization_seconds: int = 60
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(f"autoscaler {self.name}: need 1 <= min_replicas <= max_replicas")


class Autoscaler(HorizontalPodAutoscalerV2):
    """``kubernetes_horizontal_pod_autoscaler_v2`` of one Deployment."""

    def __init__(self, scope: Construct, id: str, props: AutoscalerProps) -> None:
        super().__init__(
            scope,
            id,
            metadata=HorizontalPodAutoscalerV2Metadata(name=props.name, namespace=props.namespace),
            spec=HorizontalPodAutoscalerV2Spec(
                scale_target_ref=HorizontalPodAutoscalerV2SpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=props.deployment
                ),
                min_replicas=props.min_replicas,
                max_replicas=props.max_replicas,
                metric=[
                    _utilization("cpu", props.cpu_utilization),
                    _utilization("memory", props.memory_utilization),
                ],
                behavior=HorizontalPodAutoscalerV2SpecBehavior(
                    scale_down=[
                        HorizontalPodAutoscalerV2SpecBehaviorScaleDown(
                            stabilization_window_seconds=props.scale_down_stabilization_seconds,
                            policy=[
                                HorizontalPodAutoscalerV2SpecBehaviorScaleDownPolicy(
                                    type="Percent", value=props.scale_down_percent_per_minute, period_seconds=60
                                )
                            ],
                        )
                    ],
                    scale_up=[
                        HorizontalPodAutoscalerV2SpecBehaviorScaleUp(
                            stabilization_window_seconds=props.scale_up_stabilization_seconds,
                            policy=[
                                HorizontalPodAutoscalerV2SpecBehaviorScaleUpPolicy(
                                    type="Percent", value=props.scale_up_percent_per_minute, period_seconds=60
                                )
                            ],
                        )
                    ],
                ),
            ),
            depends_on=list(props.depends_on) or None,
            provider=props.provider,
        )


def _utilization(resource: str, percent: int) -> HorizontalPodAutoscalerV2SpecMetric:
    return HorizontalPodAutoscalerV2SpecMetric(
        type="Resource",
        resource=HorizontalPodAutoscalerV2SpecMetricResource(
            name=resource,
            target=HorizontalPodAutoscalerV2SpecMetricResourceTarget(type="Utilization", average_utilization=percent),
        ),
    )
