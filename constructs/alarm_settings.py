"""When the CloudWatch alarms of each resource fire: thresholds, severities and evaluation windows.

Pure data (no cdktf import): the constructs read their alarms' defaults from here and the
configuration (``alarms`` in ``config/<environment>.yaml``, iworkz/config/alarms.py) overrides
them, validated against the same rules. Every default lives in one place: the settings classes
below.

A :class:`Condition` fires on a state metric (a red OpenSearch cluster, a VPN tunnel down); a
:class:`Threshold` also carries the value the metric is compared with, in the unit its field
names (``percent``, ``gb``, ``seconds``, ``count``). The comparison, statistic and metric belong
to the construct that owns the resource (its alarms are listed in its module).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# The alert severities: one SNS topic each, routed like Alertmanager's routes (the platform design,
# chapter 12.5: critical pages the on-call, warning goes to the owning team).
SEVERITIES = ("critical", "warning")
# The AWS services alarmed on publish one data point a minute: shorter periods see no data.
MINIMUM_PERIOD_SECONDS = 60
ONE_HOUR = 3_600
# PutMetricAlarm: period x evaluation periods at most one day below an hour's period, seven days above.
MAX_WINDOW_SHORT_PERIODS = 86_400
MAX_WINDOW_LONG_PERIODS = 604_800

# Units of threshold values, by the suffix of the settings field that holds them.
UNITS = {
    "percent": "percent of the resource's capacity (0-100)",
    "gb": "gigabytes (below the resource's size)",
    "seconds": "seconds (above 0)",
    "count": "a count per period (0 or more)",
}


def evaluation_problem(period_seconds: int, evaluation_periods: int, datapoints_to_alarm: int | None) -> str | None:
    """Why CloudWatch would refuse this evaluation window (PutMetricAlarm), or None."""
    if period_seconds < MINIMUM_PERIOD_SECONDS or period_seconds % MINIMUM_PERIOD_SECONDS:
        return (
            f"period_seconds {period_seconds} is not a multiple of 60: the services publish one data point "
            "a minute (10, 20 and 30 s exist only for high-resolution custom metrics)"
        )
    if evaluation_periods < 1:
        return f"evaluation_periods {evaluation_periods} must be at least 1"
    window = period_seconds * evaluation_periods
    limit = MAX_WINDOW_SHORT_PERIODS if period_seconds < ONE_HOUR else MAX_WINDOW_LONG_PERIODS
    if window > limit:
        return (
            f"period_seconds x evaluation_periods = {window} s exceeds CloudWatch's {limit} s "
            f"({'one day for periods under an hour' if limit == MAX_WINDOW_SHORT_PERIODS else 'seven days'})"
        )
    if datapoints_to_alarm is not None and not 1 <= datapoints_to_alarm <= evaluation_periods:
        return f"datapoints_to_alarm {datapoints_to_alarm} must be 1-{evaluation_periods} (evaluation_periods)"
    return None


def value_problem(unit: str, value: float, high: float | None = None) -> str | None:
    """Why a threshold value is outside its metric's range (``high``: a bound the field names), or None."""
    if unit == "percent" and not 0 < value <= 100:
        return f"{value} is not a percentage above 0 and at most 100"
    if unit in ("gb", "seconds") and value <= 0:
        return f"{value} must be above 0 ({UNITS[unit]})"
    if unit == "count" and (value < 0 or value != int(value)):
        return f"{value} is not a whole count of 0 or more"
    if high is not None and value >= high:
        return f"{value} is not below {high:g}, the most the metric can reach"
    return None


@dataclass(frozen=True, kw_only=True)
class Condition:
    """When an alarm on a state metric fires: its severity and evaluation window.

    | name | meaning | default |
    |---|---|---|
    | severity | ``critical`` (pages the on-call) or ``warning`` (the owning team) | ``warning`` |
    | period_seconds | length of one evaluation period (a multiple of 60) | 300 |
    | evaluation_periods | periods evaluated | 1 |
    | datapoints_to_alarm | breaching periods among them that fire ("M out of N") | all of them |
    """

    severity: str = "warning"
    period_seconds: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"alarm severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        problem = evaluation_problem(self.period_seconds, self.evaluation_periods, self.datapoints_to_alarm)
        if problem:
            raise ValueError(f"alarm evaluation: {problem}")

    @property
    def window_seconds(self) -> int:
        return self.period_seconds * self.evaluation_periods


@dataclass(frozen=True, kw_only=True)
class Threshold(Condition):
    """A :class:`Condition` on a metric compared with ``value`` (in the unit its field names)."""

    value: float


