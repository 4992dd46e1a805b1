"""ResourceAlarms and AlarmDashboard: actions, tags, metrics from the catalog, bad specs; the
settings' rules (iworkz_constructs.alarm_settings) that the configuration applies too."""

from __future__ import annotations

import dataclasses

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.alarm_settings import (
    ALARM_SETTINGS,
    Condition,
    PostgresAlarms,
    Threshold,
    alarm_fields,
    check_settings,
    evaluation_problem,
)
from iworkz_constructs.alarms import (
    ALARMS_PER_STATUS_WIDGET,
    AlarmActions,
    AlarmDashboard,
    AlarmDashboardProps,
    AlarmSpec,
    Metric,
    ResourceAlarms,
    ResourceAlarmsProps,
    alarms_below,
)
from tests.constructs.alerting import ACTIONS, TOPICS
from tests.tf import new_app, one, resources, synth_stack


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _cpu(key: str = "cpu", severity: str = "warning") -> AlarmSpec:
    return AlarmSpec(
        key,
        f"iworkz-test-{key}",
        "CPU above 80%",
        Threshold(value=80, severity=severity, evaluation_periods=3),
        ">",
        80,
        Metric("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "iworkz-test-postgres"}, "Average"),
        unit="%",
    )


def test_an_alarm_notifies_its_severitys_topic_on_alarm_and_ok_with_its_labels_as_tags() -> None:
    stack = _stack()
    ResourceAlarms(stack, "alarms", ResourceAlarmsProps("database", ACTIONS, [_cpu(severity="critical")]))
    alarm = one(synth_stack(stack), "aws_cloudwatch_metric_alarm")
    assert alarm["alarm_actions"] == alarm["ok_actions"] == [TOPICS["critical"]]
    assert alarm["tags"] == {"Team": "database", "Severity": "critical"}
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/RDS", "CPUUtilization", "Average")
    assert (alarm["period"], alarm["evaluation_periods"], alarm["comparison_operator"]) == (
        300,
        3,
        "GreaterThanThreshold",
    )
    assert "insufficient_data_actions" not in alarm


def test_a_percentile_is_an_extended_statistic_and_math_alarms_read_their_inputs() -> None:
    stack = _stack()
    latency = Metric("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/x/1"}, "p95")
    desired = Metric("AWS/AutoScaling", "GroupDesiredCapacity", {"AutoScalingGroupName": "g"}, "Minimum")
    in_service = Metric("AWS/AutoScaling", "GroupInServiceInstances", {"AutoScalingGroupName": "g"}, "Minimum")
    condition = Threshold(value=0)
    specs = [
        AlarmSpec("latency", "iworkz-test-latency", "p95", condition, ">", 0.5, latency),
        AlarmSpec(
            "shortfall",
            "iworkz-test-shortfall",
            "short",
            condition,
            ">",
            0,
            expression="desired - in_service",
            inputs={"desired": desired, "in_service": in_service},
        ),
    ]
    ResourceAlarms(stack, "alarms", ResourceAlarmsProps("backend", ACTIONS, specs))
    alarms = {a["alarm_name"]: a for a in resources(synth_stack(stack), "aws_cloudwatch_metric_alarm").values()}
    assert alarms["iworkz-test-latency"]["extended_statistic"] == "p95"
    assert "statistic" not in alarms["iworkz-test-latency"]
    queries = alarms["iworkz-test-shortfall"]["metric_query"]
    assert queries[0] == {"id": "result", "expression": "desired - in_service", "label": "short", "return_data": True}
    assert {q["id"]: q["metric"]["metric_name"] for q in queries[1:]} == {
        "desired": "GroupDesiredCapacity",
        "in_service": "GroupInServiceInstances",
    }
    assert "metric_name" not in alarms["iworkz-test-shortfall"]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (("AWS/RDS", "CpuUtilisation", {"DBInstanceIdentifier": "x"}, "Average"), "publishes no metric"),
        (("AWS/Nothing", "CPUUtilization", {}, "Average"), "not in the metrics catalog"),
        (("AWS/RDS", "CPUUtilization", {"InstanceId": "x"}, "Average"), "unknown dimensions"),
        (("AWS/RDS", "CPUUtilization", {}, "Median"), "unknown statistic"),
    ],
)
def test_only_metrics_the_service_publishes(metric, message) -> None:
    with pytest.raises(ValueError, match=message):
        Metric(*metric)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"comparison": "=="}, "comparison"),
        ({"metric": None}, "give a metric or an expression"),
        ({"expression": "m1 * 2"}, "give a metric or an expression"),
        ({"treat_missing_data": "zero"}, "treat_missing_data"),
        ({"name": "has spaces"}, "alarm name"),
        ({"threshold": float("nan")}, "not a number"),
    ],
)
def test_fails_on_bad_specs(change, message) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(_cpu(), **change)


