"""The monitoring stack's documents: Prometheus scrape jobs, Alertmanager routes, the Grafana
dashboard, OpenSearch security roles and ISM policies (the platform design, chapter 12.5 and 12.1).

Pure functions of configuration and contracts (no cdktf): tested as data, used by
stacks/monitoring.py. The scrape targets of the application come from the workloads stack's
contract (``WorkloadsOutputs.metrics_targets``), never from copied service names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from iworkz.app import HELM_VALUES_DIR
from iworkz.config.monitoring import MonitoringConfig
from iworkz.errors import UserError

NAMESPACE = "monitoring"
DASHBOARD_FILE = HELM_VALUES_DIR / "dashboards" / "iworkz-overview.json"
DASHBOARD_PANELS = 8


# Keys of the static values files the computed values build on (a missing one is a UserError).
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "kube-prometheus-stack": (
        "prometheus.prometheusSpec.scrapeInterval",
        "prometheus.prometheusSpec.evaluationInterval",
        "additionalPrometheusRulesMap",
        "grafana.sidecar.dashboards.label",
        "grafana.sidecar.dashboards.labelValue",
    ),
    "jaeger": (
        "fullnameOverride",
        "userconfig.extensions.sigv4auth",
        "userconfig.extensions.jaeger_storage.backends.primary_store.opensearch",
    ),
    "fluent-bit": ("fullnameOverride", "config.outputs"),
    "prometheus-postgres-exporter": ("fullnameOverride", "service.port"),
}

# Services (chart fullnames) the outputs and scrape targets name.
RELEASE = "kube-prometheus-stack"
PROMETHEUS_SERVICE = f"{RELEASE}-prometheus"
GRAFANA_SERVICE = f"{RELEASE}-grafana"
JAEGER_SERVICE = "jaeger"
OTLP_GRPC_PORT = 4317
POSTGRES_EXPORTER = ("postgres-exporter", 9187)
REDIS_EXPORTER = ("redis-exporter", 9121)

# Kubernetes Secrets synced by External Secrets (names referenced from the values).
GRAFANA_ADMIN_SECRET = "grafana-admin"
ALERTMANAGER_SECRET = "alertmanager-webhooks"
POSTGRES_EXPORTER_SECRET = "postgres-exporter-credentials"
REDIS_EXPORTER_SECRET = "redis-exporter-credentials"
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"
# OpenSearch indices (Fluent Bit's Logstash_Prefix logs-*, Jaeger's index_prefix jaeger) and the
# security roles that let each writer's IAM role reach only its own.
LOG_INDICES = "logs-*"
TRACE_INDICES = "jaeger-*"
LOG_WRITER_ROLE = "iworkz_log_writer"
TRACE_WRITER_ROLE = "iworkz_trace_writer"
OPENSEARCH_WRITERS = {"fluent-bit": LOG_WRITER_ROLE, "jaeger": TRACE_WRITER_ROLE}
CRITICAL_RECEIVER = "critical"
DEFAULT_RECEIVER = "default"


def service_dns(service: str, namespace: str, port: int) -> str:
    """Fully qualified in-cluster address: resolves from Prometheus in any namespace."""
    return f"{service}.{namespace}.svc:{port}"


# Scrape intervals of the design's application jobs (12.5); the jobs are named after the workloads.
APPLICATION_SCRAPE_INTERVALS = {"backend-api": "10s", "ai-services": "15s", "web-frontend": "30s"}


def scrape_configs(
    application_targets: Mapping[str, str], monitoring_namespace: str = NAMESPACE
) -> list[dict[str, Any]]:
    """The seed's application and exporter jobs (12.5 scrape_configs), plus its pod-annotation job.

    ``application_targets`` are the workloads' metrics addresses from their stack's contract. The
    seed names bare services (``backend-api-service:9090``); Prometheus runs in ``monitoring``,
    so every target carries its namespace.
    """

    def static(job: str, target: str, interval: str | None = None) -> dict[str, Any]:
        config: dict[str, Any] = {
            "job_name": job,
            "static_configs": [{"targets": [target]}],
            "metrics_path": "/metrics",
        }
        if interval is not None:
            config["scrape_interval"] = interval
        return config

    postgres, postgres_port = POSTGRES_EXPORTER
    redis, redis_port = REDIS_EXPORTER
    return [
        *(static(job, target, APPLICATION_SCRAPE_INTERVALS[job]) for job, target in application_targets.items()),
        static("postgres-exporter", service_dns(postgres, monitoring_namespace, postgres_port)),
        static("redis-exporter", service_dns(redis, monitoring_namespace, redis_port)),
        {
            # Seed 12.5 kubernetes-pods, unchanged: pods opting in with prometheus.io/* annotations.
            "job_name": "kubernetes-pods",
            "kubernetes_sd_configs": [{"role": "pod"}],
            "relabel_configs": [
                {
                    "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
                    "action": "keep",
                    "regex": "true",
                },
                {
                    "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
                    "action": "replace",
                    "target_label": "__metrics_path__",
                    "regex": "(.+)",
                },
                {
                    "source_labels": ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                    "action": "replace",
                    "regex": r"([^:]+)(?::\d+)?;(\d+)",
                    "replacement": "$1:$2",
                    "target_label": "__address__",
                },
                {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
                {
                    "source_labels": ["__meta_kubernetes_namespace"],
                    "action": "replace",
                    "target_label": "kubernetes_namespace",
                },
                {
                    "source_labels": ["__meta_kubernetes_pod_name"],
                    "action": "replace",
                    "target_label": "kubernetes_pod_name",
                },
            ],
        },
    ]


def receiver_names(teams: Sequence[str]) -> list[str]:
    return [DEFAULT_RECEIVER, CRITICAL_RECEIVER, *teams]


def alertmanager_config(teams: Sequence[str], secret_name: str = ALERTMANAGER_SECRET) -> dict[str, Any]:
    """Routes grouped by severity and team; each receiver's webhook URL is a file from the Secret.

    Critical alerts go to the ``critical`` receiver (paging) and, through ``continue``, also to
    their team; every other alert goes to its team's receiver. URLs are read with ``url_file``
    from ``/etc/alertmanager/secrets/<secret>/<receiver>`` (alertmanagerSpec.secrets).
    """

    def webhook(receiver: str) -> dict[str, Any]:
        return {
            "name": receiver,
            "webhook_configs": [
                {"url_file": f"{ALERTMANAGER_SECRETS_DIR}/{secret_name}/{receiver}", "send_resolved": True}
            ],
        }

    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": ["alertname", "severity", "team"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": "null", "matchers": ['alertname = "Watchdog"']},
                {
                    "receiver": CRITICAL_RECEIVER,
                    "matchers": ['severity = "critical"'],
                    "repeat_interval": "1h",
                    "continue": True,
                },
                *({"receiver": team, "matchers": [f'team = "{team}"']} for team in teams),
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity = "critical"'],
                "target_matchers": ['severity = "warning"'],
                "equal": ["alertname", "instance"],
            }
        ],
        "receivers": [{"name": "null"}, *(webhook(name) for name in receiver_names(teams))],
        "templates": ["/etc/alertmanager/config/*.tmpl"],
    }


def ism_policies(config: MonitoringConfig, warm: bool, cold: bool) -> dict[str, dict[str, Any]]:
    """OpenSearch ISM policies: logs through the domain's tiers, traces deleted after N days.

    Seed 12.1: logs hot for ``log_hot_days``, warm (UltraWarm) until ``log_warm_days``, cold until
    ``log_cold_days``, then deleted. A tier the domain lacks is skipped and the tier before it
    lasts longer: the total retention stays ``log_cold_days``. Ages are days since index creation
    (Fluent Bit's daily Logstash_Format indices, Jaeger's daily indices).
    """

    def transition(state: str, days: int) -> dict[str, Any]:
        return {"state_name": state, "conditions": {"min_index_age": f"{days}d"}}

    ends = {"hot": config.log_hot_days, "warm": config.log_warm_days, "cold": config.log_cold_days}
    # A migration that fails is retried rather than leaving the index failed until someone retries it.
    patient = {"timeout": "24h", "retry": {"count": 5, "backoff": "exponential", "delay": "1h"}}
    tiers: list[tuple[str, list[dict[str, Any]]]] = [("hot", [])]
    if warm:
        tiers.append(("warm", [{**patient, "warm_migration": {}}]))
    if cold:
        tiers.append(("cold", [{**patient, "cold_migration": {"timestamp_field": "@timestamp"}}]))
    states = []
    for index, (name, actions) in enumerate(tiers):
        last = index == len(tiers) - 1
        next_state, at = ("delete", config.log_cold_days) if last else (tiers[index + 1][0], ends[name])
        states.append({"name": name, "actions": actions, "transitions": [transition(next_state, at)]})
    # Cold indices are deleted with cold_delete; the others with delete.
    states.append({"name": "delete", "actions": [{"cold_delete": {}} if cold else {"delete": {}}], "transitions": []})
    described = ", ".join(
        f"{name} until day {ends[name] if i < len(tiers) - 1 else config.log_cold_days}"
        for i, (name, _) in enumerate(tiers)
    )
    logs = {
        "policy": {
            "description": f"iWORKZ logs (seed 12.1): {described}, then deleted",
            "default_state": "hot",
            "states": states,
            "ism_template": [{"index_patterns": [LOG_INDICES], "priority": 100}],
        }
    }
    traces = {
        "policy": {
            "description": f"iWORKZ traces: deleted after {config.trace_retention_days} days",
            "default_state": "hot",
            "states": [
                {"name": "hot", "actions": [], "transitions": [transition("delete", config.trace_retention_days)]},
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [{"index_patterns": [TRACE_INDICES], "priority": 100}],
        }
    }
    return {"iworkz-logs": logs, "iworkz-traces": traces}


def security_roles() -> dict[str, dict[str, Any]]:
    """OpenSearch roles of the writers: their own indices and templates, nothing else."""

    def writer(indices: str) -> dict[str, Any]:
        return {
            "cluster_permissions": [
                "cluster_monitor",
                "cluster_composite_ops",
                "indices:admin/template/get",
                "indices:admin/template/put",
                "indices:admin/index_template/get",
                "indices:admin/index_template/put",
            ],
            "index_permissions": [
                {
                    "index_patterns": [indices],
                    "allowed_actions": ["crud", "create_index", "indices_monitor", "indices:admin/mapping/put"],
                }
            ],
        }

    return {LOG_WRITER_ROLE: writer(LOG_INDICES), TRACE_WRITER_ROLE: writer(TRACE_INDICES)}


def load_dashboard(path: Any = DASHBOARD_FILE) -> dict[str, Any]:
    """The design's overview dashboard (Grafana model JSON); checks it is JSON with its eight panels."""
    shown = f"helm_values/dashboards/{path.name}"
    try:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError.single(
            shown, f"line {exc.lineno}, column {exc.colno}", exc.msg, "must be valid JSON (a Grafana dashboard model)"
        ) from None
    if not isinstance(dashboard, dict) or not isinstance(dashboard.get("panels"), list):
        raise UserError.single(shown, "panels", None, "must be a Grafana dashboard model with a 'panels' list")
    if len(dashboard["panels"]) != DASHBOARD_PANELS:
        raise UserError.single(
            shown,
            "panels",
            len(dashboard["panels"]),
            f"the seed's overview dashboard has {DASHBOARD_PANELS} panels",
            "restore the missing panels from seed 12.5",
        )
    return dashboard