def bounded(*, high: float | None = None, capacity: str | None = None) -> dict[str, Any]:
    """Field metadata of a threshold: a fixed upper bound of its metric, or the prop that bounds it."""
    return {"high": high, "capacity": capacity}


@dataclass(frozen=True)
class AlarmField:
    """One alarm of a settings class as the configuration sees it."""

    name: str
    unit: str | None  # None: a Condition (no value)
    high: float | None
    capacity: str | None  # the construct prop (and configuration field) the value must stay below


def alarm_fields(settings: type[Any]) -> Iterator[AlarmField]:
    """The Condition/Threshold fields of a settings class, with their unit and bounds."""
    for item in dataclasses.fields(settings):
        if not isinstance(item.default, Condition):
            continue
        unit = item.name.rsplit("_", 1)[-1] if isinstance(item.default, Threshold) else None
        if unit is not None and unit not in UNITS:
            raise AssertionError(f"{settings.__name__}.{item.name}: a threshold field ends in one of {sorted(UNITS)}")
        yield AlarmField(item.name, unit, item.metadata.get("high"), item.metadata.get("capacity"))


def check_settings(settings: Any, capacities: Mapping[str, float] | None = None) -> None:
    """Raises ValueError for a value outside its metric's range (``capacities``: the resource's sizes)."""
    owner = type(settings).__name__
    for alarm in alarm_fields(type(settings)):
        threshold = getattr(settings, alarm.name)
        if alarm.unit is None:
            continue
        high = (capacities or {}).get(alarm.capacity) if alarm.capacity else alarm.high
        problem = value_problem(alarm.unit, threshold.value, high)
        if problem:
            raise ValueError(f"{owner}.{alarm.name}: {problem}")


# --- the settings of each resource's alarms (the defaults: this is the one place) ------------------


@dataclass(frozen=True)
class PostgresAlarms:
    """Alarms of :class:`~iworkz_constructs.postgres.Postgres` (primary and each read replica).

    ``connections_percent`` is of the instance class's default ``max_connections`` and
    ``freeable_memory_percent`` of its memory (both from the instance class); the storage
    thresholds stay below ``allocated_storage_gb``. ``replication_slot_lag_gb`` and
    ``transaction_logs_disk_gb`` exist only with a logical-replication subscriber (the DR site).
    """

    team: str = "database"
    cpu_percent: Threshold = Threshold(value=80, evaluation_periods=3)
    free_storage_gb: Threshold = field(
        default=Threshold(value=10, severity="critical"), metadata=bounded(capacity="allocated_storage_gb")
    )
    freeable_memory_percent: Threshold = Threshold(value=10, evaluation_periods=3)
    connections_percent: Threshold = Threshold(value=80, evaluation_periods=3)
    replica_lag_seconds: Threshold = Threshold(value=300, period_seconds=60, evaluation_periods=5)
    replication_slot_disk_usage_gb: Threshold = field(
        default=Threshold(value=10), metadata=bounded(capacity="allocated_storage_gb")
    )
    # Of the DR site's subscription (PostgresProps.subscriber_rpo_seconds), critical: the slowest
    # slot's unconfirmed WAL above the value for the whole window (shorter than the database RPO),
    # and the WAL the primary keeps for it (RDS stops writing when its storage fills).
    replication_slot_lag_gb: Threshold = field(
        default=Threshold(value=1, severity="critical", period_seconds=60, evaluation_periods=3),
        metadata=bounded(capacity="allocated_storage_gb"),
    )
    # Bounded by subscriber_alarm_problem (below the storage the free-storage alarm leaves), with a subscriber only.
    transaction_logs_disk_gb: Threshold = Threshold(
        value=20, severity="critical", period_seconds=60, evaluation_periods=5
    )


def subscriber_alarm_problem(alarms: PostgresAlarms, rpo_seconds: int, allocated_storage_gb: float) -> str | None:
    """Why the subscriber's alarms would not fire in time, or None.

    The slot-lag alarm must fire before the lag reaches the RPO (its window shorter than it); the
    WAL alarm while more storage is free than the free-storage alarm's threshold (it names the
    cause before the disk fills).
    """
    lag, logs = alarms.replication_slot_lag_gb, alarms.transaction_logs_disk_gb
    if lag.window_seconds >= rpo_seconds:
        return (
            f"replication_slot_lag_gb: its window of {lag.window_seconds} s (period x evaluation periods) "
            f"is not shorter than the database RPO of {rpo_seconds} s"
        )
    room = allocated_storage_gb - alarms.free_storage_gb.value
    if logs.value >= room:
        return (
            f"transaction_logs_disk_gb: {logs.value:g} GB is not below {room:g} GB (allocated storage "
            "less the free_storage_gb threshold): the disk alarm would fire first"
        )
    return None