def test_fails_on_duplicate_keys_missing_topics_and_bad_teams() -> None:
    with pytest.raises(ValueError, match="duplicate keys"):
        ResourceAlarmsProps("database", ACTIONS, [_cpu(), _cpu()])
    with pytest.raises(ValueError, match="team"):
        ResourceAlarmsProps("Data Base", ACTIONS, [_cpu()])
    with pytest.raises(ValueError, match="no topic for the severities"):
        AlarmActions({"critical": TOPICS["critical"]})


def test_the_dashboard_draws_every_alarm_with_its_threshold_and_splits_the_status_list() -> None:
    stack = _stack()
    specs = [_cpu(f"cpu-{n}") for n in range(ALARMS_PER_STATUS_WIDGET + 1)]
    ResourceAlarms(stack, "alarms", ResourceAlarmsProps("database", ACTIONS, specs))
    AlarmDashboard(stack, "dashboard", AlarmDashboardProps("iworkz-test-data", "ap-northeast-1", alarms_below(stack)))
    doc = synth_stack(stack)
    body = one(doc, "aws_cloudwatch_dashboard")["dashboard_body"]
    assert body.count('"type" = "alarm"') == 2  # 101 alarms: two status widgets of at most 100
    assert body.count('"type" = "metric"') == len(specs)
    assert body.count('"label" = "warning: > 80 %"') == len(specs)
    for logical in resources(doc, "aws_cloudwatch_metric_alarm"):
        assert f"aws_cloudwatch_metric_alarm.{logical}.arn" in body
    with pytest.raises(ValueError, match="no alarms"):
        AlarmDashboardProps("empty", "ap-northeast-1", [])


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        ((30, 1, None), "not a multiple of 60"),
        ((90, 1, None), "not a multiple of 60"),
        ((60, 0, None), "at least 1"),
        ((300, 289, None), "86400"),  # periods under an hour: one day at most
        ((3600, 169, None), "604800"),  # an hour or more: seven days
        ((300, 3, 4), "datapoints_to_alarm"),
    ],
)
def test_evaluation_windows_cloudwatch_refuses(window, problem) -> None:
    assert problem in (evaluation_problem(*window) or "")
    with pytest.raises(ValueError, match="alarm evaluation"):
        Condition(period_seconds=window[0], evaluation_periods=window[1], datapoints_to_alarm=window[2])


def test_windows_cloudwatch_accepts() -> None:
    for window in ((60, 1, None), (300, 288, None), (3600, 168, 100), (86400, 7, None)):
        assert evaluation_problem(*window) is None, window


def test_values_outside_their_metrics_range() -> None:
    with pytest.raises(ValueError, match="percentage"):
        check_settings(dataclasses.replace(PostgresAlarms(), cpu_percent=Threshold(value=101)))
    with pytest.raises(ValueError, match="10 is not below 10"):
        check_settings(PostgresAlarms(), {"allocated_storage_gb": 10})
    with pytest.raises(ValueError, match="severity"):
        Threshold(value=1, severity="page")


def test_every_threshold_field_names_its_unit_and_has_a_valid_default() -> None:
    for settings in ALARM_SETTINGS.values():
        fields = list(alarm_fields(settings))  # raises for a threshold without a unit suffix
        assert fields, settings
        check_settings(settings(), {"allocated_storage_gb": 100})
