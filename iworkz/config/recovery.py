"""Recovery objectives of the DR site, and the sizes and schedules that must meet them.

| objective | default | what backs it |
|---|---|---|
| ``database_rpo_minutes`` | 5 | logical replication RDS -> Azure (continuous); the lag alarms fire before the lag reaches it |
| ``objects_rpo_hours`` | 24 | the S3 -> Blob copy CronJob every ``object_copy_interval_hours``, each run at most ``object_copy_max_minutes`` |
| ``rto_hours`` | 4 | the standby platform on AKS (add-ons, workloads at ``standby_replicas``), the Cloudflare failover pool |

The worst case for an object is to be written just after a copy run has listed its bucket: it
is copied by the next run, which ends at most ``interval + max duration`` later. The copy
schedule must therefore satisfy ``interval * 60 + max_minutes <= objects_rpo_hours * 60``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from iworkz.config.base import Model, rule_error

# Cron-friendly intervals (they divide a day): the schedule is "<minute> */<interval> * * *".
COPY_INTERVALS = (1, 2, 3, 4, 6, 8, 12, 24)


def copy_schedule(interval_hours: int, minute: int = 17) -> str:
    """The copy CronJob's schedule: every ``interval_hours`` hours, off the full hour."""
    return f"{minute} */{interval_hours} * * *" if interval_hours < 24 else f"{minute} 0 * * *"


class RecoveryConfig(Model):
    """Recovery point and time objectives of the environment's DR site."""

    # At least 5: the subscriber's log alert evaluates every 5 minutes (constructs/subscriber_alert.py).
    database_rpo_minutes: int = Field(5, ge=5, le=1440)
    objects_rpo_hours: int = Field(24, ge=1, le=168)
    rto_hours: int = Field(4, ge=1, le=72)
    object_copy_interval_hours: Literal[1, 2, 3, 4, 6, 8, 12, 24] = 6
    # The copy Job's deadline (activeDeadlineSeconds): a run that takes longer fails and alerts.
    object_copy_max_minutes: int = Field(120, ge=10, le=720)

    @model_validator(mode="after")
    def _copy_meets_rpo(self) -> RecoveryConfig:
        budget = self.objects_rpo_hours * 60
        worst = self.object_copy_interval_hours * 60 + self.object_copy_max_minutes
        if worst > budget:
            fitting = [i for i in COPY_INTERVALS if i * 60 + self.object_copy_max_minutes <= budget]
            fix = (
                f"set object_copy_interval_hours: {fitting[-1]} (or less), or raise objects_rpo_hours"
                if fitting
                else f"lower object_copy_max_minutes below {budget - 60} or raise objects_rpo_hours"
            )
            raise rule_error(
                f"an object written just after a copy run is copied {worst} minutes later "
                f"(every {self.object_copy_interval_hours} h + up to {self.object_copy_max_minutes} min per run), "
                f"beyond the objects RPO of {self.objects_rpo_hours} h",
                fix,
                field="object_copy_interval_hours",
                value=self.object_copy_interval_hours,
            )
        return self

    @property
    def copy_schedule(self) -> str:
        return copy_schedule(self.object_copy_interval_hours)


class StandbyConfig(Model):
    """How the DR site's workloads run: at standby size, or serving after a failover.

    ``serving: true`` is the failover's one config change: the AKS workloads take the replica
    counts (and autoscaling) of ``platform.workloads``; otherwise each runs ``replicas`` pods.
    """

    replicas: int = Field(1, ge=0, le=10)
    serving: bool = False


# AKS reserves CPU for the kubelet per node by its core count (kube-reserved, AKS docs "Resource
# reservations"); the rest is allocatable to pods.
AKS_KUBE_RESERVED_MILLICORES = {1: 60, 2: 100, 4: 140, 8: 180, 16: 260, 32: 420, 64: 740}


def allocatable_millicores(vcpus: int) -> int:
    reserved = next((m for cores, m in sorted(AKS_KUBE_RESERVED_MILLICORES.items()) if vcpus <= cores), 740)
    return vcpus * 1000 - reserved
