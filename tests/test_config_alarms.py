"""Bad alarm and telemetry settings stop at the configuration edge: one message naming the file,
the field, the value, the rule and the fix (the CLI turns it into exit status 2, tests/test_config.py)."""

from __future__ import annotations

import pytest

from iworkz.config import ConfigError, load_settings
from iworkz_constructs.alarm_settings import ALARM_SETTINGS, alarm_fields
from tests.configs import write_config

CASES = [
    pytest.param(
        "production",
        {"alarms": {"postgres": {"cpu_percent": {"value": 120}}}},
        "alarms.postgres.cpu_percent.value",
        "not a percentage",
        id="percentage-above-100",
    ),
    pytest.param(
        "dev",
        {"alarms": {"postgres": {"free_storage_gb": {"value": 25}}}},
        "alarms.postgres.free_storage_gb.value",
        "not below the allocated_storage_gb of 20 GB",
        id="free-storage-above-the-allocated-size",
    ),
    pytest.param(
        "production",
        {"alarms": {"redis": {"connections_count": {"value": 70000}}}},
        "alarms.redis.connections_count.value",
        "the most the metric can reach",
        id="connections-above-maxclients",
    ),
    pytest.param(
        "production",
        {"alarms": {"opensearch": {"cluster_red": {"severity": "page"}}}},
        "alarms.opensearch.cluster_red.severity",
        "'critical' or 'warning'",
        id="unknown-severity",
    ),
    pytest.param(
        "production",
        {"alarms": {"nat_gateways": {"team": "networking"}}},
        "alarms.nat_gateways.team",
        "has no alert receiver",
        id="unknown-team",
    ),
    pytest.param(
        "staging",
        {"alarms": {"redis": {"memory_percent": {"period_seconds": 45}}}},
        "alarms.redis.memory_percent.period_seconds",
        "not a multiple of 60",
        id="period-cloudwatch-refuses",
    ),
    pytest.param(
        "production",
        {"alarms": {"postgres": {"cpu_percent": {"period_seconds": 600, "evaluation_periods": 200}}}},
        "alarms.postgres.cpu_percent",
        "exceeds CloudWatch's 86400 s",
        id="window-longer-than-a-day",
    ),
    pytest.param(
        "production",
        {"alarms": {"vpn": {"tunnel_down": {"evaluation_periods": 2, "datapoints_to_alarm": 3}}}},
        "alarms.vpn.tunnel_down",
        "datapoints_to_alarm 3 must be 1-2",
        id="more-datapoints-than-periods",
    ),
    pytest.param(
        "production",
        {"alarms": {"postgres": {"cpu_percnt": {"value": 90}}}},
        "alarms.postgres.cpu_percnt",
        "did you mean 'cpu_percent'",
        id="misspelt-alarm",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"instance_class": "db.x2g.large"}}},
        "data.postgres.instance_class",
        "no memory size in iworkz/config/catalog/rds_instance_classes.yaml",
        id="instance-class-without-memory",
    ),
    pytest.param(
        "production",
        {"alarms": {"postgres": {"replication_slot_lag_gb": {"evaluation_periods": 5}}}},
        "alarms.postgres.replication_slot_lag_gb",
        "is not shorter than the database RPO of 300 s",
        id="slot-lag-window-reaching-the-rpo",
    ),
    pytest.param(
        "production",
        {"alarms": {"postgres": {"transaction_logs_disk_gb": {"value": 95}}}},
        "alarms.postgres.transaction_logs_disk_gb",
        "is not below 90 GB",
        id="wal-disk-alarm-after-the-free-storage-alarm",
    ),
    pytest.param(
        "production",
        {"platform": {"trace_sampling_ratio": 1.5}},
        "platform.trace_sampling_ratio",
        "less than or equal to 1",
        id="sampling-ratio",
    ),
    pytest.param(
        "production",
        {"eks": {"container_log_retention_days": 31}},
        "eks.container_log_retention_days",
        "CloudWatch Logs keeps log groups for one of",
        id="log-retention",
    ),
]


@pytest.mark.parametrize(("environment", "patch", "field", "rule"), CASES)
def test_bad_alarm_settings_are_refused_with_one_clear_message(tmp_path, environment, patch, field, rule) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, environment, patch))
    (problem,) = caught.value.problems
    assert problem.file.endswith(f"config/{environment}.yaml")
    assert problem.field == field, problem.render()
    assert rule in problem.render(), problem.render()


def test_an_override_changes_only_the_keys_it_names(tmp_path) -> None:
    patch = {"alarms": {"postgres": {"cpu_percent": {"value": 70}, "team": "backend"}}}
    env = load_settings(write_config(tmp_path, "production", patch)).environments["production"]
    settings = env.alarms.settings("postgres")
    assert settings.team == "backend"
    assert settings.cpu_percent.value == 70 and settings.cpu_percent.evaluation_periods == 3  # the default's
    assert settings.free_storage_gb.severity == "critical"


def test_without_paging_every_alarm_is_a_warning(settings) -> None:
    assert settings.environments["dev"].alarms.paging is False
    for section in ALARM_SETTINGS:
        resolved = settings.environments["dev"].alarms.settings(section)
        assert {getattr(resolved, alarm.name).severity for alarm in alarm_fields(type(resolved))} == {"warning"}
    production = settings.environments["production"].alarms.settings("postgres")
    assert production.free_storage_gb.severity == "critical"


def test_every_settings_class_has_a_configuration_section() -> None:
    from iworkz.config.alarms import AlarmsConfig

    assert set(ALARM_SETTINGS) <= set(AlarmsConfig.model_fields)
