"""Logging of the cluster's Fargate pods: EKS's built-in Fluent Bit log router, configured.

EKS runs a Fluent Bit log router on every Fargate node and reads its configuration from the
ConfigMap ``aws-logging`` in the namespace ``aws-observability`` (labelled
``aws-observability: enabled``; EKS user guide, "Start AWS Fargate logging for your cluster"):
only FILTER, OUTPUT and PARSER sections, at most 5300 characters, no environment variables.
The pods' logs go to the cluster's Fargate log group (created encrypted, with its retention,
by :class:`~iworkz_constructs.cluster_telemetry.ClusterTelemetry`), whose name the pod execution
roles may write. A changed configuration applies to new pods only.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from constructs import Construct

from iworkz_constructs.namespace import Namespace, NamespaceProps

NAMESPACE = "aws-observability"
CONFIG_MAP = "aws-logging"
MAX_CONFIG_CHARACTERS = 5300
# Container runtime lines (CRI-O format) -> time, stream, log; then the pod's Kubernetes metadata.
FILTERS = """[FILTER]
    Name parser
    Match *
    Key_name log
    Parser crio
[FILTER]
    Name kubernetes
    Match kube.*
    Merge_Log On
    Keep_Log Off
    Buffer_Size 0
    Kube_Meta_Cache_TTL 300s
"""
PARSERS = """[PARSER]
    Name crio
    Format Regex
    Regex ^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>P|F) (?<log>.*)$
    Time_Key time
    Time_Format %Y-%m-%dT%H:%M:%S.%L%z
"""


@dataclass(frozen=True)
class FargateLoggingProps:
    """Properties of :class:`FargateLogging`.

    | name | meaning | default |
    |---|---|---|
    | region | region of the log group | required |
    | log_group_name | the cluster's Fargate log group (``ClusterOutputs.fargate_log_group``) | required |
    | provider | kubernetes provider | the stack's default |
    """

    region: str
    log_group_name: str
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if "${" in self.log_group_name or not self.log_group_name.startswith("/"):
            raise ValueError(
                f"Fargate logging: log_group_name {self.log_group_name!r} must be a literal log group name"
            )


def output_section(region: str, log_group_name: str) -> str:
    """The OUTPUT section: CloudWatch Logs, into the existing group (never created unencrypted)."""
    return f"""[OUTPUT]
    Name cloudwatch_logs
    Match kube.*
    region {region}
    log_group_name {log_group_name}
    log_stream_prefix fargate-
    auto_create_group false
"""


class FargateLogging(Construct):
    """The ``aws-observability`` namespace and its ``aws-logging`` ConfigMap. Attributes: ``namespace``,
    ``config_map``."""

    def __init__(self, scope: Construct, id: str, props: FargateLoggingProps) -> None:
        super().__init__(scope, id)
        data = {
            # Fluent Bit's own logs stay on the node: they would cost more than they tell.
            "flb_log_cw": "false",
            "filters.conf": FILTERS,
            "output.conf": output_section(props.region, props.log_group_name),
            "parsers.conf": PARSERS,
        }
        size = sum(len(key) + len(value) for key, value in data.items())
        if size > MAX_CONFIG_CHARACTERS:
            raise ValueError(
                f"Fargate logging: the ConfigMap has {size} characters; EKS accepts {MAX_CONFIG_CHARACTERS}"
            )
        self.namespace = Namespace(
            self,
            "namespace",
            NamespaceProps(NAMESPACE, labels={NAMESPACE: "enabled"}, provider=props.provider),
        )
        self.config_map = ConfigMapV1(
            self,
            "config-map",
            metadata=ConfigMapV1Metadata(name=CONFIG_MAP, namespace=self.namespace.metadata.name),
            data=data,
            provider=props.provider,
        )
