"""AWS-native telemetry of an EKS cluster: Container Insights and the Fargate pods' logs.

- The EKS add-on ``amazon-cloudwatch-observability`` (the CloudWatch agent and Fluent Bit on every
  node: Container Insights metrics with enhanced observability, container logs in CloudWatch
  Logs, the design's "Fluentd + CloudWatch Logs"). Its service account ``amazon-cloudwatch/
  cloudwatch-agent`` gets an IRSA role with AWS's ``CloudWatchAgentServerPolicy``.
- Its log groups ``/aws/containerinsights/<cluster>/{application,dataplane,host,performance}``
  are created here first, encrypted with a customer-managed key and with a retention (the agent
  would otherwise create them unencrypted and kept forever).
- The log group of the Fargate pods, ``/aws/eks/<cluster>/fargate``: EKS's built-in Fluent Bit
  log router writes there once the ``aws-observability`` ConfigMap exists
  (:class:`~iworkz_constructs.fargate_logging.FargateLogging`, platform stack); the Fargate
  profiles' pod execution roles are granted exactly this group.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.workload_role import WorkloadRole, WorkloadRoleProps

ADDON = "amazon-cloudwatch-observability"
AGENT_NAMESPACE = "amazon-cloudwatch"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
AGENT_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
CONTAINER_INSIGHTS_LOGS = ("application", "dataplane", "host", "performance")
# The add-on's configuration (schema: aws eks describe-addon-configuration): container logs on;
# the agent keeps its default configuration (Container Insights with enhanced observability).
ADDON_CONFIGURATION = {"containerLogs": {"enabled": True}}


def fargate_log_group_name(cluster_name: str) -> str:
    return f"/aws/eks/{cluster_name}/fargate"


@dataclass(frozen=True)
class ClusterTelemetryProps:
    """Properties of :class:`ClusterTelemetry`.

    | name | meaning | default |
    |---|---|---|
    | cluster_name | the EKS cluster (a literal name: log group names) | required |
    | oidc_provider_arn / oidc_issuer | the cluster's IRSA identity provider | required |
    | account_id / region | where the cluster is (log-group key policy) | required |
    | log_retention_days | retention of the container and Fargate logs | 30 |
    | provider | aws provider | the stack's default |
    """

    cluster_name: str
    oidc_provider_arn: str
    oidc_issuer: str
    account_id: str
    region: str
    log_retention_days: int = 30
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if self.log_retention_days < 1:
            raise ValueError(f"cluster telemetry {self.cluster_name}: log_retention_days must be positive")


class ClusterTelemetry(Construct):
    """Attributes: ``logs_key``, ``log_groups`` (name -> resource), ``fargate_log_group_name``,
    ``fargate_log_group_arn``, ``agent_role`` (:class:`WorkloadRole`), ``addon_configuration``."""

    def __init__(self, scope: Construct, id: str, props: ClusterTelemetryProps) -> None:
        super().__init__(scope, id)
        cluster = props.cluster_name
        self.logs_key = KmsKey(
            self,
            "logs-key",
            KmsKeyProps(
                alias=f"{cluster}-container-logs",
                description=f"EKS {cluster}: Container Insights and Fargate logs",
                account_id=props.account_id,
                service_principals=(f"logs.{props.region}.amazonaws.com",),
                provider=props.provider,
            ),
        )
        names = {kind: f"/aws/containerinsights/{cluster}/{kind}" for kind in CONTAINER_INSIGHTS_LOGS}
        names["fargate"] = fargate_log_group_name(cluster)
        self.log_groups = {
            kind: CloudwatchLogGroup(
                self,
                f"log-{kind}",
                name=name,
                retention_in_days=props.log_retention_days,
                kms_key_id=self.logs_key.arn,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
                provider=props.provider,
            )
            for kind, name in names.items()
        }
        self.fargate_log_group_name = names["fargate"]
        self.fargate_log_group_arn = self.log_groups["fargate"].arn
        self.agent_role = WorkloadRole(
            self,
            "agent-role",
            WorkloadRoleProps(
                role_name=f"{cluster}-cloudwatch-agent",
                oidc_provider_arn=props.oidc_provider_arn,
                oidc_issuer=props.oidc_issuer,
                namespace=AGENT_NAMESPACE,
                service_account=AGENT_SERVICE_ACCOUNT,
                managed_policy_arns=(AGENT_POLICY,),
                description=f"CloudWatch agent and Fluent Bit of {cluster} (Container Insights)",
                provider=props.provider,
            ),
        )
        self.addon_configuration = ADDON_CONFIGURATION
