"""monitoring-<env>: Helm releases, the seed's scrape jobs, alerts and dashboard, traces, logs, exporters."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from iworkz.app import HELM_VALUES_DIR
from iworkz.charts import CHARTS as ALL_CHARTS
from iworkz.config import ConfigError, load_settings
from iworkz.contracts import OPENSEARCH_ADMIN_NAMESPACE, OPENSEARCH_ADMIN_SERVICE_ACCOUNT
from iworkz.errors import UserError
from iworkz.helm_values import load_values
from iworkz.monitoring_values import (
    DASHBOARD_FILE,
    NAMESPACE,
    REQUIRED_KEYS,
    alertmanager_config,
    check_service_ports,
    ism_policies,
    load_dashboard,
    receiver_names,
)
from iworkz_constructs.helm_chart import HelmChartProps
from tests.configs import write_config
from tests.tf import outputs, policy_json, resources

ENV = "production"
STACK = f"monitoring-{ENV}"
EKS_STATE = "data.terraform_remote_state.eks-production"
DATA_STATE = "data.terraform_remote_state.data-production"
CHARTS = {release: ALL_CHARTS[release] for release in REQUIRED_KEYS}

# Seed 12.5 prometheus-alert-rules: name -> (expr, for, severity, team, summary).
SEED_ALERTS = {
    "ServiceDown": ("up == 0", "1m", "critical", "platform", "サービス {{ $labels.instance }} がダウンしています"),
    "HighAPILatency": (
        "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 0.5",
        "5m",
        "warning",
        "backend",
        "高いAPIレイテンシが検出されました",
    ),
    "HighErrorRate": (
        'rate(http_requests_total{status=~"5.."}[5m]) / rate(http_requests_total[5m]) > 0.05',
        "5m",
        "critical",
        "backend",
        "高いエラー率が検出されました",
    ),
    "DatabaseConnectionsHigh": (
        "pg_stat_database_numbackends / pg_settings_max_connections * 100 > 80",
        "5m",
        "warning",
        "database",
        "データベース接続使用率が高いです",
    ),
    "HighMemoryUsage": (
        "(1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100 > 85",
        "10m",
        "warning",
        "infrastructure",
        "高いメモリ使用率",
    ),
    "HighDiskUsage": (
        "(1 - (node_filesystem_avail_bytes / node_filesystem_size_bytes)) * 100 > 85",
        "5m",
        "warning",
        "infrastructure",
        "高いディスク使用率",
    ),
    "HighCPUUsage": (
        '100 - (avg by(instance) (irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 85',
        "10m",
        "warning",
        "infrastructure",
        "高いCPU使用率",
    ),
    "PodCrashLooping": (
        "rate(kube_pod_container_status_restarts_total[15m]) > 0",
        "5m",
        "critical",
        "platform",
        "ポッドがクラッシュループしています",
    ),
    "AIModelInferenceLatency": (
        "histogram_quantile(0.95, rate(ai_model_inference_duration_seconds_bucket[5m])) > 2.0",
        "3m",
        "warning",
        "ai",
        "AIモデル推論のレイテンシが高いです",
    ),
    "AIModelAccuracyDrop": ("ai_model_accuracy < 0.85", "10m", "critical", "ai", "AIモデルの精度が低下しました"),
}
# Seed 12.5 scrape_configs of the applications and exporters: job -> (service, port, interval).
SEED_JOBS = {
    "backend-api": ("backend-api-service", 9090, "10s"),
    "ai-services": ("ai-services-service", 9090, "15s"),
    "web-frontend": ("web-frontend-service", 9090, "30s"),
    "postgres-exporter": ("postgres-exporter", 9187, None),
    "redis-exporter": ("redis-exporter", 9121, None),
}
PINNED = re.compile(r"^\d+\.\d+\.\d+$")


@pytest.fixture(scope="module")
def doc(stack) -> dict[str, Any]:
    return stack(STACK)


def release(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [body for body in resources(doc, "helm_release").values() if body["name"] == name]
    assert len(found) == 1, f"expected one helm_release {name}"
    return found[0]


_PARSED: dict[tuple[int, str], dict[str, Any]] = {}


def values(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The release's values document, parsed (once per synthesised stack)."""
    key = (id(doc), name)
    if key not in _PARSED:
        body = release(doc, name)
        assert len(body["values"]) == 1, "values are one YAML document"
        parsed = yaml.safe_load(body["values"][0])
        assert isinstance(parsed, dict)
        _PARSED[key] = parsed
    return _PARSED[key]


