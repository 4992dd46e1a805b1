"""`data-<environment>`: PostgreSQL, Redis, OpenSearch, S3, KMS and Secrets Manager (seed 12.1, 12.4).

Everything stateful is encrypted with its own customer-managed key, reachable only from
the EKS security groups, protected from deletion and copied to the backup region
(ap-northeast-3): RDS automated backups and the application buckets. AWS Backup
(iworkz_constructs.backup_plan) backs up the database, the application buckets and the tagged
EBS volumes into locked vaults in both regions, and proves the restores on a schedule. It lives
here rather than in a stack of its own so that its selection references these resources
directly: the synth-time rule BACKUP_COVERAGE then sees, in this one stack, that nothing is left
out.
"""

from __future__ import annotations

from iworkz.config.dr_azure import dr_azure_subnets
from iworkz.contracts import (
    OPENSEARCH_ADMIN_NAMESPACE,
    OPENSEARCH_ADMIN_SERVICE_ACCOUNT,
    REDIS_APP_USER,
    REDIS_METRICS_USER,
    AlertsOutputs,
    ClusterOutputs,
    DataOutputs,
    NetworkOutputs,
    OpenSearchOutputs,
    PostgresOutputs,
    RedisOutputs,
)
from iworkz_constructs.data_backup import data_backup
from iworkz_constructs.data_buckets import DataBucketsProps, data_buckets
from iworkz_constructs.data_keys import data_keys
from iworkz_constructs.database_roles import role_password_secrets
from iworkz_constructs.opensearch import AdminServiceAccount, OpenSearch, OpenSearchProps
from iworkz_constructs.postgres import BackupReplica, Postgres, PostgresProps
from iworkz_constructs.redis import DEFAULT_CLIENT_ACCESS, METRICS_CLIENT_ACCESS, Redis, RedisProps
from iworkz_constructs.secret import GeneratedValue, Secret, SecretProps
from iworkz_constructs.secure_bucket import Transition
from stacks.base import IworkzStack


