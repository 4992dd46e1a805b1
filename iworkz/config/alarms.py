"""Alarms section: thresholds, severities and teams of the CloudWatch alarms the constructs create.

``alarms.<resource>.<alarm>`` overrides the default of one alarm (the defaults live in
:mod:`iworkz_constructs.alarm_settings`, the one place); ``alarms.<resource>.team`` names the team
whose receiver gets them. Everything is checked here with the rules the constructs apply: a
severity or team that does not exist, an evaluation window CloudWatch refuses, a value outside
its metric's range (a percentage above 100, free storage above the allocated size).

The catalog (``catalog/cloudwatch_metrics.yaml`` and ``rds_instance_classes.yaml``, dated, with
their sources, read through :mod:`iworkz.config.catalog`) holds the metrics each service
publishes and the memory of the RDS instance classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from pydantic import create_model, model_validator

from iworkz.config import catalog
from iworkz.config.base import Model, rule_error
from iworkz_constructs.alarm_settings import (
    ALARM_SETTINGS,
    SEVERITIES,
    UNITS,
    alarm_fields,
    evaluation_problem,
    subscriber_alarm_problem,
    value_problem,
)

Severity = Literal["critical", "warning"]
assert set(Severity.__args__) == set(SEVERITIES)  # type: ignore[attr-defined]


# --- catalogs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedNamespace:
    """The metrics and dimensions one CloudWatch namespace holds, with where that is documented."""

    namespace: str
    metrics: frozenset[str]
    dimensions: frozenset[str]
    source: str


METRICS_FILE = "cloudwatch_metrics.yaml"
INSTANCE_CLASSES_FILE = "rds_instance_classes.yaml"


@cache
def published_metrics() -> dict[str, PublishedNamespace]:
    """Namespace -> what the service publishes there (catalog/cloudwatch_metrics.yaml)."""
    found = {}
    for entry in catalog.tables(METRICS_FILE):
        values = entry.values
        found[values["namespace"]] = PublishedNamespace(
            values["namespace"], frozenset(values["metrics"]), frozenset(values["dimensions"]), entry.source
        )
    return found


def rds_memory_gib(instance_class: str) -> float | None:
    """Memory of an RDS instance class (catalog/rds_instance_classes.yaml), or None if not listed."""
    value = catalog.values(INSTANCE_CLASSES_FILE, "rds_instance_memory_gib").get(instance_class)
    return None if value is None else float(value)


def rds_postgres_max_connections(instance_class: str) -> int:
    """RDS for PostgreSQL's default ``max_connections`` for the class: LEAST(memory / 9531392, 5000).

    RDS computes it from DBInstanceClassMemory, which is a little below the class's memory (what
    the OS and RDS keep): the alarm thresholds derived from it err late by a few percent.
    """
    memory = rds_memory_gib(instance_class)
    if memory is None:
        raise ValueError(f"instance class {instance_class!r} is not in catalog/rds_instance_classes.yaml")
    formula = catalog.values(INSTANCE_CLASSES_FILE, "rds_postgres_max_connections")
    return int(min(memory * 1024**3 // formula["bytes_per_connection"], formula["most"]))


# --- configuration -------------------------------------------------------------------------------


class ConditionOverride(Model):
    """Overrides of one alarm's condition; a key left out keeps the construct's default."""

    severity: Severity | None = None
    period_seconds: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None

    @model_validator(mode="after")
    def _evaluation(self) -> ConditionOverride:
        # The complete window is checked with the defaults in AlarmSection; this catches what is
        # wrong on its own already (and names the field).
        if self.period_seconds is not None:
            problem = evaluation_problem(self.period_seconds, 1, None)
            if problem:
                raise rule_error(problem, "use 60, 300, 900 or 3600", field="period_seconds", value=self.period_seconds)
        if self.evaluation_periods is not None and self.evaluation_periods < 1:
            raise rule_error(
                "evaluation_periods must be at least 1",
                "e.g. 3",
                field="evaluation_periods",
                value=self.evaluation_periods,
            )
        return self


class ThresholdOverride(ConditionOverride):
    """Overrides of one alarm's threshold and condition."""

    value: float | None = None


class AlarmSection(Model):
    """One resource's alarms: its ``team`` and one override per alarm (fields from its settings class)."""

    settings_class: ClassVar[Any] = None  # the construct's settings class, set on each generated section
    team: str | None = None

    def settings(self) -> Any:
        """The construct's settings with this section's overrides applied."""
        defaults = type(self).settings_class()
        changes: dict[str, Any] = {}
        if self.team is not None:
            changes["team"] = self.team
        for alarm in alarm_fields(type(defaults)):
            override = getattr(self, alarm.name)
            if override is not None:
                given = override.model_dump(exclude_none=True)
                changes[alarm.name] = dataclasses.replace(getattr(defaults, alarm.name), **given)
        return dataclasses.replace(defaults, **changes)

    @model_validator(mode="after")
    def _windows_and_ranges(self) -> AlarmSection:
        defaults = type(self).settings_class()
        for alarm in alarm_fields(type(defaults)):
            override = getattr(self, alarm.name)
            if override is None:
                continue
            merged = {**dataclasses.asdict(getattr(defaults, alarm.name)), **override.model_dump(exclude_none=True)}
            problem = evaluation_problem(
                merged["period_seconds"], merged["evaluation_periods"], merged["datapoints_to_alarm"]
            )
            if problem:
                raise rule_error(
                    f"CloudWatch refuses this evaluation window: {problem}",
                    "shorten the window: fewer evaluation_periods or a shorter period_seconds",
                    field=alarm.name,
                    value=override.model_dump(exclude_none=True),
                )
            if alarm.unit is not None:
                problem = value_problem(alarm.unit, merged["value"], alarm.high)
                if problem:
                    raise rule_error(
                        f"threshold out of the metric's range: {problem}",
                        f"give {UNITS[alarm.unit]}",
                        field=f"{alarm.name}.value",
                        value=merged["value"],
                    )
        return self


