"""What each stack exposes to the stacks built on it (see :mod:`iworkz.contract` for the mechanics).

A producing stack builds its contract from its constructs and publishes it; the registry hands
each consumer the contracts of the components it declares, read from the producers' state. A
stack reads nothing of another stack except through these classes.

| contract | produced by | read by |
|---|---|---|
| :class:`StateOutputs` | ``state`` | delivery (the state the pipelines read and lock) |
| :class:`DeliveryOutputs` | ``delivery`` | dr-azure (grants the pipelines' Entra identities); people: the pipeline's variables |
| :class:`AlertsOutputs` | ``alerts-E`` | network, eks, data, dr-azure, monitoring, edge |
| :class:`SecurityOutputs` | ``security`` | (other subscribers of the findings topic) |
| :class:`NetworkOutputs` | ``network-E`` | eks, data, ai, dr-azure |
| :class:`ClusterOutputs` | ``eks-E`` | data, platform, workloads, monitoring |
| :class:`DataOutputs` | ``data-E`` | ai, workloads, monitoring, dr-sync |
| :class:`AiOutputs` | ``ai-E`` | workloads |
| :class:`DrAzureOutputs` | ``dr-azure-E`` | dr-platform, dr-sync (edge: its configured ingress name) |
| :class:`DrPlatformOutputs` | ``dr-platform-E`` (AKS add-ons) | (people: the runbook) |
| :class:`DrSyncOutputs` | ``dr-sync-E`` | (people: the runbook) |
| :class:`PlatformOutputs` | ``platform-E`` (cluster add-ons) | workloads, monitoring |
| :class:`WorkloadsOutputs` | ``workloads-E`` | monitoring, edge |
| :class:`MonitoringOutputs` | ``monitoring-E`` | (people: Grafana, the OTLP endpoint) |
| :class:`EdgeOutputs` | ``edge-E`` | (people: the DNS names, the web ACL) |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol

from iworkz.context import StackContext
from iworkz.contract import Configured, Contract, Published

if TYPE_CHECKING:
    from constructs import Construct

    from iworkz_constructs.ai_access import AiAccess
    from iworkz_constructs.alarms import AlarmActions
    from iworkz_constructs.pipeline_role import PipelineRole
    from iworkz_constructs.workload_role import WorkloadRole


class PolicyGrantee(Protocol):
    """A role-bearing construct that can be granted more (WorkloadRole, PythonFunction)."""

    def add_to_policy(self, *statements: Mapping[str, Any]) -> None: ...


# The ElastiCache users (IAM authentication) the data stack creates for its consumers.
REDIS_APP_USER = "app"
REDIS_METRICS_USER = "monitoring"  # redis_exporter: read-only, no keys
REDIS_CLIENTS = (REDIS_APP_USER, REDIS_METRICS_USER)
# The PostgreSQL roles of the services (the RDS master user stays for administration); the
# workloads stack's database-roles Job creates them with the passwords the data stack generated.
POSTGRES_APP_USER = "iworkz_app"
POSTGRES_MONITORING_USER = "iworkz_monitoring"
# The service account (in a namespace of its own) that may act as the OpenSearch master user:
# the monitoring stack's setup Job applies roles and ISM policies with it.
OPENSEARCH_ADMIN_NAMESPACE = "opensearch-setup"
OPENSEARCH_ADMIN_SERVICE_ACCOUNT = "opensearch-bootstrap"


# Count and key functions of the contracts' list and mapping fields (named: annotations are
# evaluated in the class's namespace, where a lambda would not see this module's names).
def _redis_clients(context: StackContext) -> tuple[str, ...]:
    return REDIS_CLIENTS


def _public_hosts(context: StackContext) -> tuple[str, ...]:
    return ("api", "app")


def _zones(context: StackContext) -> int:
    return len(context.env.network.availability_zones)


def _nat_gateways(context: StackContext) -> int:
    return 1 if context.env.network.nat_gateways == "single" else _zones(context)


def _buckets(context: StackContext) -> list[str]:
    from iworkz.config.data import ACCESS_LOGS_BUCKET

    names = [ACCESS_LOGS_BUCKET, *context.env.data.buckets]
    return [f"{name}{suffix}" for name in names for suffix in ("", "-replica")]


def _objects(bucket_arn: str, keys: Sequence[str]) -> list[str]:
    return [f"{bucket_arn}/{key}" for key in sorted(keys)]


# --- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateOutputs(Contract):
    """The shared state backend of the account."""

    component: ClassVar[str] = "state"

    state_bucket: Annotated[str, Published("S3 bucket holding every stack's state")]
    lock_table: Annotated[str, Published("DynamoDB table locking the state")]
    state_kms_key_arn: Annotated[str, Published("KMS key encrypting the state")]
    region: Annotated[str, Configured("region of the bucket and the table")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        return {"region": context.common.backend.s3.region}

    def lock_table_arn(self, account_id: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{account_id}:table/{self.lock_table}"

    def grant_state_access(
        self, role: PipelineRole, account_id: str, *, read: Sequence[str], write: Sequence[str] = ()
    ) -> None:
        """Lets ``role`` read the state objects ``read`` and ``write`` (keys), lock all of them
        (S3 lock files and DynamoDB rows of exactly those keys) and replace those in ``write``."""
        keys = sorted({*read, *write})
        bucket = f"arn:aws:s3:::{self.state_bucket}"
        statements: list[dict[str, Any]] = [
            {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
            {"Sid": "StateRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": _objects(bucket, keys)},
            {
                "Sid": "StateLockFiles",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": _objects(bucket, [f"{key}.tflock" for key in keys]),
            },
            {
                "Sid": "StateLockTable",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                "Resource": self.lock_table_arn(account_id),
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "dynamodb:LeadingKeys": [
                            f"{self.state_bucket}/{key}{suffix}" for key in keys for suffix in ("", "-md5")
                        ]
                    }
                },
            },
            {
                "Sid": "StateKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": self.state_kms_key_arn,
            },
        ]
        if write:
            statements.append(
                {"Sid": "StateWrite", "Effect": "Allow", "Action": "s3:PutObject", "Resource": _objects(bucket, write)}
            )
        role.add_to_policy(*statements)


# --- delivery ----------------------------------------------------------------------------------


def _deploy_environments(context: StackContext) -> list[str]:
    """Every configured environment: each has a deploy role (the account's stacks ignore ENVS)."""
    return sorted(context.settings.every_environment)


def _dr_environments(context: StackContext) -> list[str]:
    return sorted(name for name, env in context.settings.every_environment.items() if env.dr_azure.enabled)


@dataclass(frozen=True)
class DeliveryOutputs(Contract):
    """The identities the pipelines assume: the GitLab CI/CD variables of the project."""

    component: ClassVar[str] = "delivery"

    gitlab_oidc_provider_arn: Annotated[str, Published("IAM OIDC provider of the GitLab instance")]
    aws_plan_role_arn: Annotated[
        str, Published("IWORKZ_AWS_PLAN_ROLE_ARN: merge-request plans (read-only, state read and lock)")
    ]
    aws_deploy_role_arns: Annotated[
        Mapping[str, str],
        Published(
            "IWORKZ_AWS_DEPLOY_ROLE_ARN of each environment (a variable scoped to that GitLab environment)",
            keys=_deploy_environments,
        ),
    ]
    azure_tenant_id: Annotated[str, Published("ARM_TENANT_ID of the pipelines' Entra ID applications")]
    azure_plan_client_id: Annotated[str, Published("ARM_CLIENT_ID of merge-request plans (Reader)")]
    azure_plan_principal_id: Annotated[str, Published("object ID of the plan service principal")]
    azure_deploy_client_ids: Annotated[
        Mapping[str, str],
        Published("ARM_CLIENT_ID of each DR environment's deploys (scoped variable)", keys=_dr_environments),
    ]
    azure_deploy_principal_ids: Annotated[
        Mapping[str, str],
        Published("object ID of each DR environment's deploy service principal", keys=_dr_environments),
    ]


# --- alerts ------------------------------------------------------------------------------------


def _severities(context: StackContext) -> tuple[str, ...]:
    from iworkz_constructs.alarm_settings import SEVERITIES

    return SEVERITIES


@dataclass(frozen=True)
class AlertsOutputs(Contract):
    """The alert path of an environment: where alarms notify and what delivers them.

    The webhook URLs' secret is created by the monitoring stack and filled by the operators; the
    forwarder reads it by this name at run time (it exists from the monitoring stack's deploy on).
    """

    component: ClassVar[str] = "alerts"

    topic_arns: Annotated[
        Mapping[str, str], Published("SNS topic of each alert severity", name="alert_topic_arns", keys=_severities)
    ]
    kms_key_arn: Annotated[
        str, Published("KMS key of the alert topics, their functions and queues", name="alerts_kms_key_arn")
    ]
    forwarder_function_name: Annotated[str, Published("Lambda function delivering alerts to the receivers")]
    forwarder_invoke_arn: Annotated[str, Published("Invoke ARN of the forwarder (API Gateway integrations)")]
    webhook_secret_name: Annotated[str, Configured("Secrets Manager entry of the receivers' webhook URLs")]
    teams: Annotated[Sequence[str], Configured("teams with a receiver (monitoring.alert_teams)")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        return {
            "webhook_secret_name": f"{context.prefix}/monitoring/alertmanager-webhooks",
            "teams": tuple(context.env.monitoring.alert_teams),
        }

    def alarm_actions(self) -> AlarmActions:
        """What the constructs' ``alarm_actions`` take: the topic of each severity."""
        from iworkz_constructs.alarms import AlarmActions

        return AlarmActions(self.topic_arns)

    def grant_publish(self, grantee: PolicyGrantee) -> None:
        """Lets ``grantee`` publish alerts to the topics (encrypted: through SNS with the topics' key)."""
        grantee.add_to_policy(
            {
                "Sid": "PublishAlerts",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": list(self.topic_arns.values()),
            },
            {
                "Sid": "EncryptAlerts",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": self.kms_key_arn,
            },
        )


# --- security ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityOutputs(Contract):
    """The account's audit trail and its security findings topic.

    The topic carries GuardDuty and Security Hub findings of high and critical severity and the
    audit trail's alarms (JSON messages); a stack that subscribes to it (a per-severity alert
    topic, an incident tool) reads it from here and needs ``findings_kms_key_arn`` to publish.
    """

    component: ClassVar[str] = "security"

    findings_topic_arn: Annotated[str, Published("SNS topic of high and critical security findings")]
    findings_kms_key_arn: Annotated[str, Published("KMS key of the findings topic")]
    audit_bucket: Annotated[str, Published("S3 bucket of the audit trail (Object Lock, COMPLIANCE)")]
    trail_arn: Annotated[str, Published("CloudTrail trail of every region")]
    audit_log_group: Annotated[str, Published("CloudWatch log group of the audit trail")]


# --- network -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkOutputs(Contract):
    """The VPC of an environment: its subnets by tier, route tables and subnet groups."""

    component: ClassVar[str] = "network"

    vpc_id: Annotated[str, Published("ID of the VPC (seed output name)")]
    vpc_cidr: Annotated[str, Published("IPv4 CIDR of the VPC", configured=True)]
    public_subnet_ids: Annotated[list[str], Published("public subnets, one per zone", count=_zones)]
    private_subnet_ids: Annotated[list[str], Published("private subnets, one per zone", count=_zones)]
    database_subnet_ids: Annotated[list[str], Published("database subnets, one per zone", count=_zones)]
    public_subnet_cidrs: Annotated[list[str], Published("CIDRs of the public subnets", count=_zones, configured=True)]
    private_subnet_cidrs: Annotated[list[str], Published("CIDRs of the private subnets", count=_zones, configured=True)]
    database_subnet_cidrs: Annotated[
        list[str], Published("CIDRs of the database subnets", count=_zones, configured=True)
    ]
    private_route_table_ids: Annotated[
        list[str], Published("route tables of the private subnets, one per zone", count=_zones)
    ]
    database_route_table_ids: Annotated[
        list[str], Published("route tables of the database subnets, one per zone", count=_zones)
    ]
    db_subnet_group_name: Annotated[str, Published("RDS subnet group over the database subnets")]
    elasticache_subnet_group_name: Annotated[str, Published("ElastiCache subnet group over the database subnets")]
    nat_public_ips: Annotated[
        list[str], Published("public IPs of the NAT gateways (egress allow-lists)", count=_nat_gateways)
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        network = context.env.network
        return {
            "vpc_cidr": network.vpc_cidr,
            **{f"{tier}_subnet_cidrs": network.tier_cidrs(tier) for tier in ("public", "private", "database")},
        }


# --- eks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterOutputs(Contract):
    """The EKS cluster of an environment: how to reach it and trust its service accounts."""

    component: ClassVar[str] = "eks"

    name: Annotated[str, Published("EKS cluster name", name="eks_cluster_name")]
    endpoint: Annotated[str, Published("EKS control plane endpoint", name="eks_cluster_endpoint")]
    certificate_authority_data: Annotated[
        str, Published("base64 CA bundle of the EKS API server", name="eks_cluster_certificate_authority_data")
    ]
    oidc_provider_arn: Annotated[str, Published("IAM OIDC provider (IRSA)", name="eks_oidc_provider_arn")]
    oidc_issuer: Annotated[
        str, Published("OIDC issuer of the cluster, without https:// (IRSA trust)", name="eks_oidc_issuer")
    ]
    node_security_group_id: Annotated[
        str, Published("security group of the managed nodes", name="eks_node_security_group_id")
    ]
    cluster_security_group_id: Annotated[
        str,
        Published(
            "EKS-managed cluster security group (control plane, Fargate pods)", name="eks_cluster_security_group_id"
        ),
    ]
    vpc_id: Annotated[str, Published("VPC of the cluster", name="eks_vpc_id")]
    region: Annotated[str, Configured("AWS region of the cluster")]
    fargate_log_group: Annotated[
        str,
        Published("CloudWatch log group of the Fargate pods' logs", name="eks_fargate_log_group", configured=True),
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz_constructs.cluster_telemetry import fargate_log_group_name

        return {"region": context.env.aws.region, "fargate_log_group": fargate_log_group_name(context.prefix)}

    def service_account_role(
        self,
        scope: Construct,
        id: str,
        *,
        role_name: str,
        namespace: str,
        service_account: str,
        statements: Sequence[Mapping[str, Any]] = (),
        description: str | None = None,
    ) -> WorkloadRole:
        """An IAM role (IRSA) that exactly this service account of the cluster may assume.

        The service account carries ``role.service_account_annotations``; grants add statements.
        IRSA rather than EKS Pod Identity: External Secrets authenticates a namespace's store as
        that namespace's service account through web identity, which Pod Identity does not offer.
        """
        from iworkz_constructs.workload_role import WorkloadRole, WorkloadRoleProps

        return WorkloadRole(
            scope,
            id,
            WorkloadRoleProps(
                role_name=role_name,
                oidc_provider_arn=self.oidc_provider_arn,
                oidc_issuer=self.oidc_issuer,
                namespace=namespace,
                service_account=service_account,
                policy_statements=statements,
                description=description,
            ),
        )


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresOutputs(Contract):
    address: Annotated[str, Published("RDS PostgreSQL host name", name="rds_address")]
    endpoint: Annotated[str, Published("RDS PostgreSQL endpoint", name="rds_endpoint", sensitive=True)]
    reader_endpoint: Annotated[str, Published("RDS PostgreSQL read replica endpoint", name="rds_reader_endpoint")]
    master_user_secret_arn: Annotated[
        str, Published("Secrets Manager secret of the RDS-managed master user", name="database_secret_arn")
    ]
    app_password_secret_arn: Annotated[
        str, Published("Secrets Manager secret: password of the application's database role")
    ]
    monitoring_password_secret_arn: Annotated[
        str, Published("Secrets Manager secret: password of postgres_exporter's database role")
    ]
    database_name: Annotated[str, Configured("the application database")]
    app_user: Annotated[str, Configured("the application's database role")]
    monitoring_user: Annotated[str, Configured("postgres_exporter's database role")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        return {
            "database_name": context.env.data.postgres.database_name,
            "app_user": POSTGRES_APP_USER,
            "monitoring_user": POSTGRES_MONITORING_USER,
        }


@dataclass(frozen=True)
class RedisOutputs(Contract):
    arn: Annotated[str, Published("ARN of the ElastiCache replication group", name="redis_arn")]
    configuration_endpoint: Annotated[
        str,
        Published("ElastiCache Redis configuration endpoint (cluster mode)", name="redis_endpoint", sensitive=True),
    ]
    user_arns: Annotated[
        Mapping[str, str],
        Published("ElastiCache users (IAM authentication) by client", name="redis_user_arns", keys=_redis_clients),
    ]
    auth_secret_arn: Annotated[
        str, Published("Secrets Manager secret: Redis connection details", name="redis_secret_arn")
    ]

    def grant_connect(self, role: WorkloadRole, *clients: str) -> None:
        """Lets ``role`` connect as the given clients (ElastiCache IAM authentication)."""
        role.add_to_policy(
            {
                "Sid": "ElastiCacheIamConnect",
                "Effect": "Allow",
                "Action": "elasticache:Connect",
                "Resource": [self.arn, *(self.user_arns[name] for name in clients)],
            }
        )


@dataclass(frozen=True)
class OpenSearchOutputs(Contract):
    endpoint: Annotated[str, Published("OpenSearch VPC endpoint", name="opensearch_endpoint")]
    domain_arn: Annotated[str, Published("ARN of the OpenSearch domain", name="opensearch_domain_arn")]
    master_user_arn: Annotated[
        str,
        Published("OpenSearch fine-grained access control master user (IAM role)", name="opensearch_master_role_arn"),
    ]
    warm_enabled: Annotated[bool, Configured("the domain has UltraWarm nodes")]
    cold_storage_enabled: Annotated[bool, Configured("the domain has cold storage")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        search = context.env.data.opensearch
        return {"warm_enabled": search.warm_count > 0, "cold_storage_enabled": search.cold_storage}

    def grant_http_write(self, role: WorkloadRole) -> None:
        """Lets ``role`` call the domain's HTTP API; fine-grained access control decides which indices."""
        role.add_to_policy(
            {
                "Sid": "OpenSearchHttp",
                "Effect": "Allow",
                "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"],
                "Resource": [self.domain_arn, f"{self.domain_arn}/*"],
            }
        )


@dataclass(frozen=True)
class DataOutputs(Contract):
    """The data services of an environment and the secrets that reach them."""

    component: ClassVar[str] = "data"

    postgres: PostgresOutputs
    redis: RedisOutputs
    opensearch: OpenSearchOutputs
    jwt_secret_arn: Annotated[str, Published("Secrets Manager secret: JWT signing key")]
    secrets_kms_key_arn: Annotated[str, Published("KMS key of the workloads' secrets")]
    buckets_kms_key_arn: Annotated[str, Published("KMS key of the application buckets")]
    buckets: Annotated[
        Mapping[str, str], Published("S3 bucket names by purpose (replicas as <name>-replica)", keys=_buckets)
    ]
    backup_volume_tag: Annotated[
        Mapping[str, str], Configured("tag that puts an EBS volume into the environment's AWS Backup plan")
    ]

    def grant_bucket_read(self, role: WorkloadRole, *purposes: str) -> None:
        """Lets ``role`` list and read the application buckets of these purposes (and decrypt them)."""
        names = [self.buckets[purpose] for purpose in purposes]
        role.add_to_policy(
            {
                "Sid": "ListBuckets",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{name}" for name in names],
            },
            {
                "Sid": "ReadObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [f"arn:aws:s3:::{name}/*" for name in names],
            },
            {"Sid": "DecryptObjects", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": self.buckets_kms_key_arn},
        )

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz.policy.rules.backup_coverage import BACKUP_TAG_KEY

        return {"backup_volume_tag": {BACKUP_TAG_KEY: context.prefix}}


# --- ai ----------------------------------------------------------------------------------------


def _endpoint_models(context: StackContext) -> tuple[str, ...]:
    from iworkz.config.ai import MATCHING_MODEL

    return (MATCHING_MODEL,) if context.env.ai.endpoint.enabled else ()


def _bedrock_models(context: StackContext) -> list[str]:
    return list(context.env.ai.bedrock.models)


@dataclass(frozen=True)
class AiOutputs(Contract):
    """The AI services of an environment (SageMaker, Bedrock, Textract, Comprehend) and who may call them.

    The ai stack's interface endpoints admit only ``client_role_name`` (ai-services' role, which
    the workloads stack creates under that name); :meth:`grant_invoke` gives that role the same
    statements the endpoint policies allow (:class:`iworkz_constructs.ai_access.AiAccess`).
    """

    component: ClassVar[str] = "ai"

    endpoint_names: Annotated[
        Mapping[str, str],
        Published(
            "SageMaker endpoints by model (none when ai.endpoint.enabled is false)",
            name="sagemaker_endpoint_names",
            keys=_endpoint_models,
        ),
    ]
    endpoint_arns: Annotated[
        Mapping[str, str],
        Published("ARNs of the SageMaker endpoints by model", name="sagemaker_endpoint_arns", keys=_endpoint_models),
    ]
    model_arns: Annotated[
        Mapping[str, str],
        Published(
            "per allowed Bedrock model ID, the ARN invoked (foundation model or inference profile)",
            name="bedrock_model_arns",
            keys=_bedrock_models,
        ),
    ]
    guardrail_id: Annotated[
        str, Published("Bedrock guardrail masking personal information", name="bedrock_guardrail_id")
    ]
    guardrail_arn: Annotated[str, Published("ARN of the guardrail", name="bedrock_guardrail_arn")]
    guardrail_version: Annotated[
        str, Published("guardrail version every Bedrock call names", name="bedrock_guardrail_version")
    ]
    guardrail_kms_key_arn: Annotated[str, Published("KMS key of the guardrail", name="bedrock_guardrail_kms_key_arn")]
    region: Annotated[str, Configured("Region of the AI services")]
    client_role_name: Annotated[str, Configured("IAM role the interface endpoints admit (ai-services)")]
    textract: Annotated[bool, Configured("ai-services may call Textract")]
    comprehend: Annotated[bool, Configured("ai-services may call Comprehend")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        ai = context.env.ai
        return {
            "region": context.env.aws.region,
            "client_role_name": f"{context.prefix}-ai-services",
            "textract": ai.textract,
            "comprehend": ai.comprehend,
        }

    def access(self) -> AiAccess:
        """What the client role may call (its grants; the endpoint policies repeat them)."""
        from iworkz_constructs.ai_access import AiAccess

        return AiAccess(
            region=self.region,
            model_arns=self.model_arns,
            guardrail_arn=self.guardrail_arn,
            guardrail_version=self.guardrail_version,
            guardrail_kms_key_arn=self.guardrail_kms_key_arn,
            endpoint_arns=list(self.endpoint_arns.values()),
            textract=self.textract,
            comprehend=self.comprehend,
        )

    def client_role_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{self.client_role_name}"

    def grant_invoke(self, role: WorkloadRole) -> None:
        """Lets ``role`` (which must be the client role) call the endpoints, models and services."""
        if role.role_name != self.client_role_name:
            raise ValueError(
                f"grant_invoke: the interface endpoints admit only {self.client_role_name}, not {role.role_name}"
            )
        role.add_to_policy(*self.access().statements())


# --- dr-azure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrAzureOutputs(Contract):
    """The Korea Central disaster-recovery site of an environment."""

    component: ClassVar[str] = "dr-azure"

    aks_cluster_name: Annotated[str, Published("AKS backup cluster")]
    aks_cluster_id: Annotated[str, Published("AKS backup cluster resource ID")]
    postgres_fqdn: Annotated[str, Published("Private FQDN of the DR PostgreSQL flexible server", sensitive=True)]
    backup_storage_account_name: Annotated[str, Published("Storage account receiving the S3 backup copies")]
    backup_container_name: Annotated[str, Published("Immutable container of the backup copies")]
    vpn_gateway_public_ip: Annotated[str, Published("Public IP of the Azure VPN gateway (the AWS customer gateway)")]
    alert_action_group_id: Annotated[
        str, Published("Azure Monitor action group delivering the DR site's alerts to the alert receivers")
    ]
    alert_teams: Annotated[Sequence[str], Configured("teams with an alert receiver")]

    resource_group_name: Annotated[str, Published("Resource group of the DR site", configured=True)]
    location: Annotated[str, Configured("Azure region of the DR site")]
    tenant_id: Annotated[str, Published("Entra tenant of the DR site")]
    aks_oidc_issuer_url: Annotated[str, Published("OIDC issuer of the AKS cluster (workload identity)")]
    aks_host: Annotated[str, Published("API server of the AKS cluster", sensitive=True)]
    aks_cluster_ca_certificate: Annotated[str, Published("base64 CA bundle of the AKS API server", sensitive=True)]
    key_vault_id: Annotated[str, Published("Key Vault of the DR site")]
    key_vault_uri: Annotated[str, Published("Key Vault URI (the secrets the DR workloads read)")]
    backup_container_id: Annotated[str, Published("Resource ID of the immutable backup container")]
    postgres_server_name: Annotated[str, Published("DR PostgreSQL flexible server", configured=True)]
    redis_hostname: Annotated[
        str, Published("Private host name of the DR site's Azure Cache for Redis (TLS port 6380)")
    ]
    redis_cache_id: Annotated[str, Published("Resource ID of the DR cache (its access policies)")]
    ingress_ip_name: Annotated[str, Published("Public IP of the standby cluster's gateway", configured=True)]
    ingress_ip_address: Annotated[str, Published("Address of the standby cluster's gateway")]
    ingress_fqdn: Annotated[
        str, Published("DNS name of the standby gateway: the Azure origin of the edge's failover pool", configured=True)
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz_constructs.azure_ingress_address import ingress_fqdn

        prefix = f"{context.prefix}-dr"
        return {
            "alert_teams": tuple(context.env.monitoring.alert_teams),
            "resource_group_name": f"{prefix}-rg",
            "location": context.env.dr_azure.location,
            "postgres_server_name": f"{prefix}-pg",
            "ingress_ip_name": f"{prefix}-ingress-ip",
            "ingress_fqdn": ingress_fqdn(prefix, context.env.dr_azure.location),
        }

    def alert_action(self, team: str, severity: str) -> dict[str, Any]:
        """An Azure Monitor alert's ``action`` on the alert path (``MonitorMetricAlertAction(**...)``
        and the other alert kinds' action blocks take these fields)."""
        from iworkz_constructs.azure_alert_path import alert_action

        return alert_action(self.alert_action_group_id, self.alert_teams, team, severity)


@dataclass(frozen=True)
class DrPlatformOutputs(Contract):
    """The add-ons of the DR site's AKS cluster, as the standby workloads see them."""

    component: ClassVar[str] = "dr-platform"

    gateway_class: Annotated[str, Published("GatewayClass of the standby gateway (istiod)", configured=True)]
    gateway_namespace: Annotated[str, Published("namespace of istiod", configured=True)]
    secret_reader: Annotated[
        str, Published("<namespace>/<service account> that reads the Key Vault (workload identity)", configured=True)
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        return {
            "gateway_class": "istio",
            "gateway_namespace": MESH_ROOT_NAMESPACE,
            "secret_reader": "external-secrets/key-vault-reader",
        }


@dataclass(frozen=True)
class DrSyncOutputs(Contract):
    """What keeps the DR site current, as the runbook's operators find it in the EKS cluster."""

    component: ClassVar[str] = "dr-sync"

    namespace: Annotated[str, Published("namespace of the DR sync Jobs", name="dr_sync_namespace", configured=True)]
    replication_job: Annotated[
        str, Published("name prefix of the replication setup Job (a digest follows)", configured=True)
    ]
    copy_cron_job: Annotated[str, Published("the S3 -> Blob copy CronJob", configured=True)]
    copy_staleness_alert: Annotated[str, Published("Prometheus alert of a copy older than the RPO", configured=True)]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        return {
            "namespace": "dr-sync",
            "replication_job": "dr-replication",
            "copy_cron_job": "object-copy",
            "copy_staleness_alert": "DrObjectCopyStale",
        }


@dataclass(frozen=True)
class DrWorkloadsOutputs(Contract):
    """The standby application on the DR site's AKS cluster, as the runbook's operators find it."""

    component: ClassVar[str] = "dr-workloads"

    namespace: Annotated[str, Published("namespace of the standby workloads", name="dr_namespace", configured=True)]
    replicas: Annotated[
        Mapping[str, int], Configured("pods of each workload now: the standby size, or serving after a failover")
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz.config.dr_azure import dr_replicas

        env = context.env
        return {"namespace": context.prefix, "replicas": dr_replicas(env.dr_azure.standby, env.platform)}


# --- platform ----------------------------------------------------------------------------------

# The mesh the platform stack installs (Istio ambient): its root namespace holds mesh-wide policy,
# and a namespace with these labels has its pods in the mesh (mTLS through ztunnel).
MESH_ROOT_NAMESPACE = "istio-system"
MESH_MEMBER_LABELS = {"istio.io/dataplane-mode": "ambient"}


@dataclass(frozen=True)
class PlatformOutputs(Contract):
    """What the cluster add-ons offer the stacks deployed on them (their CRDs come with them)."""

    component: ClassVar[str] = "platform"

    mesh_root_namespace: Annotated[str, Configured("Istio's root namespace (mesh-wide policies)")]
    mesh_member_labels: Annotated[Mapping[str, str], Configured("labels that put a namespace into the mesh")]
    otlp_endpoint: Annotated[str, Configured("OTLP gRPC endpoint of the OpenTelemetry Collector")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz.telemetry_values import otlp_endpoint

        return {
            "mesh_root_namespace": MESH_ROOT_NAMESPACE,
            "mesh_member_labels": MESH_MEMBER_LABELS,
            "otlp_endpoint": otlp_endpoint(),
        }


# --- workloads ---------------------------------------------------------------------------------

# Namespaces carrying this label may scrape the workloads' metrics port (their NetworkPolicies
# admit it): the monitoring stack labels its namespace so; the workloads need not know its name.
METRICS_SCRAPER_LABEL = {"iworkz.io/metrics-scraper": "true"}
# The public hosts' roles and the workload behind each (the Gateway's routes).
PUBLIC_WORKLOADS = {"api": "backend-api", "app": "web-frontend"}


def _application_secrets(context: StackContext) -> list[str]:
    return ["openai", *(["registry"] if context.env.platform.image_pull_secret else [])]


def _workload_names(context: StackContext) -> list[str]:
    from iworkz.config.platform import WORKLOADS

    return list(WORKLOADS)


@dataclass(frozen=True)
class WorkloadsOutputs(Contract):
    """The design's 12.2 workloads of an environment, as the stacks around them see them."""

    component: ClassVar[str] = "workloads"

    namespace: Annotated[str, Published("namespace of the design's workloads", name="app_namespace", configured=True)]
    metrics_targets: Annotated[
        Mapping[str, str],
        Published(
            "Prometheus scrape target (<service>.<namespace>.svc:<port>) of each workload",
            keys=_workload_names,
            configured=True,
        ),
    ]
    hosts: Annotated[
        Mapping[str, str],
        Published("public hosts: api, app", name="ingress_hosts", keys=_public_hosts, configured=True),
    ]
    metrics_scraper_label: Annotated[Mapping[str, str], Configured("label of the namespaces that may scrape metrics")]
    load_balancer_name: Annotated[
        str, Published("name of the ALB the Gateway's load balancer controller creates", configured=True)
    ]
    api_health_path: Annotated[str, Configured("path on the API host that answers 200 while the API is up")]
    load_balancer_tags: Annotated[Mapping[str, str], Configured("AWS tags of the ALB and its target groups")]
    target_group_tags: Annotated[
        Mapping[str, Mapping[str, str]],
        Configured("AWS tags of the ALB's target group behind each public host (alarms find the groups by them)"),
    ]
    certificate_arn: Annotated[str, Published("ACM certificate of the ALB's HTTPS listener (every public host)")]
    certificate_validation_names: Annotated[
        Mapping[str, str], Published("ACM validation record name per public host", keys=_public_hosts)
    ]
    certificate_validation_types: Annotated[
        Mapping[str, str], Published("ACM validation record type per public host", keys=_public_hosts)
    ]
    certificate_validation_values: Annotated[
        Mapping[str, str], Published("ACM validation record value per public host", keys=_public_hosts)
    ]
    operator_secret_arns: Annotated[
        Mapping[str, str],
        Published("Secrets Manager entries the operators fill (OpenAI key, registry token)", keys=_application_secrets),
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz.config.edge import load_balancer_name
        from iworkz_constructs.alb_gateway import target_group_tags
        from iworkz_constructs.application import METRICS_PORT, SEED_WORKLOADS
        from iworkz_constructs.k8s_workload import metrics_target, service_name

        namespace = context.prefix  # design 12.2: iworkz-production
        domain = context.env.platform.domain
        load_balancer_tags = {"Environment": str(context.environment_name)}
        return {
            "namespace": namespace,
            "metrics_targets": {
                name: metrics_target(name, namespace, METRICS_PORT) for name in _workload_names(context)
            },
            "hosts": {"api": f"api.{domain}", "app": f"app.{domain}"},
            "metrics_scraper_label": METRICS_SCRAPER_LABEL,
            "load_balancer_name": load_balancer_name(context.prefix),
            "api_health_path": SEED_WORKLOADS["backend-api"].liveness.path,
            "load_balancer_tags": load_balancer_tags,
            "target_group_tags": {
                role: target_group_tags(load_balancer_tags, service_name(name))
                for role, name in PUBLIC_WORKLOADS.items()
            },
        }


# --- monitoring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringOutputs(Contract):
    """Where the environment's telemetry goes and where people look at it."""

    component: ClassVar[str] = "monitoring"

    monitoring_namespace: Annotated[str, Published("Namespace of the monitoring stack", configured=True)]
    grafana_service_name: Annotated[
        str, Published("Grafana Service in namespace monitoring (port 80)", configured=True)
    ]
    prometheus_service_name: Annotated[
        str, Published("Prometheus Service in namespace monitoring (port 9090)", configured=True)
    ]
    otlp_endpoint: Annotated[
        str,
        Published(
            "OTLP gRPC endpoint the services send traces to (the platform's collector; HTTP: port 4318)",
            configured=True,
        ),
    ]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        from iworkz import monitoring_values as values
        from iworkz.telemetry_values import otlp_endpoint

        return {
            "monitoring_namespace": values.NAMESPACE,
            "grafana_service_name": values.GRAFANA_SERVICE,
            "prometheus_service_name": values.PROMETHEUS_SERVICE,
            "otlp_endpoint": otlp_endpoint(),
        }


# --- edge --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeOutputs(Contract):
    """The public face of an environment: Cloudflare in front of the ALB, AWS WAF on it."""

    component: ClassVar[str] = "edge"

    origin_dns_name: Annotated[str, Published("DNS name of the ALB behind Cloudflare (the primary origin)")]
    web_acl_arn: Annotated[str, Published("AWS WAF web ACL on the ALB")]
    primary_pool_id: Annotated[str, Published("Cloudflare load balancer pool of the AWS origin")]
