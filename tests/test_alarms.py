"""CloudWatch alarms on the synthesised stacks: every managed resource has its alarms, each alarm
notifies the alert topic of its severity, names a metric its service publishes, carries its team,
and every stack draws its alarms on its dashboard. The resources are found by walking the
stacks, never from a list: a new database, cache or load balancer without alarms fails here."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz.config import Settings, catalog
from iworkz.config.alarms import INSTANCE_CLASSES_FILE, METRICS_FILE, published_metrics
from iworkz_constructs.alarm_settings import SEVERITIES, PostgresAlarms
from iworkz_constructs.load_balancer_alarms import LoadBalancerAlarmSet
from tests.constructs.alerting import ACTIONS, environment_stacks
from tests.tf import data_sources, new_app, resources, synth_stack

StackJson = dict[str, Any]
Metric = tuple[str, str, dict[str, str]]
_TOPIC_FROM_CONTRACT = re.compile(
    r"^\$\{data\.terraform_remote_state\.alerts-(?P<env>[a-z0-9-]+)\.outputs\.alert_topic_arns\.(?P<severity>\w+)\}$"
)
_OWN_TOPIC = re.compile(r"^\$\{aws_sns_topic\.(?P<id>[\w-]+)\.arn\}$")


def alarms_of(doc: StackJson) -> dict[str, dict[str, Any]]:
    return resources(doc, "aws_cloudwatch_metric_alarm")


def metrics_of(alarm: Mapping[str, Any]) -> list[Metric]:
    """The metrics an alarm reads: its own, or those of its metric-math queries."""
    if "metric_name" in alarm:
        return [(alarm["namespace"], alarm["metric_name"], dict(alarm.get("dimensions") or {}))]
    queries = [q["metric"] for q in alarm["metric_query"] if q.get("metric")]
    return [(q["namespace"], q["metric_name"], dict(q.get("dimensions") or {})) for q in queries]


def alarmed_metrics(doc: StackJson, dimension: str, value: str) -> set[str]:
    """Names of the metrics alarmed on with ``dimension = value``."""
    return {
        name
        for alarm in alarms_of(doc).values()
        for _, name, dimensions in metrics_of(alarm)
        if dimensions.get(dimension) == value
    }


def _redis_nodes(body: Mapping[str, Any]) -> list[str]:
    rg = body["replication_group_id"]
    return [
        f"{rg}-{shard:04d}-{node:03d}"
        for shard in range(1, int(body["num_node_groups"]) + 1)
        for node in range(1, int(body["replicas_per_node_group"]) + 2)
    ]


def missing_alarms(doc: StackJson) -> Iterator[str]:
    """What each managed resource of the stack lacks, found by walking its resources and data sources."""

    def lacks(what: str, dimension: str, value: str, wanted: set[str]) -> Iterator[str]:
        gap = wanted - alarmed_metrics(doc, dimension, value)
        if gap:
            yield f"{what}: no alarm on {sorted(gap)}"

    for logical, db in resources(doc, "aws_db_instance").items():
        wanted = {"CPUUtilization", "FreeStorageSpace", "FreeableMemory", "DatabaseConnections"}
        wanted.add("ReplicaLag" if "replicate_source_db" in db else "ReplicationSlotDiskUsage")
        yield from lacks(f"aws_db_instance.{logical}", "DBInstanceIdentifier", db["identifier"], wanted)
    for logical, group in resources(doc, "aws_elasticache_replication_group").items():
        for node in _redis_nodes(group):
            wanted = {
                "DatabaseMemoryUsagePercentage",
                "Evictions",
                "EngineCPUUtilization",
                "ReplicationLag",
                "CurrConnections",
            }
            yield from lacks(f"aws_elasticache_replication_group.{logical} node {node}", "CacheClusterId", node, wanted)
    for logical, domain in resources(doc, "aws_opensearch_domain").items():
        wanted = {
            "ClusterStatus.red",
            "ClusterStatus.yellow",
            "JVMMemoryPressure",
            "FreeStorageSpace",
            "AutomatedSnapshotFailure",
        }
        if domain["cluster_config"].get("dedicated_master_enabled"):
            wanted.add("MasterReachableFromNode")
        yield from lacks(f"aws_opensearch_domain.{logical}", "DomainName", domain["domain_name"], wanted)
    for logical in resources(doc, "aws_nat_gateway"):
        nat = f"${{aws_nat_gateway.{logical}.id}}"
        yield from lacks(f"aws_nat_gateway.{logical}", "NatGatewayId", nat, {"ErrorPortAllocation", "PacketsDropCount"})
    for logical in resources(doc, "aws_vpn_connection"):
        yield from lacks(
            f"aws_vpn_connection.{logical}", "VpnId", f"${{aws_vpn_connection.{logical}.id}}", {"TunnelState"}
        )
    balancers = [(f"aws_lb.{k}", f"${{aws_lb.{k}.arn_suffix}}") for k in resources(doc, "aws_lb")]
    balancers += [(f"data.aws_lb.{k}", f"${{data.aws_lb.{k}.arn_suffix}}") for k in data_sources(doc, "aws_lb")]
    for what, suffix in balancers:
        wanted = {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount"}
        yield from lacks(what, "LoadBalancer", suffix, wanted)
    for logical in resources(doc, "aws_eks_node_group"):
        auto_scaling_group = f"${{aws_eks_node_group.{logical}.resources[0].autoscaling_groups[0].name}}"
        wanted = {"GroupDesiredCapacity", "GroupInServiceInstances"}
        yield from lacks(f"aws_eks_node_group.{logical}", "AutoScalingGroupName", auto_scaling_group, wanted)


def test_every_managed_resource_of_every_stack_has_its_alarms(synthesized: dict[str, StackJson]) -> None:
    counts = {
        kind: 0
        for kind in (
            "aws_db_instance",
            "aws_elasticache_replication_group",
            "aws_opensearch_domain",
            "aws_nat_gateway",
            "aws_vpn_connection",
            "aws_eks_node_group",
        )
    }
    problems = []
    for name, doc in synthesized.items():
        problems += [f"{name}: {problem}" for problem in missing_alarms(doc)]
        for kind in counts:
            counts[kind] += len(resources(doc, kind))
    assert not problems, "\n".join(problems)
    if len(synthesized) > 20:  # the whole app: the walk saw every kind of resource
        assert all(counts.values()), counts


def test_the_walk_finds_a_load_balancer_without_alarms_and_one_with() -> None:
    """The ALB is the Gateway's (the AWS Load Balancer Controller creates it): a stack that looks it
    up by its tags must alarm on it, and the walk tells the two apart."""
    stack = TerraformStack(new_app(), "edge-test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    LoadBalancerAlarmSet.tagged(
        stack,
        "gateway",
        name="iworkz-test-gateway",
        tags={"iworkz.io/gateway": "iworkz-test"},
        target_group_tags={"api": {"iworkz.io/route": "api"}},
        alarm_actions=ACTIONS,
    )
    from cdktf_cdktf_provider_aws.data_aws_lb import DataAwsLb

    DataAwsLb(stack, "unwatched", name="someone-elses-alb")
    problems = list(missing_alarms(synth_stack(stack)))
    assert len(problems) == 1 and problems[0].startswith("data.aws_lb.unwatched: no alarm on")


def test_every_alarm_notifies_the_topic_of_its_severity_when_it_fires_and_clears(
    synthesized: dict[str, StackJson], settings: Settings
) -> None:
    for name, doc in environment_stacks(synthesized):
        own_topics = {k: t["name"] for k, t in resources(doc, "aws_sns_topic").items()}
        for logical, alarm in alarms_of(doc).items():
            severity, team = alarm["tags"]["Severity"], alarm["tags"]["Team"]
            assert severity in SEVERITIES, (name, logical)
            environment = name.rsplit("-", 1)[-1]
            assert team in settings.environments[environment].monitoring.alert_teams, (name, logical, team)
            assert alarm["alarm_actions"] == alarm["ok_actions"] and len(alarm["alarm_actions"]) == 1, (name, logical)
            action = alarm["alarm_actions"][0]
            contract, own = _TOPIC_FROM_CONTRACT.match(action), _OWN_TOPIC.match(action)
            if contract:
                assert contract["env"] == environment and contract["severity"] == severity, (name, logical, action)
            else:
                assert own is not None, f"{name}: {logical} notifies {action}, not an alert topic"
                assert own_topics[own["id"]].endswith(f"-alerts-{severity}"), (name, logical)
            assert "insufficient_data_actions" not in alarm


def test_every_alarm_metric_is_one_its_service_publishes(synthesized: dict[str, StackJson]) -> None:
    catalog = published_metrics()
    seen = set()
    for name, doc in environment_stacks(synthesized):
        for logical, alarm in alarms_of(doc).items():
            for namespace, metric, dimensions in metrics_of(alarm):
                assert namespace in catalog, (name, logical, namespace)
                assert metric in catalog[namespace].metrics, f"{name}: {logical}: {namespace} publishes no {metric}"
                assert set(dimensions) <= catalog[namespace].dimensions, (name, logical, dimensions)
                seen.add(namespace)
    assert seen <= set(catalog)


def test_the_metric_catalog_is_dated_data_with_its_sources() -> None:
    metric_tables = catalog.tables(METRICS_FILE)
    assert len(published_metrics()) == len(metric_tables)  # one namespace per table
    for entry in [*metric_tables, *catalog.tables(INSTANCE_CLASSES_FILE)]:
        assert isinstance(entry.checked, datetime.date), entry.name
        assert "docs.aws.amazon.com" in entry.source, entry.name
    assert catalog.values(INSTANCE_CLASSES_FILE, "rds_instance_memory_gib")["db.r6g.xlarge"] == 32


def test_each_stack_draws_its_alarms_on_its_dashboard(synthesized: dict[str, StackJson]) -> None:
    for name, doc in environment_stacks(synthesized):
        alarms = alarms_of(doc)
        dashboards = resources(doc, "aws_cloudwatch_dashboard")
        if not alarms:
            assert not dashboards, name
            continue
        ((_, dashboard),) = dashboards.items()
        body = dashboard["dashboard_body"]
        environment, component = name.rsplit("-", 1)[-1], name.rsplit("-", 1)[0]
        assert dashboard["dashboard_name"] == f"iworkz-{environment}-{component}"
        for logical, alarm in alarms.items():
            assert f"aws_cloudwatch_metric_alarm.{logical}.arn" in body, (name, logical)
            assert alarm["alarm_name"] in body, (name, logical)
        assert body.count('"type" = "metric"') == len(alarms), name


def _alarm(doc: StackJson, alarm_name: str) -> dict[str, Any]:
    (alarm,) = [a for a in alarms_of(doc).values() if a["alarm_name"] == alarm_name]
    return alarm


def test_thresholds_and_severities_come_from_each_environments_configuration(stack: Callable[[str], StackJson]) -> None:
    production, dev = stack("data-production"), stack("data-dev")
    defaults = PostgresAlarms()
    cpu = _alarm(production, "iworkz-production-postgres-cpu")
    assert cpu["threshold"] == defaults.cpu_percent.value and cpu["period"] == defaults.cpu_percent.period_seconds
    storage = _alarm(production, "iworkz-production-postgres-free-storage")
    assert (
        storage["threshold"] == defaults.free_storage_gb.value * 1024**3 and storage["tags"]["Severity"] == "critical"
    )
    # config/dev.yaml: a smaller disk, a burstable CPU, and nobody paged (alarms.paging: false).
    assert _alarm(dev, "iworkz-dev-postgres-free-storage")["threshold"] == 4 * 1024**3
    assert _alarm(dev, "iworkz-dev-postgres-cpu")["threshold"] == 90
    assert {a["tags"]["Severity"] for a in alarms_of(dev).values()} == {"warning"}
    assert "critical" in {a["tags"]["Severity"] for a in alarms_of(production).values()}


def test_connections_and_memory_are_fractions_of_the_instance_class(stack: Callable[[str], StackJson]) -> None:
    production = stack("data-production")  # db.r6g.xlarge: 32 GiB, max_connections LEAST(32 GiB / 9531392, 5000)
    assert _alarm(production, "iworkz-production-postgres-connections")["threshold"] == int(3604 * 0.8)
    assert _alarm(production, "iworkz-production-postgres-freeable-memory")["threshold"] == round(32 * 1024**3 * 0.1)


@pytest.mark.parametrize("environment", ["production", "staging", "dev"])
def test_redis_alarms_follow_the_configured_shards_and_replicas(
    stack: Callable[[str], StackJson], settings: Settings, environment: str
) -> None:
    doc = stack(f"data-{environment}")
    redis = settings.environments[environment].data.redis
    nodes = {
        dims["CacheClusterId"]
        for alarm in alarms_of(doc).values()
        for namespace, _, dims in metrics_of(alarm)
        if namespace == "AWS/ElastiCache"
    }
    assert len(nodes) == redis.shards * (redis.replicas_per_shard + 1)


@pytest.mark.parametrize("environment", ["production", "staging", "dev"])
def test_the_gateways_alb_alarms_find_the_target_groups_the_workloads_tag(
    stack: Callable[[str], StackJson], environment: str
) -> None:
    """The controller builds the ALB's target groups from the workloads' TargetGroupConfigurations;
    the edge stack finds each by the tags those give it, so every public host's targets are watched."""
    edge, workloads = stack(f"edge-{environment}"), stack(f"workloads-{environment}")
    configured = {
        manifest["manifest"]["spec"]["targetReference"]["name"]: manifest["manifest"]["spec"]["defaultConfiguration"]
        for manifest in resources(workloads, "kubernetes_manifest").values()
        if manifest["manifest"]["kind"] == "TargetGroupConfiguration"
    }
    looked_up = {k: body["tags"] for k, body in data_sources(edge, "aws_lb_target_group").items()}
    assert sorted(tags["iworkz.io/service"] for tags in looked_up.values()) == sorted(configured)
    for service, config in configured.items():
        assert config["tags"] in looked_up.values(), service
    unhealthy = {
        alarm["dimensions"]["TargetGroup"]
        for alarm in alarms_of(edge).values()
        if alarm.get("metric_name") == "UnHealthyHostCount"
    }
    assert unhealthy == {f"${{data.aws_lb_target_group.{k}.arn_suffix}}" for k in looked_up}