def _section_model(name: str, settings_class: type[Any]) -> type[AlarmSection]:
    fields: dict[str, Any] = {}
    for alarm in alarm_fields(settings_class):
        kind = ThresholdOverride if alarm.unit is not None else ConditionOverride
        fields[alarm.name] = (kind | None, None)
    model = create_model(f"{settings_class.__name__}Config", __base__=AlarmSection, __doc__=f"alarms.{name}", **fields)
    model.settings_class = settings_class
    return model


SECTIONS: dict[str, type[AlarmSection]] = {name: _section_model(name, cls) for name, cls in ALARM_SETTINGS.items()}


if TYPE_CHECKING:  # the sections are generated from the settings classes; mypy sees their base
    PostgresAlarmsConfig: TypeAlias = AlarmSection
    RedisAlarmsConfig: TypeAlias = AlarmSection
    OpenSearchAlarmsConfig: TypeAlias = AlarmSection
    NatGatewayAlarmsConfig: TypeAlias = AlarmSection
    VpnAlarmsConfig: TypeAlias = AlarmSection
    NodeGroupAlarmsConfig: TypeAlias = AlarmSection
    LoadBalancerAlarmsConfig: TypeAlias = AlarmSection
    FunctionAlarmsConfig: TypeAlias = AlarmSection
else:
    PostgresAlarmsConfig = SECTIONS["postgres"]
    RedisAlarmsConfig = SECTIONS["redis"]
    OpenSearchAlarmsConfig = SECTIONS["opensearch"]
    NatGatewayAlarmsConfig = SECTIONS["nat_gateways"]
    VpnAlarmsConfig = SECTIONS["vpn"]
    NodeGroupAlarmsConfig = SECTIONS["node_groups"]
    LoadBalancerAlarmsConfig = SECTIONS["load_balancer"]
    FunctionAlarmsConfig = SECTIONS["functions"]


class AlarmsConfig(Model):
    """``alarms``: one section per kind of resource, and whether this environment pages anyone."""

    # False: nobody is paged for this environment; alarms that are critical elsewhere arrive as warnings.
    paging: bool = True

    postgres: PostgresAlarmsConfig = PostgresAlarmsConfig()
    redis: RedisAlarmsConfig = RedisAlarmsConfig()
    opensearch: OpenSearchAlarmsConfig = OpenSearchAlarmsConfig()
    nat_gateways: NatGatewayAlarmsConfig = NatGatewayAlarmsConfig()
    vpn: VpnAlarmsConfig = VpnAlarmsConfig()
    node_groups: NodeGroupAlarmsConfig = NodeGroupAlarmsConfig()
    load_balancer: LoadBalancerAlarmsConfig = LoadBalancerAlarmsConfig()
    functions: FunctionAlarmsConfig = FunctionAlarmsConfig()

    def settings(self, section: str) -> Any:
        """The settings class instance of one section (e.g. ``PostgresAlarms``) with its overrides
        (every severity ``warning`` without paging)."""
        settings = getattr(self, section).settings()
        if self.paging:
            return settings
        quiet = {
            alarm.name: dataclasses.replace(getattr(settings, alarm.name), severity="warning")
            for alarm in alarm_fields(type(settings))
        }
        return dataclasses.replace(settings, **quiet)


def alarm_rules(alarms: AlarmsConfig, teams: Sequence[str], capacities: Mapping[str, Mapping[str, float]]) -> None:
    """The rules that need other sections: each team has a receiver; a value stays below its resource's size.

    ``capacities``: section -> construct prop (e.g. ``allocated_storage_gb``) -> its configured value.
    """
    for section in ALARM_SETTINGS:
        settings = alarms.settings(section)
        if settings.team not in teams:
            raise rule_error(
                f"team {settings.team!r} has no alert receiver (monitoring.alert_teams: {', '.join(teams)})",
                "use one of those teams, or add it to monitoring.alert_teams",
                field=f"alarms.{section}.team",
                value=settings.team,
            )
        for alarm in alarm_fields(type(settings)):
            if alarm.capacity is None:
                continue
            size = capacities[section][alarm.capacity]
            value = getattr(settings, alarm.name).value
            if value >= size:
                raise rule_error(
                    f"threshold out of the metric's range: {value:g} GB is not below the {alarm.capacity} "
                    f"of {size:g} GB (the alarm could never fire)",
                    f"give a value below {size:g}",
                    field=f"alarms.{section}.{alarm.name}.value",
                    value=value,
                )


def subscriber_alarm_rules(alarms: AlarmsConfig, rpo_minutes: int, allocated_storage_gb: float) -> None:
    """The DR site's subscription alarms on the RDS primary fire in time: the slot lag before the
    database RPO, the WAL on disk before the free-storage alarm."""
    settings = alarms.settings("postgres")
    problem = subscriber_alarm_problem(settings, rpo_minutes * 60, allocated_storage_gb)
    if problem is None:
        return
    name = problem.split(":", 1)[0]
    fix = (
        "shorten its window (period_seconds x evaluation_periods) below dr_azure.recovery.database_rpo_minutes"
        if name == "replication_slot_lag_gb"
        else "lower its value, or raise data.postgres.allocated_storage_gb"
    )
    raise rule_error(
        f"the DR site's replication alarm would fire too late: {problem}",
        fix,
        field=f"alarms.postgres.{name}",
        value=dataclasses.asdict(getattr(settings, name)),
    )