@dataclass(frozen=True)
class RedisAlarms:
    """Alarms of :class:`~iworkz_constructs.redis.Redis`, on every node of every shard."""

    team: str = "database"
    memory_percent: Threshold = Threshold(value=80, evaluation_periods=3)
    evictions_count: Threshold = Threshold(value=100)
    engine_cpu_percent: Threshold = Threshold(value=80, evaluation_periods=3)
    replication_lag_seconds: Threshold = Threshold(value=30, period_seconds=60, evaluation_periods=5)
    # ElastiCache's maxclients is 65000: a higher threshold can never be reached.
    connections_count: Threshold = field(
        default=Threshold(value=10_000, evaluation_periods=3), metadata=bounded(high=65_000)
    )


@dataclass(frozen=True)
class OpenSearchAlarms:
    """Alarms of :class:`~iworkz_constructs.opensearch.OpenSearch` (free storage: of the least free data node)."""

    team: str = "database"
    cluster_red: Condition = Condition(severity="critical", period_seconds=60)
    cluster_yellow: Condition = Condition(period_seconds=60, evaluation_periods=5)
    jvm_memory_pressure_percent: Threshold = Threshold(value=85, evaluation_periods=3)
    # Of each data node's volume (AWS recommends alarming at 25 %).
    free_storage_percent: Threshold = Threshold(value=25, severity="critical", period_seconds=60)
    snapshot_failure: Condition = Condition(severity="critical", period_seconds=60)
    master_unreachable: Condition = Condition(severity="critical", period_seconds=60, evaluation_periods=3)


@dataclass(frozen=True)
class NatGatewayAlarms:
    """Alarms of each NAT gateway of :class:`~iworkz_constructs.vpc.Vpc`."""

    team: str = "infrastructure"
    port_allocation_errors_count: Threshold = Threshold(value=0)
    packets_dropped_count: Threshold = Threshold(value=100, evaluation_periods=3)


@dataclass(frozen=True)
class VpnAlarms:
    """Alarms of the AWS side of :class:`~iworkz_constructs.site_to_site_vpn.SiteToSiteVpn`."""

    team: str = "infrastructure"
    tunnel_down: Condition = Condition(period_seconds=300)
    all_tunnels_down: Condition = Condition(severity="critical", period_seconds=60, evaluation_periods=5)


@dataclass(frozen=True)
class NodeGroupAlarms:
    """Alarms of :class:`~iworkz_constructs.node_group.NodeGroup`: fewer nodes in service than desired."""

    team: str = "infrastructure"
    capacity_shortfall_count: Threshold = Threshold(value=0, evaluation_periods=3)


@dataclass(frozen=True)
class LoadBalancerAlarms:
    """Alarms of an Application Load Balancer and its target groups
    (:class:`~iworkz_constructs.load_balancer_alarms.LoadBalancerAlarmSet`).

    ``target_response_time_seconds`` is the 95th percentile (the design's HighAPILatency: 0.5 s).
    """

    team: str = "backend"
    elb_5xx_count: Threshold = Threshold(value=10, severity="critical", period_seconds=60, evaluation_periods=5)
    target_5xx_count: Threshold = Threshold(value=10, period_seconds=60, evaluation_periods=5)
    unhealthy_hosts_count: Threshold = Threshold(value=0, period_seconds=60, evaluation_periods=3)
    target_response_time_seconds: Threshold = Threshold(value=0.5, evaluation_periods=1)


@dataclass(frozen=True)
class FunctionAlarms:
    """Alarms of a :class:`~iworkz_constructs.python_function.PythonFunction`: events it failed to
    handle after Lambda's retries wait in its dead-letter queue (alerts not delivered, for the forwarder)."""

    team: str = "platform"
    failed_events_count: Threshold = Threshold(value=0, period_seconds=60)


# The settings class of each ``alarms`` section of the configuration.
ALARM_SETTINGS: dict[str, type[Any]] = {
    "postgres": PostgresAlarms,
    "redis": RedisAlarms,
    "opensearch": OpenSearchAlarms,
    "nat_gateways": NatGatewayAlarms,
    "vpn": VpnAlarms,
    "node_groups": NodeGroupAlarms,
    "load_balancer": LoadBalancerAlarms,
    "functions": FunctionAlarms,
}


def check_alerting(owner: str, actions: object | None, opt_out: str | None) -> None:
    """A resource alarms unless its caller says why not: exactly one of ``alarm_actions`` and ``alarms_opt_out``."""
    if (actions is None) == (opt_out is None):
        raise ValueError(f"{owner}: give alarm_actions (the alert topics), or alarms_opt_out with the reason")
