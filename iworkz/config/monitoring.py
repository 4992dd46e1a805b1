"""Monitoring section: Prometheus, Grafana, traces and logs (seed 12.5)."""

from __future__ import annotations

from pydantic import Field

from iworkz.config.base import Model


class MonitoringConfig(Model):
    prometheus_retention: str = Field("15d", pattern=r"^\d+[hdwy]$")
    prometheus_storage_gb: int = Field(100, ge=10)
    grafana_storage_gb: int = Field(10, ge=1)
