"""Monitoring section: Prometheus, Alertmanager, Grafana, traces and logs (seed 12.5)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from iworkz.config.base import Model, rule_error
from iworkz.config.platform import Image, ImageConfig

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The teams of the seed's alert rules (labels.team); each gets an Alertmanager receiver.
SEED_ALERT_TEAMS = ("platform", "backend", "database", "infrastructure", "ai")


class MonitoringConfig(Model):
    # Prometheus TSDB retention (Prometheus duration) and its gp3 volume.
    prometheus_retention: str = Field("15d", pattern=r"^\d+[hdwy]$")
    prometheus_storage_gb: int = Field(100, ge=10)
    alertmanager_storage_gb: int = Field(10, ge=1)
    grafana_storage_gb: int = Field(10, ge=1)
    # StorageClass of every monitoring volume; the stack creates it (EBS gp3, encrypted).
    storage_class: str = "gp3"
    # Teams routed to their own Alertmanager receiver (the seed's labels.team values).
    alert_teams: list[str] = Field(default_factory=lambda: list(SEED_ALERT_TEAMS))
    # External Secrets ClusterSecretStore (AWS Secrets Manager) installed by the platform stack.
    secret_store: str = "aws-secrets-manager"
    # Seed 12.1 log retention: 30 days hot, 1 year warm, 7 years cold (days since index creation).
    log_hot_days: int = Field(30, ge=1)
    log_warm_days: int = Field(365, ge=2)
    log_cold_days: int = Field(2555, ge=3)
    # Trace indices (jaeger-*) are deleted after this many days.
    trace_retention_days: int = Field(30, ge=1, le=3650)
    # redis_exporter (quay.io mirrors Docker Hub without its pull limits).
    redis_exporter_image: Image = ImageConfig(repository="quay.io/oliver006/redis_exporter", tag="v1.89.0")
    # Runs the standard-library helpers of runtime/ (ElastiCache IAM tokens, OpenSearch setup).
    helper_image: Image = ImageConfig(repository="public.ecr.aws/docker/library/python", tag="3.13.9-alpine3.22")

    @field_validator("storage_class", "secret_store")
    @classmethod
    def _kubernetes_name(cls, value: str) -> str:
        if not _DNS_LABEL.match(value) or len(value) > 63:
            raise rule_error("must be a Kubernetes object name (lower-case letters, digits, '-')", "e.g. 'gp3'")
        return value

    @field_validator("alert_teams")
    @classmethod
    def _teams(cls, value: list[str]) -> list[str]:
        missing = [team for team in SEED_ALERT_TEAMS if team not in value]
        if missing:
            raise rule_error(
                f"every team of the seed's alert rules needs a receiver; missing: {', '.join(missing)}",
                "list " + ", ".join(SEED_ALERT_TEAMS) + " (more teams may follow)",
            )
        bad = [team for team in value if not _DNS_LABEL.match(team)]
        if bad:
            raise rule_error(f"team names must be lower-case DNS labels: {', '.join(bad)}", "e.g. 'platform'")
        if len(set(value)) != len(value):
            raise rule_error("team names must be unique", "remove the duplicate")
        return value

    @model_validator(mode="after")
    def _log_tiers_in_order(self) -> MonitoringConfig:
        if not self.log_hot_days < self.log_warm_days < self.log_cold_days:
            raise rule_error(
                f"log retention tiers must grow: hot ({self.log_hot_days}) < warm ({self.log_warm_days}) "
                f"< cold ({self.log_cold_days}) days",
                "seed 12.1: log_hot_days 30, log_warm_days 365, log_cold_days 2555",
                field="log_warm_days",
                value=self.log_warm_days,
            )
        return self