class DataStack(IworkzStack):
    """PostgreSQL, Redis, OpenSearch, buckets, keys and secrets; publishes :class:`DataOutputs`."""

    def build(self, network: NetworkOutputs, eks: ClusterOutputs, alerts: AlertsOutputs) -> DataOutputs:
        context = self.context
        # The JWT secret is written from an ephemeral resource into a write-only argument
        # (iworkz_constructs.secret): ephemeral resources need Terraform 1.10, write-only 1.11.
        self.require_terraform(">= 1.11")
        env = context.env
        data = env.data
        prefix = context.prefix
        region, backup_region = self.aws.region, self.aws.backup_region
        account_id = self.aws.account_id
        vpc = network
        cluster = eks
        eks_groups = {
            "eks-nodes": cluster.node_security_group_id,
            "eks-cluster": cluster.cluster_security_group_id,
        }

        keys = data_keys(self, prefix, account_id, region, backup_region, self.aws.backup)
        alarm_actions = alerts.alarm_actions()

        pg = data.postgres
        self.postgres = Postgres(
            self,
            "postgres",
            PostgresProps(
                identifier=f"{prefix}-postgres",
                vpc_id=vpc.vpc_id,
                db_subnet_group_name=vpc.db_subnet_group_name,
                client_security_groups=eks_groups,
                # The DR site's PostgreSQL subscribes to this primary over the site-to-site VPN.
                client_cidrs={"dr-azure-postgres": dr_azure_subnets(env.dr_azure.vnet_cidr)["postgres"]}
                if env.dr_azure.enabled
                else {},
                kms_key_arn=keys["database"].arn,
                master_user_secret_kms_key_arn=keys["secrets"].arn,
                backup_replica=BackupReplica(
                    provider=self.aws.backup,
                    kms_key_arn=keys["replica"].arn,
                    retention_days=pg.cross_region_backup_retention_days,
                ),
                engine_version=pg.engine_version,
                instance_class=pg.instance_class,
                allocated_storage_gb=pg.allocated_storage_gb,
                max_allocated_storage_gb=pg.max_allocated_storage_gb,
                multi_az=pg.multi_az,
                read_replicas=pg.read_replicas,
                backup_retention_days=pg.backup_retention_days,
                backup_window=pg.backup_window,
                maintenance_window=pg.maintenance_window,
                database_name=pg.database_name,
                master_username=pg.master_username,
                log_retention_days=pg.log_retention_days,
                performance_insights_retention_days=pg.performance_insights_retention_days,
                alarm_actions=alarm_actions,
                alarms=env.alarms.settings("postgres"),
                subscriber_rpo_seconds=env.dr_azure.recovery.database_rpo_minutes * 60
                if env.dr_azure.enabled
                else None,
            ),
        )

        cache = data.redis
        self.redis = Redis(
            self,
            "redis",
            RedisProps(
                replication_group_id=f"{prefix}-redis",
                vpc_id=vpc.vpc_id,
                subnet_group_name=vpc.elasticache_subnet_group_name,
                client_security_groups=eks_groups,
                kms_key_arn=keys["cache"].arn,
                secret_kms_key_arn=keys["secrets"].arn,
                secret_name=f"{prefix}/redis",
                clients={REDIS_APP_USER: DEFAULT_CLIENT_ACCESS, REDIS_METRICS_USER: METRICS_CLIENT_ACCESS},
                engine_version=cache.engine_version,
                node_type=cache.node_type,
                shards=cache.shards,
                replicas_per_shard=cache.replicas_per_shard,
                snapshot_retention_days=cache.snapshot_retention_days,
                log_retention_days=cache.log_retention_days,
                alarm_actions=alarm_actions,
                alarms=env.alarms.settings("redis"),
            ),
        )

        search = data.opensearch
        self.opensearch = OpenSearch(
            self,
            "opensearch",
            OpenSearchProps(
                domain_name=f"{prefix}-search",
                region=region,
                account_id=account_id,
                vpc_id=vpc.vpc_id,
                subnet_ids=vpc.private_subnet_ids,
                availability_zones=min(len(env.network.availability_zones), 3),
                client_security_groups=eks_groups,
                kms_key_arn=keys["search"].arn,
                engine_version=search.engine_version,
                instance_type=search.instance_type,
                instance_count=search.instance_count,
                master_instance_type=search.master_instance_type,
                master_count=search.master_count,
                volume_size_gb=search.volume_size_gb,
                log_retention_days=search.log_retention_days,
                # Seed 12.1 log tiers for the ISM warm_migration / cold_migration actions.
                warm_count=search.warm_count,
                warm_instance_type=search.warm_instance_type,
                cold_storage=search.cold_storage,
                admin_service_account=AdminServiceAccount(
                    oidc_provider_arn=cluster.oidc_provider_arn,
                    oidc_issuer=cluster.oidc_issuer,
                    namespace=OPENSEARCH_ADMIN_NAMESPACE,
                    service_account=OPENSEARCH_ADMIN_SERVICE_ACCOUNT,
                ),
                alarm_actions=alarm_actions,
                alarms=env.alarms.settings("opensearch"),
            ),
        )

        lifecycle = data.lifecycle
        self.buckets = data_buckets(
            self,
            DataBucketsProps(
                prefix=prefix,
                names=data.buckets,
                account_id=account_id,
                region=region,
                backup_region=backup_region,
                backup_provider=self.aws.backup,
                kms_key_arn=keys["buckets"].arn,
                replica_kms_key_arn=keys["replica"].arn,
                access_log_retention_days=data.access_log_retention_days,
                transitions=(
                    Transition(lifecycle.standard_ia_after_days, "STANDARD_IA"),
                    Transition(lifecycle.glacier_after_days, "GLACIER"),
                    Transition(lifecycle.deep_archive_after_days, "DEEP_ARCHIVE"),
                ),
                expiration_days=lifecycle.expire_after_days,
                noncurrent_version_expiration_days=lifecycle.noncurrent_expire_after_days,
            ),
        )
        self.backup = data_backup(
            self,
            name=prefix,
            settings=env.backup,
            account_id=account_id,
            region=region,
            backup_region=backup_region,
            backup_provider=self.aws.backup,
            database_arn=self.postgres.arn,
            bucket_arns=[self.buckets[name].arn for name in data.buckets],
            db_subnet_group_name=vpc.db_subnet_group_name,
        )
        self.alarm_dashboard()

        jwt = Secret(
            self,
            "jwt-secret",
            SecretProps(
                name=f"{prefix}/jwt",
                description="JWT signing key of the iWORKZ services (generated by Secrets Manager)",
                kms_key_arn=keys["secrets"].arn,
                generated=GeneratedValue(length=64),
            ),
        )
        # The services' own database roles (created in the database by the workloads stack).
        role_passwords = role_password_secrets(self, prefix, keys["secrets"].arn)
        return DataOutputs.of(
            context,
            postgres=PostgresOutputs.of(
                context,
                address=self.postgres.address,
                endpoint=self.postgres.endpoint,
                reader_endpoint=self.postgres.reader_endpoint,
                # RDS creates and rotates this secret itself (manage_master_user_password).
                master_user_secret_arn=self.postgres.master_user_secret_arn,
                app_password_secret_arn=role_passwords["app"].arn,
                monitoring_password_secret_arn=role_passwords["monitoring"].arn,
            ),
            redis=RedisOutputs(
                arn=self.redis.arn,
                configuration_endpoint=self.redis.configuration_endpoint,
                user_arns=self.redis.user_arns,
                auth_secret_arn=self.redis.auth_secret_arn,
            ),
            opensearch=OpenSearchOutputs.of(
                context,
                endpoint=self.opensearch.endpoint,
                domain_arn=self.opensearch.domain_arn,
                master_user_arn=self.opensearch.master_user_arn,
            ),
            jwt_secret_arn=jwt.arn,
            secrets_kms_key_arn=keys["secrets"].arn,
            buckets_kms_key_arn=keys["buckets"].arn,
            buckets={name: bucket.name for name, bucket in self.buckets.items()},
        )