@pytest.mark.parametrize("environment", ["production", "staging", "dev"])
def test_the_dr_subscription_pages_before_the_database_rpo_or_a_full_disk(
    stack: Callable[[str], StackJson], settings: Settings, environment: str
) -> None:
    env = settings.environments[environment]
    alarms = alarms_of(stack(f"data-{environment}"))
    primary = f"iworkz-{environment}-postgres"
    names = {
        f"{primary}-replication-slot-lag": "OldestReplicationSlotLag",
        f"{primary}-transaction-logs-disk": "TransactionLogsDiskUsage",
    }
    found = {a["alarm_name"]: a for a in alarms.values() if a["alarm_name"] in names}
    if not env.dr_azure.enabled:
        assert not found  # no subscriber, no slot to watch
        return
    assert set(found) == set(names)
    rpo_seconds = env.dr_azure.recovery.database_rpo_minutes * 60
    free_storage = _alarm(stack(f"data-{environment}"), f"{primary}-free-storage")["threshold"]
    allocated = env.data.postgres.allocated_storage_gb * 1024**3
    for name, metric in names.items():
        alarm = found[name]
        assert (alarm["metric_name"], alarm["dimensions"]) == (metric, {"DBInstanceIdentifier": primary})
        assert (alarm["tags"]["Severity"], alarm["tags"]["Team"]) == ("critical", "database")
        assert alarm["comparison_operator"] == "GreaterThanThreshold"
        assert 0 < alarm["threshold"] < allocated - free_storage
    lag = found[f"{primary}-replication-slot-lag"]
    assert lag["period"] * lag["evaluation_periods"] < rpo_seconds