def check_service_ports(postgres_values: Mapping[str, Any]) -> None:
    """The postgres exporter's Service must listen where the seed's scrape target points."""
    release, (name, port) = "prometheus-postgres-exporter", POSTGRES_EXPORTER
    shown = f"helm_values/{release}.yaml"
    if postgres_values.get("fullnameOverride") != name:
        raise UserError.single(
            shown,
            "fullnameOverride",
            postgres_values.get("fullnameOverride"),
            f"must be '{name}' so that the seed's scrape target {name}:{port} resolves",
        )
    if postgres_values["service"]["port"] != port:
        raise UserError.single(
            shown,
            "service.port",
            postgres_values["service"]["port"],
            f"must be {port}, the port of the seed's scrape target {name}:{port}",
        )


# --- computed Helm values (merged over helm_values/<release>.yaml) ------------------------------


def prometheus_stack_values(
    config: MonitoringConfig, cluster: str, region: str, application_targets: Mapping[str, str]
) -> dict[str, Any]:
    """kube-prometheus-stack: retention and volumes, the seed's scrape jobs, routes, Grafana's admin and Jaeger."""

    def volume(size_gb: int) -> dict[str, Any]:
        return {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": config.storage_class,
                    "resources": {"requests": {"storage": f"{size_gb}Gi"}},
                }
            }
        }

    return {
        "prometheus": {
            "prometheusSpec": {
                "externalLabels": {"cluster": cluster, "region": region},
                "retention": config.prometheus_retention,
                "storageSpec": volume(config.prometheus_storage_gb),
                "additionalScrapeConfigs": scrape_configs(application_targets),
            }
        },
        "alertmanager": {
            "config": alertmanager_config(config.alert_teams),
            "alertmanagerSpec": {"secrets": [ALERTMANAGER_SECRET], "storage": volume(config.alertmanager_storage_gb)},
        },
        "grafana": {
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET},
            "persistence": {
                "enabled": True,
                "type": "pvc",
                "storageClassName": config.storage_class,
                "size": f"{config.grafana_storage_gb}Gi",
            },
            "additionalDataSources": [
                {
                    "name": "Jaeger",
                    "type": "jaeger",
                    "uid": "jaeger",
                    "url": f"http://{JAEGER_SERVICE}.{NAMESPACE}.svc:16686",
                    "access": "proxy",
                }
            ],
        },
    }


def jaeger_values(opensearch_endpoint: str, region: str) -> dict[str, Any]:
    """Jaeger v2 stores traces in the data stack's OpenSearch domain, signing with SigV4."""
    return {
        "userconfig": {
            "extensions": {
                "sigv4auth": {"region": region},
                "jaeger_storage": {
                    "backends": {"primary_store": {"opensearch": {"server_urls": [f"https://{opensearch_endpoint}"]}}}
                },
            }
        }
    }


def fluent_bit_values(opensearch_endpoint: str, region: str) -> dict[str, Any]:
    """Fluent Bit ships container logs to the OpenSearch domain (its output reads these variables)."""
    return {"env": [{"name": "OPENSEARCH_HOST", "value": opensearch_endpoint}, {"name": "AWS_REGION", "value": region}]}


def postgres_exporter_values(host: str, port: int) -> dict[str, Any]:
    """postgres_exporter reads the database through the credentials synced into its Secret."""
    return {
        "config": {
            "datasource": {
                "host": host,
                "port": str(port),
                "userSecret": {"name": POSTGRES_EXPORTER_SECRET, "key": "username"},
                "passwordSecret": {"name": POSTGRES_EXPORTER_SECRET, "key": "password"},
            }
        }
    }
