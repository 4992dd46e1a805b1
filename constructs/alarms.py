"""CloudWatch alarms of one resource, and the dashboard of a stack's alarms.

A construct that owns a resource describes its alarms as :class:`AlarmSpec` (metric or metric
math, comparison, threshold in the metric's unit, and the :class:`Condition` from its settings in
:mod:`iworkz_constructs.alarm_settings`) and creates them with :class:`ResourceAlarms`: each
alarm notifies the SNS topic of its severity when it fires and when it clears (like
Alertmanager's ``send_resolved``), and carries its ``Team`` and ``Severity`` as tags, which the
alert forwarder turns into the labels the receivers route on.

:class:`AlarmDashboard` draws every alarm below a scope (a stack): one status widget and, per
alarm, its metric with the threshold line, from the same specs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct, IConstruct

from iworkz.config.alarms import published_metrics
from iworkz_constructs.alarm_settings import SEVERITIES, Condition

COMPARISONS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}
STATISTICS = ("Average", "Maximum", "Minimum", "Sum", "SampleCount")
_PERCENTILE = re.compile(r"^p\d{1,2}(\.\d+)?$")
TREAT_MISSING = ("missing", "breaching", "notBreaching", "ignore")
TEAM_TAG = "Team"
SEVERITY_TAG = "Severity"
_ALARM_NAME = re.compile(r"^[\w.\-/:#]{1,255}$")
_QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
# Dashboard grid: CloudWatch's is 24 units wide; an alarm status widget shows at most 100 alarms.
WIDGET_WIDTH, WIDGET_HEIGHT, GRID_WIDTH = 8, 6, 24
ALARMS_PER_STATUS_WIDGET = 100


@dataclass(frozen=True)
class AlarmActions:
    """Where alarms notify: the SNS topic of each severity (``AlertsOutputs.alarm_actions()``)."""

    topic_arns: Mapping[str, str]

    def __post_init__(self) -> None:
        missing = [severity for severity in SEVERITIES if severity not in self.topic_arns]
        if missing:
            raise ValueError(f"alarm actions: no topic for the severities {missing}")

    def topic(self, severity: str) -> str:
        return self.topic_arns[severity]


@dataclass(frozen=True)
class Metric:
    """A metric the service publishes (checked against iworkz/config/catalog/cloudwatch_metrics.yaml)."""

    namespace: str
    name: str
    dimensions: Mapping[str, str]
    statistic: str  # Average, Maximum, Minimum, Sum, SampleCount or a percentile such as p95

    def __post_init__(self) -> None:
        published = published_metrics().get(self.namespace)
        if published is None:
            raise ValueError(f"metric namespace {self.namespace!r} is not in the metrics catalog")
        if self.name not in published.metrics:
            raise ValueError(f"{self.namespace} publishes no metric {self.name!r} ({published.source})")
        unknown = sorted(set(self.dimensions) - published.dimensions)
        if unknown:
            raise ValueError(f"{self.namespace} {self.name}: unknown dimensions {unknown}")
        if self.statistic not in STATISTICS and not _PERCENTILE.match(self.statistic):
            raise ValueError(f"{self.namespace} {self.name}: unknown statistic {self.statistic!r}")

    @property
    def is_percentile(self) -> bool:
        return bool(_PERCENTILE.match(self.statistic))


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: on ``metric``, or on ``expression`` over ``inputs`` (metric math; ids -> metrics).

    | name | meaning | default |
    |---|---|---|
    | key | construct id below the resource, e.g. ``primary-cpu`` | required |
    | name | the alarm's name, e.g. ``iworkz-production-postgres-cpu`` | required |
    | summary | what it means, one line (the alert's summary) | required |
    | condition | severity and evaluation window (a settings field) | required |
    | comparison | ``>``, ``>=``, ``<`` or ``<=`` | required |
    | threshold | value in the metric's unit (bytes, percent, ...) | required |
    | metric | the metric alarmed on | none |
    | expression / inputs | metric math over metrics by query id (instead of metric) | none |
    | treat_missing_data | how a period without data counts | ``missing`` |
    | unit | unit of the threshold, shown on the dashboard | ``""`` |
    """

    key: str
    name: str
    summary: str
    condition: Condition
    comparison: str
    threshold: float
    metric: Metric | None = None
    expression: str | None = None
    inputs: Mapping[str, Metric] = field(default_factory=dict)
    treat_missing_data: str = "missing"
    unit: str = ""

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"alarm {self.name}: comparison {self.comparison!r} is not one of {list(COMPARISONS)}")
        if (self.metric is None) == (self.expression is None):
            raise ValueError(f"alarm {self.name}: give a metric or an expression with its inputs")
        if self.expression is not None and (not self.inputs or not all(map(_QUERY_ID.match, self.inputs))):
            raise ValueError(f"alarm {self.name}: an expression needs inputs named by lower-case query ids")
        if self.treat_missing_data not in TREAT_MISSING:
            raise ValueError(
                f"alarm {self.name}: treat_missing_data {self.treat_missing_data!r} is not one of {TREAT_MISSING}"
            )
        if not _ALARM_NAME.match(self.name):
            raise ValueError(f"alarm name {self.name!r}: 1-255 letters, digits and _.-/:#")
        if not math.isfinite(self.threshold):
            raise ValueError(f"alarm {self.name}: threshold {self.threshold} is not a number")

    @property
    def severity(self) -> str:
        return self.condition.severity

    def metrics(self) -> list[Metric]:
        return [self.metric] if self.metric is not None else list(self.inputs.values())


