"""An EKS managed node group launched through its own hardened launch template.

IMDSv2 required (hop limit 1 by default: only host-network pods reach IMDS), encrypted gp3 root
volume with a customer-managed key, the cluster's node security group, cluster-autoscaler
discovery tags and node-template tags for scaling from zero; ``desired_size`` belongs to the
autoscaler once the group exists.

The group alarms when fewer nodes are in service than its Auto Scaling group wants (capacity
shortfall: launches failing, no capacity or quota in the zones, nodes stuck pending), from the
group metrics that :class:`GroupMetricsCollection` turns on for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.autoscaling_group_tag import AutoscalingGroupTagA, AutoscalingGroupTagTag
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateTagSpecifications,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.alarm_settings import NodeGroupAlarms, check_alerting, check_settings
from iworkz_constructs.alarms import AlarmActions, AlarmSpec, Metric, optional_alarms
from iworkz_constructs.group_metrics import GroupMetricsCollection

# Kubernetes spelling -> EKS API spelling.
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023
AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class NodeTaint:
    """A taint written as Kubernetes spells it: ``compute-optimized=true:NoSchedule``."""

    key: str
    value: str
    effect: str

    def __post_init__(self) -> None:
        if self.effect not in TAINT_EFFECTS:
            raise ValueError(f"taint {self.key}: effect {self.effect!r} is not one of {', '.join(TAINT_EFFECTS)}")
        if not _LABEL_KEY.match(self.key):
            raise ValueError(f"taint key {self.key!r} is not a Kubernetes key")

    @property
    def eks_effect(self) -> str:
        return TAINT_EFFECTS[self.effect]


@dataclass(frozen=True)
class NodeGroupProps:
    """Properties of :class:`NodeGroup`.

    | name | meaning | default |
    |---|---|---|
    | cluster_name | literal cluster name (resource, launch-template and autoscaler tag names) | required |
    | name | node group name, e.g. ``general`` | required |
    | node_role_arn | IAM role of the nodes (``EksCluster.node_role_arn``) | required |
    | subnet_ids | private subnets of the nodes | required |
    | security_group_ids | node security groups (``EksCluster.node_security_group_id``) | required |
    | volume_kms_key_arn | customer-managed key of the root volumes | required |
    | instance_types | EC2 instance types | required |
    | min_size / max_size / desired_size | scaling; desired only at creation | required |
    | ami_type | EKS AMI type | ``AL2023_x86_64_STANDARD`` |
    | capacity_type | ``ON_DEMAND`` or ``SPOT`` | ``ON_DEMAND`` |
    | disk_size_gb | root volume size (gp3) | 100 |
    | labels | Kubernetes node labels | none |
    | taints | Kubernetes taints (Kubernetes spelling) | none |
    | max_unavailable_percentage | nodes replaced at once during updates | 33 |
    | metadata_hop_limit | IMDSv2 hop limit (1 keeps pods away from IMDS; 2 lets them reach it with a token) | 1 |
    | tags | extra tags on the group, instances and volumes | none |
    | depends_on | resources to wait for (the cluster, the VPC CNI add-on) | none |
    | provider | provider (region) | the stack's default |
    | alarm_actions | alert topics of the capacity alarm | required unless alarms_opt_out |
    | alarms_opt_out | reason for creating no alarm | none |
    | alarms | threshold of the capacity alarm | :class:`NodeGroupAlarms` defaults |
    | group_metrics | turns on the group metrics the alarm reads (one per cluster) | required with alarm_actions |
    """

    cluster_name: str
    name: str
    node_role_arn: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    volume_kms_key_arn: str
    instance_types: Sequence[str]
    min_size: int
    max_size: int
    desired_size: int
    ami_type: str = "AL2023_x86_64_STANDARD"
    capacity_type: str = "ON_DEMAND"
    disk_size_gb: int = 100
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[NodeTaint] = ()
    max_unavailable_percentage: int = 33
    metadata_hop_limit: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[ITerraformDependable] = ()
    provider: AwsProvider | None = None
    alarm_actions: AlarmActions | None = None
    alarms_opt_out: str | None = None
    alarms: NodeGroupAlarms = field(default_factory=NodeGroupAlarms)
    group_metrics: GroupMetricsCollection | None = None

    def __post_init__(self) -> None:
        where = f"node group {self.name}"
        check_alerting(where, self.alarm_actions, self.alarms_opt_out)
        check_settings(self.alarms)
        if self.alarm_actions is not None and self.group_metrics is None:
            raise ValueError(f"{where}: its capacity alarm needs group_metrics (EKS leaves them off)")
        if Token.is_unresolved(self.cluster_name):
            raise ValueError(f"{where}: cluster_name must be the literal name (it becomes tag keys); pass depends_on")
        if not _NAME.match(self.name):
            raise ValueError(f"{where}: name must be lowercase letters, digits and hyphens (at most 63)")
        if not self.instance_types:
            raise ValueError(f"{where}: give at least one instance type")
        if not 0 <= self.min_size <= self.max_size or self.max_size < 1:
            raise ValueError(f"{where}: need 0 <= min_size ({self.min_size}) <= max_size ({self.max_size}), max >= 1")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"{where}: desired_size {self.desired_size} is outside [{self.min_size}, {self.max_size}]")
        if self.capacity_type not in ("ON_DEMAND", "SPOT"):
            raise ValueError(f"{where}: capacity_type must be ON_DEMAND or SPOT")
        if not 20 <= self.disk_size_gb <= 16384:
            raise ValueError(f"{where}: disk_size_gb must be 20-16384")
        if not 1 <= self.max_unavailable_percentage <= 100:
            raise ValueError(f"{where}: max_unavailable_percentage must be 1-100")
        if self.metadata_hop_limit not in (1, 2):
            raise ValueError(f"{where}: metadata_hop_limit must be 1 or 2")
        for key in self.labels:
            if not _LABEL_KEY.match(key):
                raise ValueError(f"{where}: label key {key!r} is not a Kubernetes key")
        keys = [(t.key, t.effect) for t in self.taints]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{where}: duplicate taints {keys}")

    @property
    def autoscaler_tags(self) -> dict[str, str]:
        """Auto-discovery tags plus node-template tags (labels and taints for scaling from zero)."""
        tags = {
            f"{AUTOSCALER_TAG}/enabled": "true",
            f"{AUTOSCALER_TAG}/{self.cluster_name}": "owned",
        }
        for key, value in sorted(self.labels.items()):
            tags[f"{AUTOSCALER_TAG}/node-template/label/{key}"] = value
        for taint in self.taints:
            tags[f"{AUTOSCALER_TAG}/node-template/taint/{taint.key}"] = f"{taint.value}:{taint.effect}"
        return tags


class NodeGroup(Construct):
    """Launch template + managed node group. Attributes: ``node_group``, ``launch_template``, ``name``, ``arn``,
    ``auto_scaling_group_name``, ``alarms`` (None with ``alarms_opt_out``)."""

    def __init__(self, scope: Construct, id: str, props: NodeGroupProps) -> None:
        super().__init__(scope, id)
        provider = props.provider
        full_name = f"{props.cluster_name}-{props.name}"
        resource_tags = {"Name": full_name, "NodeGroup": props.name, **props.tags}
        self.launch_template = LaunchTemplate(
            self,
            "launch-template",
            name=full_name,
            description=f"EKS node group {props.name} of {props.cluster_name}",
            update_default_version=True,
            vpc_security_group_ids=list(props.security_group_ids),
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=props.metadata_hop_limit,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=ROOT_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=props.disk_size_gb,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=props.volume_kms_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=LaunchTemplateMonitoring(enabled=True),
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags=resource_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=resource_tags,
            provider=provider,
        )
        self.node_group = EksNodeGroup(
            self,
            "node-group",
            cluster_name=props.cluster_name,
            node_group_name=props.name,
            node_role_arn=props.node_role_arn,
            subnet_ids=list(props.subnet_ids),
            instance_types=list(props.instance_types),
            ami_type=props.ami_type,
            capacity_type=props.capacity_type,
            launch_template=EksNodeGroupLaunchTemplate(
                id=self.launch_template.id,
                version=Token.as_string(self.launch_template.latest_version),
            ),
            scaling_config=EksNodeGroupScalingConfig(
                min_size=props.min_size,
                max_size=props.max_size,
                desired_size=props.desired_size,
            ),
            update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=props.max_unavailable_percentage),
            labels=dict(props.labels) or None,
            taint=[EksNodeGroupTaint(key=t.key, value=t.value, effect=t.eks_effect) for t in props.taints] or None,
            tags={**resource_tags, **props.autoscaler_tags},
            depends_on=list(props.depends_on) or None,
            # The cluster autoscaler owns desired_size after creation (seed: desired 6, 2, 1).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["scaling_config[0].desired_size"]),
            provider=provider,
        )
        self.name = self.node_group.node_group_name
        self.arn = self.node_group.arn
        # EKS does not copy node-group tags to its Auto Scaling group; the autoscaler reads
        # node-template tags there to scale a group up from zero.
        asg_name = self.node_group.resources.get(0).autoscaling_groups.get(0).name
        self.auto_scaling_group_name = asg_name
        template_tags = {k: v for k, v in props.autoscaler_tags.items() if "/node-template/" in k}
        for key, value in template_tags.items():
            AutoscalingGroupTagA(
                self,
                "asg-tag-" + re.sub(r"[^A-Za-z0-9]+", "-", key.split("/node-template/")[1]),
                autoscaling_group_name=asg_name,
                tag=AutoscalingGroupTagTag(key=key, value=value, propagate_at_launch=False),
                provider=provider,
            )
        if props.group_metrics is not None:
            props.group_metrics.enable(self, "group-metrics", asg_name)
        self.alarms = optional_alarms(
            self,
            "alarms",
            props.alarms.team,
            props.alarm_actions,
            lambda: [capacity_alarm(full_name, asg_name, props.alarms)],
            provider,
        )


def capacity_alarm(node_group: str, auto_scaling_group: str, settings: NodeGroupAlarms) -> AlarmSpec:
    """Fewer instances in service than desired, for the whole window."""
    shortfall = settings.capacity_shortfall_count

    def group(metric: str) -> Metric:
        return Metric("AWS/AutoScaling", metric, {"AutoScalingGroupName": auto_scaling_group}, "Minimum")

    return AlarmSpec(
        "capacity-shortfall",
        f"{node_group}-capacity-shortfall",
        f"EKS node group {node_group}: more than {shortfall.value:g} nodes fewer in service than desired",
        shortfall,
        ">",
        shortfall.value,
        expression="desired - in_service",
        inputs={"desired": group("GroupDesiredCapacity"), "in_service": group("GroupInServiceInstances")},
    )