def manifest(doc: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for body in resources(doc, "kubernetes_manifest").values():
        if body["manifest"]["kind"] == kind and body["manifest"]["metadata"]["name"] == name:
            return body["manifest"]
    raise AssertionError(f"no {kind} {name}")


def config_map(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [b for b in resources(doc, "kubernetes_config_map_v1").values() if b["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one ConfigMap {name}"
    return found[0]


def strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in strings(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [item for index, value in enumerate(node) for item in strings(value, f"{path}[{index}]")]
    return [(path, node)] if isinstance(node, str) else []


# --- releases and providers -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_release_is_pinned_and_atomic_in_monitoring(doc, name: str) -> None:
    body = release(doc, name)
    chart = CHARTS[name]
    assert body["chart"] == chart.chart
    assert body["repository"] == chart.repository
    assert body["repository"].startswith("https://")
    assert body["version"] == chart.version
    assert PINNED.match(body["version"])
    assert body["namespace"] == "monitoring"
    assert body["create_namespace"] is False
    assert body["atomic"] is True
    assert body["cleanup_on_fail"] is True
    assert body["timeout"] >= 600
    assert "kubernetes_namespace_v1.namespace" in body["depends_on"]


def test_chart_sources() -> None:
    community = "https://prometheus-community.github.io/helm-charts"
    assert CHARTS["kube-prometheus-stack"].repository == community
    assert CHARTS["prometheus-postgres-exporter"].repository == community
    assert CHARTS["jaeger"].repository == "https://jaegertracing.github.io/helm-charts"
    assert CHARTS["fluent-bit"].repository == "https://fluent.github.io/helm-charts"


def test_namespace_is_a_kubernetes_resource(doc) -> None:
    namespaces = resources(doc, "kubernetes_namespace_v1")
    assert [n["metadata"]["name"] for n in namespaces.values()] == ["monitoring", "opensearch-setup"]


def test_providers_use_eks_outputs_and_exec_token(doc) -> None:
    kubernetes = doc["provider"]["kubernetes"][0]
    helm = doc["provider"]["helm"][0]["kubernetes"]
    for config in (kubernetes, helm):
        assert config["host"].startswith(f"${{{EKS_STATE}.outputs.")
        assert config["cluster_ca_certificate"].startswith(f"${{base64decode({EKS_STATE}.outputs.")
        assert "config_path" not in config and "token" not in config
    exec_blocks = [kubernetes["exec"][0], helm["exec"]]
    for block in exec_blocks:
        assert block["api_version"] == "client.authentication.k8s.io/v1beta1"
        assert block["command"] == "aws"
        assert block["args"][:3] == ["eks", "get-token", "--cluster-name"]
        assert block["args"][3].startswith(f"${{{EKS_STATE}.outputs.")
        assert block["args"][4:] == ["--region", "ap-northeast-1"]
    assert doc["provider"]["aws"][0]["region"] == "ap-northeast-1"


def test_storage_class_gp3_encrypted(doc, settings) -> None:
    (storage_class,) = resources(doc, "kubernetes_storage_class_v1").values()
    assert storage_class["metadata"]["name"] == settings.environments[ENV].monitoring.storage_class
    assert storage_class["storage_provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"]["type"] == "gp3"
    assert storage_class["parameters"]["encrypted"] == "true"


# --- Prometheus ---------------------------------------------------------------------------------


def test_prometheus_global_settings(doc, settings) -> None:
    spec = values(doc, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    monitoring = settings.environments[ENV].monitoring
    assert spec["scrapeInterval"] == "15s"
    assert spec["evaluationInterval"] == "15s"
    assert spec["externalLabels"] == {"cluster": f"iworkz-{ENV}", "region": "ap-northeast-1"}
    assert spec["retention"] == monitoring.prometheus_retention
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == monitoring.storage_class
    assert claim["resources"]["requests"]["storage"] == f"{monitoring.prometheus_storage_gb}Gi"


def test_seed_scrape_jobs_with_resolvable_targets(doc) -> None:
    jobs = {
        job["job_name"]: job
        for job in values(doc, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
    }
    for job, (service, port, interval) in SEED_JOBS.items():
        namespace = "monitoring" if job.endswith("-exporter") else f"iworkz-{ENV}"
        assert jobs[job]["static_configs"] == [{"targets": [f"{service}.{namespace}.svc:{port}"]}]
        assert jobs[job].get("scrape_interval") == interval
    pods = jobs["kubernetes-pods"]
    assert pods["kubernetes_sd_configs"] == [{"role": "pod"}]
    assert pods["relabel_configs"][0]["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]


def test_kubernetes_jobs_covered_by_chart_monitors(doc) -> None:
    kps = values(doc, "kube-prometheus-stack")
    assert kps["kubeApiServer"]["enabled"] is True  # seed kubernetes-apiservers
    assert kps["kubelet"]["enabled"] is True  # seed kubernetes-nodes
    assert kps["nodeExporter"]["enabled"] is True
    assert kps["kubeStateMetrics"]["enabled"] is True  # PodCrashLooping's metric


def named(doc: dict[str, Any], resource_type: str, name: str) -> dict[str, Any]:
    """The one resource of a type whose Kubernetes metadata.name is ``name``."""
    (found,) = [r for r in resources(doc, resource_type).values() if r["metadata"]["name"] == name]
    return found


def test_exporters_resolve_as_seed_targets(doc) -> None:
    postgres = values(doc, "prometheus-postgres-exporter")
    assert (postgres["fullnameOverride"], postgres["service"]["port"]) == ("postgres-exporter", 9187)
    redis = named(doc, "kubernetes_service_v1", "redis-exporter")
    assert redis["metadata"]["namespace"] == "monitoring"
    assert redis["spec"]["port"][0]["port"] == 9121


def test_exporters_read_data_stack_endpoints_and_secrets(doc) -> None:
    postgres = values(doc, "prometheus-postgres-exporter")["config"]["datasource"]
    assert postgres["host"].startswith(f"${{{DATA_STATE}.outputs.")
    assert postgres["port"] == "5432"
    assert not postgres.get("password")
    secret = postgres["passwordSecret"]["name"]
    assert postgres["userSecret"]["name"] == secret
    external = manifest(doc, "ExternalSecret", secret)
    assert external["spec"]["target"]["name"] == secret
    # postgres_exporter's own role (pg_monitor), not the RDS master user.
    (password,) = external["spec"]["data"]
    assert password["remoteRef"]["key"] == f"${{{DATA_STATE}.outputs.postgres_monitoring_password_secret_arn}}"
    assert external["spec"]["target"]["template"]["data"] == {
        "username": "iworkz_monitoring",
        "password": "{{ .password }}",
    }

    # Redis: the data stack's connection secret, as the read-only "monitoring" user; no password exists.
    pod = named(doc, "kubernetes_deployment_v1", "redis-exporter")["spec"]["template"]["spec"]
    exporter_env = {item["name"]: item for item in pod["container"][0]["env"]}
    assert exporter_env["REDIS_EXPORTER_DISABLE_SCRAPE_ENDPOINT"]["value"] == "true"
    assert exporter_env["REDIS_ADDR"]["value"] == "rediss://$(REDIS_HOST):$(REDIS_PORT)"
    secret = exporter_env["REDIS_HOST"]["value_from"]["secret_key_ref"]["name"]
    refs = {d["secretKey"]: d["remoteRef"] for d in manifest(doc, "ExternalSecret", secret)["spec"]["data"]}
    assert {key: ref["property"] for key, ref in refs.items()} == {
        "host": "host",
        "port": "port",
        "user": "users.monitoring",
        "replication_group_id": "replication_group_id",
    }
    (secret_arn,) = {ref["key"] for ref in refs.values()}
    assert secret_arn == f"${{{DATA_STATE}.outputs.redis_secret_arn}}"


def test_redis_exporter_connects_with_its_own_role_as_the_metrics_user(doc, stack) -> None:
    """IRSA role of monitoring/redis-exporter: elasticache:Connect as the data stack's "monitoring" user only."""
    role_ref = role_arn_reference(doc, "redis-exporter")
    account = named(doc, "kubernetes_service_account_v1", "redis-exporter")
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role_ref}
    logical_id = role_ref.split(".")[1]
    (policy,) = [
        p for p in resources(doc, "aws_iam_role_policy").values() if p["role"] == f"${{aws_iam_role.{logical_id}.id}}"
    ]
    (statement,) = policy_json(doc, policy["policy"])["Statement"]
    assert statement["Action"] == "elasticache:Connect"
    group, user = statement["Resource"]
    assert group == f"${{{DATA_STATE}.outputs.redis_arn}}"
    assert user == f"${{{DATA_STATE}.outputs.redis_user_arns.monitoring}}"
    # ... which the data stack publishes from its replication group and its metrics user.
    published = outputs(stack("data-production"))
    assert published["redis_arn"]["value"].startswith("${aws_elasticache_replication_group.")
    assert published["redis_user_arns"]["value"]["monitoring"].startswith(
        "${aws_elasticache_user.redis_user-monitoring"
    )
    # ... and that user is read-only in the data stack: no key access, no write commands.
    data_users = resources(stack("data-production"), "aws_elasticache_user")
    (metrics_user,) = [u for u in data_users.values() if u["user_name"].endswith("-redis-monitoring")]
    assert metrics_user["authentication_mode"] == {"type": "iam"}
    access = metrics_user["access_string"].split()
    assert access[:2] == ["on", "-@all"] and not any(rule.startswith(("~", "%", "&")) for rule in access)
    # @connection would allow CLIENT KILL/PAUSE: taken back before the single commands are added.
    assert access.index("-@admin") > access.index("+@connection") and "-@dangerous" in access
    assert "+client|list" not in access


# --- alerts -------------------------------------------------------------------------------------


def rules(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    groups = values(doc, "kube-prometheus-stack")["additionalPrometheusRulesMap"]["iworkz-rules"]["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


def test_all_ten_seed_alerts(doc) -> None:
    found = rules(doc)
    assert set(found) == set(SEED_ALERTS)
    for name, (expr, duration, severity, team, summary) in SEED_ALERTS.items():
        rule = found[name]
        assert rule["expr"] == expr, name
        assert rule["for"] == duration, name
        assert rule["labels"] == {"severity": severity, "team": team}, name
        assert rule["annotations"]["summary"] == summary, name
        assert re.search(r"[\u3040-\u30ff]", rule["annotations"]["description"]), name


@pytest.mark.parametrize("name", sorted(SEED_ALERTS))
def test_alert_expression_parses_as_promql(doc, name: str) -> None:
    parsed = promql_parser.parse(rules(doc)[name]["expr"])
    assert parsed is not None


def test_alertmanager_routes_by_severity_and_team_with_urls_from_secret(doc, settings) -> None:
    kps = values(doc, "kube-prometheus-stack")
    config = kps["alertmanager"]["config"]
    teams = settings.environments[ENV].monitoring.alert_teams
    assert {"severity", "team"} <= set(config["route"]["group_by"])
    routed = {route["receiver"]: route["matchers"] for route in config["route"]["routes"]}
    assert routed["critical"] == ['severity = "critical"']
    for team in teams:
        assert routed[team] == [f'team = "{team}"']
    secret = kps["alertmanager"]["alertmanagerSpec"]["secrets"][0]
    webhooks = {r["name"]: r["webhook_configs"] for r in config["receivers"] if "webhook_configs" in r}
    assert set(webhooks) == set(receiver_names(teams))
    for name, hooks in webhooks.items():
        assert hooks[0]["url_file"] == f"/etc/alertmanager/secrets/{secret}/{name}"
        assert "url" not in hooks[0]
    external = manifest(doc, "ExternalSecret", secret)
    assert {d["secretKey"] for d in external["spec"]["data"]} == set(webhooks)
    webhook_secret = next(
        s for s in resources(doc, "aws_secretsmanager_secret").values() if s["name"].endswith("alertmanager-webhooks")
    )
    assert "aws_secretsmanager_secret_version" not in json.dumps(webhook_secret)


# --- Grafana ------------------------------------------------------------------------------------


def test_grafana_admin_password_from_existing_secret(doc) -> None:
    grafana = values(doc, "kube-prometheus-stack")["grafana"]
    secret = grafana["admin"]["existingSecret"]
    assert "adminPassword" not in grafana
    external = manifest(doc, "ExternalSecret", secret)
    template = external["spec"]["target"]["template"]["data"]
    assert set(template) == {grafana["admin"]["userKey"], grafana["admin"]["passwordKey"]}
    assert external["spec"]["data"][0]["remoteRef"]["key"].startswith("${aws_secretsmanager_secret.")
    versions = resources(doc, "aws_secretsmanager_secret_version")
    assert all("secret_string" not in v and v.get("secret_string_wo") for v in versions.values())
    assert grafana["defaultDashboardsTimezone"] == "Asia/Tokyo"


def test_seed_dashboard_provisioned_through_sidecar(doc) -> None:
    sidecar = values(doc, "kube-prometheus-stack")["grafana"]["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    dashboards = [
        b
        for b in resources(doc, "kubernetes_config_map_v1").values()
        if b["metadata"].get("labels", {}).get(sidecar["label"]) == sidecar["labelValue"]
    ]
    assert len(dashboards) == 1
    assert dashboards[0]["metadata"]["namespace"] == "monitoring"
    dashboard = json.loads(dashboards[0]["data"]["iworkz-overview.json"])
    assert dashboard["title"] == "iWORKZ プラットフォーム概要"
    assert dashboard["timezone"] == "Asia/Tokyo"
    assert dashboard["refresh"] == "30s"
    assert len(dashboard["panels"]) == 8
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert promql_parser.parse(target["expr"]) is not None


# --- traces and logs ----------------------------------------------------------------------------


def role_arn_reference(doc: dict[str, Any], service_account: str) -> str:
    subject = f"system:serviceaccount:monitoring:{service_account}"
    for logical_id, role in resources(doc, "aws_iam_role").items():
        for statement in policy_json(doc, role["assume_role_policy"])["Statement"]:
            claims = (statement.get("Condition") or {}).get("StringEquals") or {}
            if statement["Action"] == "sts:AssumeRoleWithWebIdentity" and subject in claims.values():
                return f"${{aws_iam_role.{logical_id}.arn}}"
    raise AssertionError(f"no IRSA role for monitoring/{service_account}")


def test_jaeger_stores_in_data_opensearch_with_irsa(doc) -> None:
    jaeger = values(doc, "jaeger")
    assert jaeger["jaeger"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role_arn_reference(
        doc, "jaeger"
    )
    config = jaeger["userconfig"]
    backend = config["extensions"]["jaeger_storage"]["backends"]["primary_store"]["opensearch"]
    assert len(backend["server_urls"]) == 1
    assert backend["server_urls"][0].startswith(f"https://${{{DATA_STATE}.outputs.")
    assert backend["auth_extension"]["authenticator"] == "sigv4auth"
    assert config["extensions"]["sigv4auth"] == {"service": "es", "region": "ap-northeast-1"}
    assert "sigv4auth" in config["service"]["extensions"]
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")


def test_fluent_bit_daemonset_ships_to_opensearch_with_sigv4(doc) -> None:
    fluent_bit = values(doc, "fluent-bit")
    assert fluent_bit["kind"] == "DaemonSet"
    assert fluent_bit["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role_arn_reference(
        doc, "fluent-bit"
    )
    env = {item["name"]: item["value"] for item in fluent_bit["env"]}
    assert env["OPENSEARCH_HOST"].startswith(f"${{{DATA_STATE}.outputs.")
    assert env["AWS_REGION"] == "ap-northeast-1"
    outputs_conf = fluent_bit["config"]["outputs"]
    assert "Name opensearch" in outputs_conf
    assert "AWS_Auth On" in outputs_conf
    # Fluent Bit's own ${VAR} references reach the chart escaped from Terraform interpolation.
    assert "Host $${OPENSEARCH_HOST}" in release(doc, "fluent-bit")["values"][0]


@pytest.mark.parametrize("service_account", ["jaeger", "fluent-bit"])
def test_workload_roles_limited_to_the_opensearch_domain(doc, service_account: str) -> None:
    role_ref = role_arn_reference(doc, service_account)
    logical_id = role_ref.split(".")[1]
    (policy,) = [
        p for p in resources(doc, "aws_iam_role_policy").values() if p["role"] == f"${{aws_iam_role.{logical_id}.id}}"
    ]
    statements = policy_json(doc, policy["policy"])["Statement"]
    for statement in statements:
        assert all(action.startswith("es:ESHttp") for action in statement["Action"])
        domain = statement["Resource"][0]
        assert domain.startswith(f"${{{DATA_STATE}.outputs.")
        assert statement["Resource"] == [domain, f"{domain}/*"]


def setup_config(doc: dict[str, Any]) -> dict[str, Any]:
    """The document the OpenSearch setup Job applies (its ConfigMap's config.json)."""
    return json.loads(config_map(doc, "opensearch-bootstrap")["data"]["config.json"])


def test_log_retention_ism_policy(doc, settings) -> None:
    monitoring = settings.environments[ENV].monitoring
    policies = setup_config(doc)["ism_policies"]
    logs = policies["iworkz-logs"]["policy"]
    states = {state["name"]: state for state in logs["states"]}
    assert list(states) == ["hot", "warm", "cold", "delete"]
    assert states["hot"]["transitions"] == [{"state_name": "warm", "conditions": {"min_index_age": "30d"}}]
    (warm_action,) = states["warm"]["actions"]
    assert warm_action["warm_migration"] == {}
    assert warm_action["timeout"] == "24h" and warm_action["retry"]["count"] == 5
    assert states["warm"]["transitions"][0]["conditions"]["min_index_age"] == "365d"
    assert states["cold"]["actions"][0]["cold_migration"]["timestamp_field"] == "@timestamp"
    assert states["cold"]["transitions"] == [{"state_name": "delete", "conditions": {"min_index_age": "2555d"}}]
    assert states["delete"]["actions"] == [{"cold_delete": {}}]
    assert logs["ism_template"][0]["index_patterns"] == ["logs-*"]
    assert (monitoring.log_hot_days, monitoring.log_warm_days, monitoring.log_cold_days) == (30, 365, 2555)
    traces = policies["iworkz-traces"]["policy"]
    assert traces["ism_template"][0]["index_patterns"] == ["jaeger-*"]
    assert traces["states"][0]["transitions"][0]["conditions"]["min_index_age"] == f"{monitoring.trace_retention_days}d"


def test_log_policy_follows_the_domain_tiers(stack, settings) -> None:
    """dev's domain has no UltraWarm or cold storage: logs stay hot and are deleted at the same age."""
    dev = settings.environments["dev"]
    assert dev.data.opensearch.warm_count == 0
    logs = setup_config(stack("monitoring-dev"))["ism_policies"]["iworkz-logs"]["policy"]
    assert [state["name"] for state in logs["states"]] == ["hot", "delete"]
    assert logs["states"][0]["transitions"][0]["conditions"]["min_index_age"] == f"{dev.monitoring.log_cold_days}d"
    assert logs["states"][1]["actions"] == [{"delete": {}}]


@pytest.mark.parametrize(
    ("warm", "cold", "tiers", "deleted_by"),
    [
        (True, True, ["hot", "warm", "cold"], "cold_delete"),
        (True, False, ["hot", "warm"], "delete"),
        (False, False, ["hot"], "delete"),
    ],
)
def test_ism_tiers(settings, warm: bool, cold: bool, tiers: list[str], deleted_by: str) -> None:
    config = settings.environments[ENV].monitoring
    states = ism_policies(config, warm, cold)["iworkz-logs"]["policy"]["states"]
    assert [state["name"] for state in states] == [*tiers, "delete"]
    assert list(states[-1]["actions"][0]) == [deleted_by]
    # Whatever the tiers, the last one ends at the seed's total retention.
    assert states[-2]["transitions"][0]["conditions"]["min_index_age"] == f"{config.log_cold_days}d"


def test_writers_are_mapped_to_their_own_opensearch_roles(doc) -> None:
    setup = setup_config(doc)
    for account, role, indices in (
        ("fluent-bit", "iworkz_log_writer", "logs-*"),
        ("jaeger", "iworkz_trace_writer", "jaeger-*"),
    ):
        assert setup["role_mappings"][role] == {"backend_roles": [role_arn_reference(doc, account)]}
        (permissions,) = setup["roles"][role]["index_permissions"]
        assert permissions["index_patterns"] == [indices]
        assert "indices_all" not in permissions["allowed_actions"]
    assert set(setup["role_mappings"]) == {"iworkz_log_writer", "iworkz_trace_writer"}


def test_setup_job_runs_as_the_domain_master_before_the_writers(doc) -> None:
    account = named(doc, "kubernetes_service_account_v1", "opensearch-bootstrap")
    master = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert master == f"${{{DATA_STATE}.outputs.opensearch_master_role_arn}}"
    (job_id, job), *more = resources(doc, "kubernetes_job_v1").items()
    assert not more and job["wait_for_completion"] is True
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["container"][0]["env"]}
    assert env["OPENSEARCH_ENDPOINT"].startswith(f"${{{DATA_STATE}.outputs.")
    for writer in ("jaeger", "fluent-bit"):
        assert f"kubernetes_job_v1.{job_id}" in release(doc, writer)["depends_on"]


def test_setup_job_runs_alone_in_the_namespace_the_data_stack_trusts(doc) -> None:
    """The master role trusts system:serviceaccount:opensearch-setup:opensearch-bootstrap (stacks/data.py)."""
    assert OPENSEARCH_ADMIN_NAMESPACE != NAMESPACE
    namespace = named(doc, "kubernetes_namespace_v1", OPENSEARCH_ADMIN_NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    account = named(doc, "kubernetes_service_account_v1", OPENSEARCH_ADMIN_SERVICE_ACCOUNT)
    assert account["metadata"]["namespace"] == OPENSEARCH_ADMIN_NAMESPACE
    in_setup_namespace = [
        (resource_type, body["metadata"]["name"])
        for resource_type in ("kubernetes_deployment_v1", "kubernetes_job_v1", "kubernetes_service_account_v1")
        for body in resources(doc, resource_type).values()
        if body["metadata"].get("namespace") == OPENSEARCH_ADMIN_NAMESPACE
    ]
    assert [kind for kind, _ in in_setup_namespace] == ["kubernetes_job_v1", "kubernetes_service_account_v1"]


# --- secrets and outputs ------------------------------------------------------------------------

# Keys holding a credential itself (``existingSecret``/``passwordSecret`` only name a Secret).
SECRET_KEY = re.compile(r"(password|passwd|token|api_?key)$", re.IGNORECASE)
SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|hooks\.slack\.com|-----BEGIN|https://[^/\s]+@)")


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_no_secret_literal_in_values(doc, name: str) -> None:
    for path, value in strings(values(doc, name)):
        leaf = path.rsplit(".", 1)[-1]
        assert not (SECRET_KEY.search(leaf) and value), f"{name}: {path} holds a literal secret"
        assert not SECRET_VALUE.search(value), f"{name}: {path} looks like a credential"


def test_outputs(doc) -> None:
    out = outputs(doc)
    assert out["grafana_service_name"]["value"] == "kube-prometheus-stack-grafana"
    assert out["prometheus_service_name"]["value"] == "kube-prometheus-stack-prometheus"
    # The services send to the platform's OpenTelemetry Collector, which forwards to Jaeger and X-Ray.
    assert out["otlp_endpoint"]["value"] == "http://otel-collector.opentelemetry.svc:4317"
    assert values(doc, "jaeger")["fullnameOverride"] == "jaeger"


# --- bad input (no synthesis) -------------------------------------------------------------------


def _copy_values(tmp_path: Path) -> Path:
    target = tmp_path / "helm_values"
    shutil.copytree(HELM_VALUES_DIR, target)
    return target


@pytest.mark.parametrize("release_name", sorted(REQUIRED_KEYS))
def test_static_values_have_the_keys_the_stack_expects(release_name: str) -> None:
    assert isinstance(load_values(release_name, REQUIRED_KEYS[release_name]), dict)


def test_fails_values_key_missing(tmp_path: Path) -> None:
    directory = _copy_values(tmp_path)
    path = directory / "kube-prometheus-stack.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["prometheus"]["prometheusSpec"]["scrapeInterval"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError) as error:
        load_values("kube-prometheus-stack", REQUIRED_KEYS["kube-prometheus-stack"], directory=directory)
    message = str(error.value)
    assert "kube-prometheus-stack.yaml: prometheus.prometheusSpec.scrapeInterval = None" in message
    assert "is required by the stack" in message


def test_fails_values_file_invalid_yaml(tmp_path: Path) -> None:
    directory = _copy_values(tmp_path)
    (directory / "jaeger.yaml").write_text("userconfig:\n  service: [a, b\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"jaeger\.yaml: line \d+, column \d+.*\n  rule: must be valid YAML"):
        load_values("jaeger", REQUIRED_KEYS["jaeger"], directory=directory)


def test_fails_values_file_not_a_mapping(tmp_path: Path) -> None:
    directory = _copy_values(tmp_path)
    (directory / "fluent-bit.yaml").write_text("- kind: DaemonSet\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"fluent-bit\.yaml: \(document\).*\n  rule: must be a YAML mapping"):
        load_values("fluent-bit", REQUIRED_KEYS["fluent-bit"], directory=directory)


@pytest.mark.parametrize("version", ["^88.5.3", "latest", "", "88.x", ">=88.0.0"])
def test_fails_unpinned_chart_version(version: str) -> None:
    chart = CHARTS["kube-prometheus-stack"]
    with pytest.raises(UserError) as error:
        HelmChartProps(
            release_name="kube-prometheus-stack",
            chart=chart.chart,
            repository=chart.repository,
            version=version,
            namespace="monitoring",
            source="stacks/monitoring.py: CHARTS['kube-prometheus-stack']",
        )
    message = str(error.value)
    assert "stacks/monitoring.py: CHARTS['kube-prometheus-stack']: version = " + repr(version) in message
    assert "must pin one exact chart version" in message


def test_fails_exporter_renamed_or_on_another_port() -> None:
    postgres = load_values("prometheus-postgres-exporter")
    check_service_ports(postgres)
    with pytest.raises(
        UserError, match=r"prometheus-postgres-exporter\.yaml: service\.port = 80\n  rule: must be 9187"
    ):
        check_service_ports({**postgres, "service": {"port": 80}})
    with pytest.raises(UserError, match=r"fullnameOverride = 'pg'\n  rule: must be 'postgres-exporter'"):
        check_service_ports({**postgres, "fullnameOverride": "pg"})


def test_fails_dashboard_without_its_eight_panels(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    assert len(load_dashboard()["panels"]) == 8
    dashboard["panels"].pop()
    path = tmp_path / "iworkz-overview.json"
    path.write_text(json.dumps(dashboard), encoding="utf-8")
    with pytest.raises(
        UserError, match=r"iworkz-overview\.json: panels = 7\n  rule: the seed's overview dashboard has 8"
    ):
        load_dashboard(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="must be valid JSON"):
        load_dashboard(path)


def test_alertmanager_config_without_literal_urls() -> None:
    config = alertmanager_config(["platform", "ai"], "hooks")
    assert [r["name"] for r in config["receivers"]] == ["null", "default", "critical", "platform", "ai"]
    assert "://" not in json.dumps(config)


def test_fails_config_log_tiers_out_of_order(tmp_path: Path) -> None:
    folder = write_config(tmp_path, ENV, {"monitoring": {"log_warm_days": 20}})
    with pytest.raises(ConfigError) as error:
        load_settings(folder)
    message = str(error.value)
    assert "production.yaml" in message
    assert "monitoring.log_warm_days" in message
    assert "20" in message
    assert "log retention tiers must grow" in message


def test_fails_config_alert_team_missing(tmp_path: Path) -> None:
    folder = write_config(tmp_path, ENV, {"monitoring": {"alert_teams": ["platform", "backend"]}})
    with pytest.raises(ConfigError) as error:
        load_settings(folder)
    message = str(error.value)
    assert "monitoring.alert_teams" in message
    assert "missing: database, infrastructure, ai" in message


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("redis_exporter_image", "quay.io/oliver006/redis_exporter", "the image has no tag"),
        ("helper_image", {"repository": "Python", "tag": "3.13.9"}, "must be an image repository"),
    ],
)
def test_fails_config_image_unpinned_or_malformed(tmp_path: Path, field: str, value: Any, rule: str) -> None:
    folder = write_config(tmp_path, ENV, {"monitoring": {field: value}})
    with pytest.raises(ConfigError) as error:
        load_settings(folder)
    message = str(error.value)
    assert "production.yaml" in message
    assert f"monitoring.{field}" in message
    assert rule in message


def test_images_from_config(doc, settings) -> None:
    config = settings.environments[ENV].monitoring
    pod = named(doc, "kubernetes_deployment_v1", "redis-exporter")["spec"]["template"]["spec"]
    assert pod["container"][0]["image"] == config.redis_exporter_image.reference
    assert {c["image"] for c in [*pod["init_container"], pod["container"][1]]} == {config.helper_image.reference}