@dataclass(frozen=True)
class ResourceAlarmsProps:
    """Properties of :class:`ResourceAlarms`.

    | name | meaning | default |
    |---|---|---|
    | team | team label of every alarm (a receiver of Alertmanager) | required |
    | actions | SNS topic per severity | required |
    | alarms | the alarms | required |
    | provider | aws provider | the stack's default |
    """

    team: str
    actions: AlarmActions
    alarms: Sequence[AlarmSpec]
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        keys = [spec.key for spec in self.alarms]
        if len(set(keys)) != len(keys):
            raise ValueError(f"resource alarms: duplicate keys {sorted(k for k in keys if keys.count(k) > 1)}")
        if not re.match(r"^[a-z][a-z0-9-]*$", self.team):
            raise ValueError(f"resource alarms: team {self.team!r} is not a receiver name")


class ResourceAlarms(Construct):
    """``aws_cloudwatch_metric_alarm`` for each spec. Attributes: ``alarms`` (key -> resource),
    ``specs``, ``team``."""

    def __init__(self, scope: Construct, id: str, props: ResourceAlarmsProps) -> None:
        super().__init__(scope, id)
        self.team = props.team
        self.specs = list(props.alarms)
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        for spec in self.specs:
            topic = props.actions.topic(spec.severity)
            condition = spec.condition
            single = spec.metric
            self.alarms[spec.key] = CloudwatchMetricAlarm(
                self,
                spec.key,
                alarm_name=spec.name,
                alarm_description=spec.summary,
                comparison_operator=COMPARISONS[spec.comparison],
                threshold=spec.threshold,
                evaluation_periods=condition.evaluation_periods,
                datapoints_to_alarm=condition.datapoints_to_alarm,
                namespace=single.namespace if single else None,
                metric_name=single.name if single else None,
                dimensions=dict(single.dimensions) if single else None,
                statistic=single.statistic if single and not single.is_percentile else None,
                extended_statistic=single.statistic if single and single.is_percentile else None,
                period=condition.period_seconds if single else None,
                metric_query=None if single else _metric_queries(spec),
                treat_missing_data=spec.treat_missing_data,
                alarm_actions=[topic],
                ok_actions=[topic],
                tags={TEAM_TAG: props.team, SEVERITY_TAG: spec.severity},
                provider=props.provider,
            )


def optional_alarms(
    scope: Construct,
    id: str,
    team: str,
    actions: AlarmActions | None,
    specs: Callable[[], Sequence[AlarmSpec]],
    provider: AwsProvider | None = None,
) -> ResourceAlarms | None:
    """A resource's alarms on ``actions``; None when its caller opted out (``alarms_opt_out``, no actions)."""
    if actions is None:
        return None
    return ResourceAlarms(scope, id, ResourceAlarmsProps(team, actions, list(specs()), provider))


