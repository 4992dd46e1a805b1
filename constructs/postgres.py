"""RDS for PostgreSQL that cannot lose data (seed 12.4 ``aws_db_instance`` in today's form).

Differences from the seed, on purpose:

- no ``random_password``: RDS manages the master password in Secrets Manager
  (``manage_master_user_password``), encrypted with the caller's secrets key, so no password
  is in code, plan or state;
- port 5432 is open to the EKS security groups only, not to the whole VPC CIDR;
- automated backups are replicated to the backup region (seed 12.1: cross-region backups).

Each instance alarms (CPU, free storage, freeable memory, connections against the class's default
``max_connections``; replica lag on the replicas, replication-slot disk on the primary, where the
DR site's subscription keeps its slot, and with the subscriber's RPO its critical slot-lag and WAL
alarms), with the thresholds of :class:`PostgresAlarms`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_instance_automated_backups_replication import (
    DbInstanceAutomatedBackupsReplication,
)
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz.config.alarms import rds_memory_gib, rds_postgres_max_connections
from iworkz.config.catalog import newest_in_standard_support
from iworkz_constructs.alarm_settings import PostgresAlarms, check_alerting, check_settings, subscriber_alarm_problem
from iworkz_constructs.alarms import AlarmActions, AlarmSpec, Metric, optional_alarms
from iworkz_constructs.policy_document import PolicyDocument, service_trust
from iworkz_constructs.service_security_group import ServiceSecurityGroup, ServiceSecurityGroupProps

POSTGRES_PORT = 5432
LOG_EXPORTS = ("postgresql", "upgrade")
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
MAX_READ_REPLICAS = 5
# Static parameters (logical replication) take effect at the next reboot; RDS rejects
# "immediate" for them. force_ssl is dynamic.
PARAMETERS = (
    ("rds.force_ssl", "1", "immediate"),
    ("rds.logical_replication", "1", "pending-reboot"),
)


@dataclass(frozen=True)
class BackupReplica:
    """Where automated backups are copied: a provider of another region and a key there."""

    provider: AwsProvider
    kms_key_arn: str
    retention_days: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.retention_days <= 35:
            raise ValueError(f"replicated backups are kept 1-35 days, got {self.retention_days}")


@dataclass(frozen=True)
class PostgresProps:
    """Properties of :class:`Postgres`.

    | name | meaning | default |
    |---|---|---|
    | identifier | instance identifier, e.g. ``iworkz-production-postgres`` | required |
    | vpc_id | VPC of the security group | required |
    | db_subnet_group_name | DB subnet group (database subnets) | required |
    | client_security_groups | security groups allowed on 5432, by short key | required |
    | client_cidrs | private ranges outside AWS allowed on 5432 (the DR site's logical-replication subscriber) | none |
    | kms_key_arn | key for storage, Performance Insights and the log groups | required |
    | master_user_secret_kms_key_arn | key of the RDS-managed master secret | required |
    | backup_replica | cross-region copy of automated backups | required unless backup_replica_opt_out |
    | backup_replica_opt_out | reason for not copying backups to another region | none |
    | engine_version | PostgreSQL 16.x minor version | the newest in standard support (iworkz/config/catalog/versions.yaml) |
    | instance_class | instance class of the primary and the replicas | ``db.r6g.xlarge`` |
    | allocated_storage_gb / max_allocated_storage_gb | gp3 storage and its autoscaling ceiling | 100 / 1000 |
    | multi_az | standby in a second AZ | True |
    | read_replicas | number of read replicas | 1 |
    | backup_retention_days | automated backups kept (days) | 7 |
    | backup_window / maintenance_window | UTC windows | ``03:00-04:00`` / ``sun:04:00-sun:05:00`` |
    | database_name / master_username | initial database and master user | ``iworkz`` / ``iworkz_admin`` |
    | log_retention_days | retention of the exported PostgreSQL logs | 365 |
    | performance_insights_retention_days | 7 (free) or a multiple of 31 up to 731 | 7 |
    | monitoring_interval | enhanced monitoring period in seconds | 60 |
    | deletion_protection | RDS deletion protection | True |
    | prevent_destroy | refuse to destroy the instances in Terraform | True |
    | alarm_actions | alert topics of the instances' alarms | required unless alarms_opt_out |
    | alarms_opt_out | reason for creating no alarms | none |
    | alarms | thresholds of the alarms | :class:`PostgresAlarms` defaults |
    | subscriber_rpo_seconds | RPO of a logical-replication subscriber (the DR site): adds its critical slot-lag and WAL alarms | none |
    """

    identifier: str
    vpc_id: str
    db_subnet_group_name: str
    client_security_groups: Mapping[str, str]
    kms_key_arn: str
    master_user_secret_kms_key_arn: str
    backup_replica: BackupReplica | None = None
    backup_replica_opt_out: str | None = None
    engine_version: str = field(default_factory=newest_in_standard_support("postgres"))
    instance_class: str = "db.r6g.xlarge"
    allocated_storage_gb: int = 100
    max_allocated_storage_gb: int = 1000
    multi_az: bool = True
    read_replicas: int = 1
    backup_retention_days: int = 7
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:04:00-sun:05:00"
    database_name: str = "iworkz"
    master_username: str = "iworkz_admin"
    log_retention_days: int = 365
    performance_insights_retention_days: int = 7
    monitoring_interval: int = 60
    deletion_protection: bool = True
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    client_cidrs: Mapping[str, str] = field(default_factory=dict)
    alarm_actions: AlarmActions | None = None
    alarms_opt_out: str | None = None
    alarms: PostgresAlarms = field(default_factory=PostgresAlarms)
    subscriber_rpo_seconds: int | None = None

    def __post_init__(self) -> None:
        check_alerting(self.identifier, self.alarm_actions, self.alarms_opt_out)
        check_settings(self.alarms, {"allocated_storage_gb": self.allocated_storage_gb})
        if self.subscriber_rpo_seconds is not None:
            problem = subscriber_alarm_problem(self.alarms, self.subscriber_rpo_seconds, self.allocated_storage_gb)
            if problem:
                raise ValueError(f"{self.identifier}: {problem}")
        if rds_memory_gib(self.instance_class) is None:
            raise ValueError(
                f"{self.identifier}: instance_class {self.instance_class!r} has no memory size in "
                "iworkz/config/catalog/rds_instance_classes.yaml (its alarms need it)"
            )
        if self.engine_version.split(".")[0] != "16":
            raise ValueError(f"{self.identifier}: engine_version {self.engine_version!r} is not PostgreSQL 16.x")
        if (self.backup_replica is None) == (self.backup_replica_opt_out is None):
            raise ValueError(f"{self.identifier}: give backup_replica, or backup_replica_opt_out with the reason")
        if not 0 <= self.read_replicas <= MAX_READ_REPLICAS:
            raise ValueError(
                f"{self.identifier}: read_replicas must be 0-{MAX_READ_REPLICAS}, got {self.read_replicas}"
            )
        if not 1 <= self.backup_retention_days <= 35:
            raise ValueError(f"{self.identifier}: backup_retention_days must be 1-35 (0 turns backups off)")
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError(f"{self.identifier}: max_allocated_storage_gb is below allocated_storage_gb")
        if self.monitoring_interval not in (1, 5, 10, 15, 30, 60):
            raise ValueError(f"{self.identifier}: monitoring_interval must be 1, 5, 10, 15, 30 or 60")
        if self.performance_insights_retention_days != 7 and self.performance_insights_retention_days % 31:
            raise ValueError(f"{self.identifier}: performance_insights_retention_days must be 7 or a multiple of 31")

    @property
    def parameter_family(self) -> str:
        return f"postgres{self.engine_version.split('.')[0]}"


class Postgres(Construct):
    """Multi-AZ primary, read replicas, parameter group, monitoring role, logs, backup copies.

    Attributes: ``instance``, ``replicas``, ``identifier``, ``arn``, ``endpoint`` (host:port),
    ``address``, ``reader_endpoint`` (the first replica's endpoint; the primary's without
    replicas: RDS for PostgreSQL has no load-balanced reader endpoint), ``port``,
    ``master_user_secret_arn``, ``security_group_id``, ``monitoring_role_arn``,
    ``parameter_group_name``, ``alarms`` (:class:`ResourceAlarms`, None with ``alarms_opt_out``).
    """

    def __init__(self, scope: Construct, id: str, props: PostgresProps) -> None:
        super().__init__(scope, id)
        lifecycle = TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy)
        self.port = POSTGRES_PORT
        self.identifier = props.identifier
        security_group = ServiceSecurityGroup(
            self,
            "security-group",
            ServiceSecurityGroupProps(
                name=f"{props.identifier}-sg",
                description=f"PostgreSQL {props.identifier}: {POSTGRES_PORT} from EKS only",
                vpc_id=props.vpc_id,
                port=POSTGRES_PORT,
                sources=props.client_security_groups,
                source_cidrs=props.client_cidrs,
            ),
        )
        self.security_group_id = security_group.id
        parameters = DbParameterGroup(
            self,
            "parameters",
            name=f"{props.identifier}-{props.parameter_family}",
            family=props.parameter_family,
            description=f"{props.identifier}: TLS only, logical replication for the DR site",
            parameter=[
                DbParameterGroupParameter(name=name, value=value, apply_method=method)
                for name, value, method in PARAMETERS
            ],
        )
        self.parameter_group_name = parameters.name
        monitoring_role = IamRole(
            self,
            "monitoring-role",
            name=f"{props.identifier}-monitoring",
            assume_role_policy=PolicyDocument(
                self, "monitoring-trust-policy", [service_trust("monitoring.rds.amazonaws.com")]
            ).json,
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring_role.name,
            policy_arn=ENHANCED_MONITORING_POLICY,
        )
        self.monitoring_role_arn = monitoring_role.arn
        log_groups = [
            CloudwatchLogGroup(
                self,
                f"log-{export}",
                name=f"/aws/rds/instance/{props.identifier}/{export}",
                retention_in_days=props.log_retention_days,
                kms_key_id=props.kms_key_arn,
                lifecycle=lifecycle,
            )
            for export in LOG_EXPORTS
        ]
        common: dict[str, Any] = {
            "instance_class": props.instance_class,
            "storage_type": "gp3",
            "max_allocated_storage": props.max_allocated_storage_gb,
            "storage_encrypted": True,
            "kms_key_id": props.kms_key_arn,
            "port": POSTGRES_PORT,
            "vpc_security_group_ids": [security_group.id],
            "parameter_group_name": parameters.name,
            "publicly_accessible": False,
            "iam_database_authentication_enabled": True,
            "ca_cert_identifier": CA_CERTIFICATE,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": props.kms_key_arn,
            "performance_insights_retention_period": props.performance_insights_retention_days,
            "monitoring_interval": props.monitoring_interval,
            "monitoring_role_arn": monitoring_role.arn,
            "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "deletion_protection": props.deletion_protection,
            "maintenance_window": props.maintenance_window,
            "lifecycle": lifecycle,
        }
        self.instance = DbInstance(
            self,
            "primary",
            identifier=props.identifier,
            engine="postgres",
            engine_version=props.engine_version,
            allocated_storage=props.allocated_storage_gb,
            db_name=props.database_name,
            username=props.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=props.master_user_secret_kms_key_arn,
            db_subnet_group_name=props.db_subnet_group_name,
            multi_az=props.multi_az,
            backup_retention_period=props.backup_retention_days,
            backup_window=props.backup_window,
            delete_automated_backups=False,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{props.identifier}-final",
            tags={**props.tags, "Name": props.identifier},
            depends_on=log_groups,
            **common,
        )
        self.arn = self.instance.arn
        self.endpoint = self.instance.endpoint
        self.address = self.instance.address
        self.master_user_secret_arn = self.instance.master_user_secret.get(0).secret_arn
        self.replicas: list[DbInstance] = []
        for number in range(1, props.read_replicas + 1):
            name = f"{props.identifier}-replica-{number}"
            replica_logs = [
                CloudwatchLogGroup(
                    self,
                    f"replica-{number}-log-{export}",
                    name=f"/aws/rds/instance/{name}/{export}",
                    retention_in_days=props.log_retention_days,
                    kms_key_id=props.kms_key_arn,
                    lifecycle=lifecycle,
                )
                for export in LOG_EXPORTS
            ]
            self.replicas.append(
                DbInstance(
                    self,
                    f"replica-{number}",
                    identifier=name,
                    replicate_source_db=self.instance.identifier,
                    # A replica that may be promoted (DR drill, primary loss) is as available as the primary.
                    multi_az=props.multi_az,
                    # RDS takes no final snapshot of a read replica (the primary keeps the data).
                    skip_final_snapshot=True,
                    tags={**props.tags, "Name": name, "Role": "read-replica"},
                    depends_on=replica_logs,
                    **common,
                )
            )
        self.reader_endpoint = self.replicas[0].endpoint if self.replicas else self.instance.endpoint
        if props.backup_replica is not None:
            DbInstanceAutomatedBackupsReplication(
                self,
                "backup-replication",
                source_db_instance_arn=self.instance.arn,
                kms_key_id=props.backup_replica.kms_key_arn,
                retention_period=props.backup_replica.retention_days,
                provider=props.backup_replica.provider,
            )
        self.alarms = optional_alarms(
            self, "alarms", props.alarms.team, props.alarm_actions, lambda: postgres_alarms(props)
        )


def subscriber_alarms(props: PostgresProps) -> list[AlarmSpec]:
    """The DR site's subscription on the primary: the slowest slot's lag and the WAL kept for it."""
    settings, instance, gib = props.alarms, props.identifier, 1024**3
    lag, logs = settings.replication_slot_lag_gb, settings.transaction_logs_disk_gb
    dimensions = {"DBInstanceIdentifier": instance}
    return [
        AlarmSpec(
            "primary-replication-slot-lag",
            f"{instance}-replication-slot-lag",
            f"PostgreSQL {instance}: the slowest replication slot (the DR site's subscription) is more than "
            f"{lag.value:g} GB of WAL behind for {lag.window_seconds // 60} min (database RPO "
            f"{(props.subscriber_rpo_seconds or 0) // 60} min)",
            lag,
            ">",
            lag.value * gib,
            Metric("AWS/RDS", "OldestReplicationSlotLag", dimensions, "Maximum"),
            unit="bytes",
        ),
        AlarmSpec(
            "primary-transaction-logs-disk",
            f"{instance}-transaction-logs-disk",
            f"PostgreSQL {instance}: WAL kept on disk above {logs.value:g} GB (a stalled subscriber holds it "
            "until the storage fills)",
            logs,
            ">",
            logs.value * gib,
            Metric("AWS/RDS", "TransactionLogsDiskUsage", dimensions, "Maximum"),
            unit="bytes",
        ),
    ]


def postgres_alarms(props: PostgresProps) -> list[AlarmSpec]:
    """The alarms of the primary and of each read replica (their identifiers are configured names)."""
    settings = props.alarms
    gib = 1024**3
    memory = (rds_memory_gib(props.instance_class) or 0) * gib
    connections = rds_postgres_max_connections(props.instance_class)
    instances = [("primary", props.identifier)] + [
        (f"replica-{n}", f"{props.identifier}-replica-{n}") for n in range(1, props.read_replicas + 1)
    ]
    specs = []
    for key, instance in instances:

        def rds(metric: str, statistic: str, instance: str = instance) -> Metric:
            return Metric("AWS/RDS", metric, {"DBInstanceIdentifier": instance}, statistic)

        cpu, storage, free = settings.cpu_percent, settings.free_storage_gb, settings.freeable_memory_percent
        used = settings.connections_percent
        specs += [
            AlarmSpec(
                f"{key}-cpu",
                f"{instance}-cpu",
                f"PostgreSQL {instance}: CPU above {cpu.value:g}%",
                cpu,
                ">",
                cpu.value,
                rds("CPUUtilization", "Average"),
                unit="%",
            ),
            AlarmSpec(
                f"{key}-free-storage",
                f"{instance}-free-storage",
                f"PostgreSQL {instance}: less than {storage.value:g} GB of storage free",
                storage,
                "<",
                storage.value * gib,
                rds("FreeStorageSpace", "Minimum"),
                unit="bytes",
            ),
            AlarmSpec(
                f"{key}-freeable-memory",
                f"{instance}-freeable-memory",
                f"PostgreSQL {instance}: less than {free.value:g}% of {props.instance_class}'s memory free",
                free,
                "<",
                round(memory * free.value / 100),
                rds("FreeableMemory", "Minimum"),
                unit="bytes",
            ),
            AlarmSpec(
                f"{key}-connections",
                f"{instance}-connections",
                f"PostgreSQL {instance}: connections above {used.value:g}% of max_connections ({connections})",
                used,
                ">",
                math.floor(connections * used.value / 100),
                rds("DatabaseConnections", "Maximum"),
            ),
        ]
        if key == "primary":
            slots = settings.replication_slot_disk_usage_gb
            specs.append(
                AlarmSpec(
                    "primary-replication-slot-disk",
                    f"{instance}-replication-slot-disk",
                    f"PostgreSQL {instance}: replication slots hold more than {slots.value:g} GB of WAL "
                    "(a subscriber, e.g. the DR site, is not consuming)",
                    slots,
                    ">",
                    slots.value * gib,
                    rds("ReplicationSlotDiskUsage", "Maximum"),
                    unit="bytes",
                )
            )
            if props.subscriber_rpo_seconds is not None:
                specs += subscriber_alarms(props)
        else:
            lag = settings.replica_lag_seconds
            specs.append(
                AlarmSpec(
                    f"{key}-replica-lag",
                    f"{instance}-replica-lag",
                    f"PostgreSQL {instance}: replica more than {lag.value:g} s behind the primary",
                    lag,
                    ">",
                    lag.value,
                    rds("ReplicaLag", "Maximum"),
                    unit="s",
                )
            )
    return specs
