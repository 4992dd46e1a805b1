"""ElastiCache for Redis 7, cluster mode enabled (seed 12.1), reachable only from EKS.

Authentication, in today's form: the seed passes ``auth_token = random_password...``, which
puts the token in the plan and the state. hashicorp/aws 6.25 has no write-only variant of
``auth_token`` (only ``secret_string_wo``/``password_wo`` elsewhere), and an ephemeral value
cannot feed a normal argument. So no token at all: ElastiCache RBAC with IAM
authentication. The replication group uses a user group holding

- a replacement ``default`` user that is switched off (``off -@all``): nobody connects
  without a user, and
- one IAM-authenticated user per client (user id = user name, as IAM auth requires): a
  workload signs a short-lived token with its IRSA role, which needs ``elasticache:Connect``
  on the replication group and the user (see :meth:`Redis.connect_statement`).

The Secrets Manager entry the workloads read (``auth_secret_arn``) holds the connection
details (endpoint, port, TLS, user, auth mode) and no password: there is none to leak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_user import ElasticacheUser, ElasticacheUserAuthenticationMode
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from constructs import Construct

from iworkz.config.catalog import newest_in_standard_support
from iworkz_constructs.secret import Secret, SecretProps
from iworkz_constructs.service_security_group import ServiceSecurityGroup, ServiceSecurityGroupProps

REDIS_PORT = 6379
CLUSTER_PARAMETER_GROUP = "default.redis7.cluster.on"
LOG_TYPES = ("slow-log", "engine-log")
DISABLED_DEFAULT_USER_ACCESS = "off -@all"
DEFAULT_CLIENT_ACCESS = "on ~* +@all -@dangerous"
# What redis_exporter runs (INFO, CLUSTER INFO/NODES, SLOWLOG, LATENCY) and no key access. @connection
# brings PING and CLIENT SETNAME; -@admin -@dangerous take back CLIENT KILL/PAUSE/LIST and the like.
METRICS_CLIENT_ACCESS = (
    "on -@all +@connection -@admin -@dangerous +info +cluster|info +cluster|nodes +slowlog|get +slowlog|len "
    "+latency|latest +latency|histogram"
)


@dataclass(frozen=True)
class RedisProps:
    """Properties of :class:`Redis`.

    | name | meaning | default |
    |---|---|---|
    | replication_group_id | e.g. ``iworkz-production-redis`` (at most 31 characters) | required |
    | vpc_id | VPC of the security group | required |
    | subnet_group_name | ElastiCache subnet group | required |
    | client_security_groups | security groups allowed on 6379, by short key | required |
    | kms_key_arn | key for data at rest and the log groups | required |
    | secret_kms_key_arn | key of the connection-details secret | required |
    | secret_name | name of the connection-details secret | ``<replication_group_id>/connection`` |
    | clients | IAM-authenticated users: name suffix → Redis ACL access string | ``{"app": "on ~* +@all -@dangerous"}`` |
    | engine_version | Redis 7.x | the newest in standard support (iworkz/config/catalog/versions.yaml) |
    | node_type | node type | ``cache.r7g.large`` |
    | shards / replicas_per_shard | node groups and replicas in each | 3 / 2 |
    | snapshot_retention_days | daily snapshots kept | 7 |
    | snapshot_window / maintenance_window | UTC windows | ``02:00-03:00`` / ``sun:05:00-sun:06:00`` |
    | log_retention_days | slow/engine log retention | 14 (seed) |
    | prevent_destroy | refuse to destroy the cluster in Terraform | True |
    """

    replication_group_id: str
    vpc_id: str
    subnet_group_name: str
    client_security_groups: Mapping[str, str]
    kms_key_arn: str
    secret_kms_key_arn: str
    secret_name: str | None = None
    clients: Mapping[str, str] = field(default_factory=lambda: {"app": DEFAULT_CLIENT_ACCESS})
    engine_version: str = field(default_factory=newest_in_standard_support("redis"))
    node_type: str = "cache.r7g.large"
    shards: int = 3
    replicas_per_shard: int = 2
    snapshot_retention_days: int = 7
    snapshot_window: str = "02:00-03:00"
    maintenance_window: str = "sun:05:00-sun:06:00"
    log_retention_days: int = 14
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rg = self.replication_group_id
        if len(rg) > 31:
            raise ValueError(f"replication_group_id {rg!r} is longer than ElastiCache's 31 characters")
        if self.engine_version.split(".")[0] != "7":
            raise ValueError(f"{rg}: engine_version {self.engine_version!r} is not Redis 7.x")
        if self.replicas_per_shard < 1:
            raise ValueError(f"{rg}: Multi-AZ with automatic failover needs at least one replica per shard")
        if not 1 <= self.shards <= 500:
            raise ValueError(f"{rg}: shards must be 1-500, got {self.shards}")
        if self.snapshot_retention_days < 1:
            raise ValueError(f"{rg}: snapshot_retention_days must be at least 1 (0 turns snapshots off)")
        if not self.clients:
            raise ValueError(f"{rg}: give at least one client user")
        for name, access in self.clients.items():
            if len(f"{rg}-{name}") > 40:
                raise ValueError(f"{rg}: user id {rg}-{name} is longer than 40 characters")
            if not access.startswith("on "):
                raise ValueError(f"{rg}: client {name} has a disabled access string {access!r}")


class Redis(Construct):
    """Attributes: ``replication_group``, ``arn``, ``configuration_endpoint``, ``port``,
    ``auth_secret_arn``, ``security_group_id``, ``user_ids`` and ``user_arns`` (by client name).
    """

    def __init__(self, scope: Construct, id: str, props: RedisProps) -> None:
        super().__init__(scope, id)
        rg = props.replication_group_id
        self.port = REDIS_PORT
        security_group = ServiceSecurityGroup(
            self,
            "security-group",
            ServiceSecurityGroupProps(
                name=f"{rg}-sg",
                description=f"Redis {rg}: {REDIS_PORT} from EKS only",
                vpc_id=props.vpc_id,
                port=REDIS_PORT,
                sources=props.client_security_groups,
            ),
        )
        self.security_group_id = security_group.id
        default_user = ElasticacheUser(
            self,
            "default-user",
            user_id=f"{rg}-default",
            user_name="default",
            engine="redis",
            access_string=DISABLED_DEFAULT_USER_ACCESS,
            # Switched off by its access string: this user cannot connect at all.
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
        )
        self.user_ids: dict[str, str] = {}
        self.user_arns: dict[str, str] = {}
        clients = []
        for name, access in props.clients.items():
            user = ElasticacheUser(
                self,
                f"user-{name}",
                user_id=f"{rg}-{name}",
                user_name=f"{rg}-{name}",
                engine="redis",
                access_string=access,
                authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
            )
            clients.append(user)
            self.user_ids[name] = user.user_id
            self.user_arns[name] = user.arn
        group = ElasticacheUserGroup(
            self,
            "user-group",
            user_group_id=f"{rg}-users",
            engine="redis",
            user_ids=[default_user.user_id, *(user.user_id for user in clients)],
        )
        log_groups = {
            log_type: CloudwatchLogGroup(
                self,
                f"log-{log_type}",
                name=f"/aws/elasticache/{rg}/{log_type}",
                retention_in_days=props.log_retention_days,
                kms_key_id=props.kms_key_arn,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
            )
            for log_type in LOG_TYPES
        }
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "replication-group",
            replication_group_id=rg,
            description=f"{rg}: Redis 7, cluster mode enabled",
            engine="redis",
            engine_version=props.engine_version,
            node_type=props.node_type,
            port=REDIS_PORT,
            parameter_group_name=CLUSTER_PARAMETER_GROUP,
            cluster_mode="enabled",
            num_node_groups=props.shards,
            replicas_per_node_group=props.replicas_per_shard,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            subnet_group_name=props.subnet_group_name,
            security_group_ids=[security_group.id],
            at_rest_encryption_enabled="true",
            kms_key_id=props.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[group.user_group_id],
            snapshot_retention_limit=props.snapshot_retention_days,
            snapshot_window=props.snapshot_window,
            maintenance_window=props.maintenance_window,
            final_snapshot_identifier=f"{rg}-final",
            auto_minor_version_upgrade="true",
            apply_immediately=False,
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=log_groups[log_type].name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=log_type,
                )
                for log_type in LOG_TYPES
            ],
            tags={**props.tags, "Name": rg},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.arn = self.replication_group.arn
        self.configuration_endpoint = self.replication_group.configuration_endpoint_address
        first_client = next(iter(props.clients))
        secret = Secret(
            self,
            "auth-secret",
            SecretProps(
                name=props.secret_name or f"{rg}/connection",
                description=f"{rg}: connection details; IAM authentication, no password exists",
                kms_key_arn=props.secret_kms_key_arn,
                # Built by Terraform (jsonencode) from the cluster's attributes.
                document=Fn.jsonencode(
                    {
                        "host": self.configuration_endpoint,
                        "port": REDIS_PORT,
                        "tls": True,
                        "cluster_mode": True,
                        "auth": "iam",
                        "username": self.user_ids[first_client],
                        "replication_group_id": rg,
                        "users": {name: self.user_ids[name] for name in props.clients},
                    }
                ),
                prevent_destroy=props.prevent_destroy,
            ),
        )
        self.auth_secret_arn = secret.arn

    def connect_statement(self, *clients: str) -> dict[str, Any]:
        """IAM statement letting a workload role connect as the given clients (IAM authentication)."""
        names = clients or tuple(self.user_arns)
        return {
            "Sid": "ElastiCacheIamConnect",
            "Effect": "Allow",
            "Action": "elasticache:Connect",
            "Resource": [self.arn, *(self.user_arns[name] for name in names)],
        }