def _metric_queries(spec: AlarmSpec) -> list[CloudwatchMetricAlarmMetricQuery]:
    assert spec.expression is not None
    queries = [
        CloudwatchMetricAlarmMetricQuery(id="result", expression=spec.expression, label=spec.summary, return_data=True)
    ]
    for query_id, metric in spec.inputs.items():
        queries.append(
            CloudwatchMetricAlarmMetricQuery(
                id=query_id,
                return_data=False,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=metric.namespace,
                    metric_name=metric.name,
                    dimensions=dict(metric.dimensions),
                    stat=metric.statistic,
                    period=spec.condition.period_seconds,
                ),
            )
        )
    return queries


def alarms_below(scope: IConstruct) -> list[ResourceAlarms]:
    """Every :class:`ResourceAlarms` below ``scope`` (e.g. a stack), in construct order."""
    return [node for node in scope.node.find_all() if isinstance(node, ResourceAlarms)]


@dataclass(frozen=True)
class AlarmDashboardProps:
    """Properties of :class:`AlarmDashboard`.

    | name | meaning | default |
    |---|---|---|
    | name | dashboard name, e.g. ``iworkz-production-data`` | required |
    | region | region of the metrics | required |
    | alarms | the alarms to draw (:func:`alarms_below` of the stack) | required |
    | provider | aws provider | the stack's default |
    """

    name: str
    region: str
    alarms: Sequence[ResourceAlarms]
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not self.alarms:
            raise ValueError(f"dashboard {self.name}: no alarms to draw")


class AlarmDashboard(CloudwatchDashboard):
    """``aws_cloudwatch_dashboard``: the alarms' states, then each alarm's metric and threshold."""

    def __init__(self, scope: Construct, id: str, props: AlarmDashboardProps) -> None:
        arns = [alarm.arn for group in props.alarms for alarm in group.alarms.values()]
        specs = [spec for group in props.alarms for spec in group.specs]
        chunks = [arns[i : i + ALARMS_PER_STATUS_WIDGET] for i in range(0, len(arns), ALARMS_PER_STATUS_WIDGET)]
        widgets: list[dict[str, object]] = [
            {
                "type": "alarm",
                "x": 0,
                "y": WIDGET_HEIGHT * row,
                "width": GRID_WIDTH,
                "height": WIDGET_HEIGHT,
                "properties": {"title": f"{props.name}: alarms", "alarms": chunk, "sortBy": "stateUpdatedTimestamp"},
            }
            for row, chunk in enumerate(chunks)
        ]
        per_row = GRID_WIDTH // WIDGET_WIDTH
        widgets += [
            {
                "type": "metric",
                "x": (index % per_row) * WIDGET_WIDTH,
                "y": WIDGET_HEIGHT * (len(chunks) + index // per_row),
                "width": WIDGET_WIDTH,
                "height": WIDGET_HEIGHT,
                "properties": _metric_widget(spec, props.region),
            }
            for index, spec in enumerate(specs)
        ]
        super().__init__(
            scope,
            id,
            dashboard_name=props.name,
            dashboard_body=Fn.jsonencode({"widgets": widgets}),
            provider=props.provider,
        )


def _metric_widget(spec: AlarmSpec, region: str) -> dict[str, object]:
    period = spec.condition.period_seconds

    def line(metric: Metric, options: dict[str, object]) -> list[object]:
        dimensions = [part for pair in sorted(metric.dimensions.items()) for part in pair]
        return [metric.namespace, metric.name, *dimensions, {"stat": metric.statistic, **options}]

    if spec.metric is not None:
        metrics = [line(spec.metric, {})]
    else:
        metrics = [[{"expression": spec.expression, "label": spec.summary, "id": "result"}]]
        metrics += [line(metric, {"id": query_id, "visible": False}) for query_id, metric in spec.inputs.items()]
    return {
        "title": spec.name,
        "region": region,
        "view": "timeSeries",
        "period": period,
        "metrics": metrics,
        "annotations": {
            "horizontal": [
                {
                    "label": f"{spec.severity}: {spec.comparison} {spec.threshold:g} {spec.unit}".strip(),
                    "value": spec.threshold,
                }
            ]
        },
    }
