"""EKS section: cluster, access and node groups (seed 12.4, module "eks"), in today's form."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from iworkz.config import catalog
from iworkz.config.base import LogRetentionDays, Model, PublicAllowListCidr, Templated, reject_number, rule_error

GPU_INSTANCE_FAMILIES = ("g4dn", "g5", "g5g", "g6", "g6e", "gr6", "p4d", "p4de", "p5", "p5e")
GPU_AMI_TYPES = ("AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA")
# Amazon Linux 2023 root device is /dev/xvda (the launch templates encrypt it); AL2 is end of life.
AMI_TYPES = ("AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA")
ARM_AMI_TYPES = ("AL2023_ARM_64_STANDARD", "AL2023_ARM_64_NVIDIA")
_NODE_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A Kubernetes label or taint key: an optional DNS-subdomain prefix and "/", then a name of at
# most 63 letters, digits, '-', '_' and '.', beginning and ending with a letter or digit.
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
# A label value: empty, or at most 63 such characters.
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# EKS allows five selectors per Fargate profile.
MAX_FARGATE_NAMESPACES = 5
_INSTANCE_TYPE = re.compile(r"^(?P<family>(?P<series>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*))\.[a-z0-9]+$")


def _label_key(value: str) -> str:
    if not _LABEL_KEY.match(value):
        raise rule_error(
            "must be a Kubernetes label key: [prefix/]name, the name at most 63 letters, digits, '-', '_', '.' "
            "beginning and ending with a letter or digit",
            "e.g. NodeGroup or example.com/workload",
        )
    return value


def _label_value(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise rule_error(
            "must be a Kubernetes label value: at most 63 letters, digits, '-', '_', '.', beginning and ending "
            "with a letter or digit",
            "e.g. general",
        )
    return value


LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, BeforeValidator(reject_number("value")), AfterValidator(_label_value)]


def _namespace(value: str) -> str:
    if not _NAMESPACE.match(value):
        raise rule_error(
            "must be a Kubernetes namespace name: at most 63 lower-case letters, digits and '-' (no wildcard)",
            "e.g. fargate-workloads",
        )
    return value


def is_arm_instance_type(instance_type: str) -> bool:
    """Graviton (Arm) families carry a "g" among their attributes: m7g, c6gn, r6gd, g5g (catalog)."""
    match = _INSTANCE_TYPE.match(instance_type)
    if match is None:
        return False
    return match["family"] in catalog.values("aws.yaml", "graviton_exceptions") or "g" in match["attributes"]


KubernetesVersion = Annotated[str, BeforeValidator(reject_number("kubernetes_version"))]


class Taint(Model):
    """A Kubernetes taint, written as Kubernetes spells it (effect NoSchedule, ...)."""

    key: LabelKey
    value: LabelValue = "true"
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeGroupConfig(Model):
    instance_types: list[Annotated[str, Field(pattern=_INSTANCE_TYPE.pattern)]] = Field(min_length=1)
    ami_type: Literal[AMI_TYPES] = "AL2023_x86_64_STANDARD"  # type: ignore[valid-type]
    gpu: bool = False
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=1)
    desired_size: int = Field(ge=0)
    disk_size_gb: int = Field(100, ge=20, le=16384)
    max_unavailable_percentage: int = Field(33, ge=1, le=100)
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> NodeGroupConfig:
        if self.min_size > self.max_size:
            raise rule_error(
                f"min_size ({self.min_size}) must not exceed max_size ({self.max_size})",
                "raise max_size or lower min_size",
                field="min_size",
                value=self.min_size,
            )
        if not self.min_size <= self.desired_size <= self.max_size:
            raise rule_error(
                f"desired_size must lie within [min_size, max_size] = [{self.min_size}, {self.max_size}]",
                "set desired_size between min_size and max_size",
                field="desired_size",
                value=self.desired_size,
            )
        arm_ami = self.ami_type in ARM_AMI_TYPES
        mismatched = [t for t in self.instance_types if is_arm_instance_type(t) != arm_ami]
        if mismatched:
            raise rule_error(
                f"{', '.join(mismatched)} {'are' if len(mismatched) > 1 else 'is'} "
                f"{'x86' if arm_ami else 'Arm (Graviton)'} but the AMI type {self.ami_type} is "
                f"{'Arm' if arm_ami else 'x86'}: the nodes would not boot",
                "use AL2023_ARM_64_STANDARD for Graviton types (m7g, r6g, ...), AL2023_x86_64_STANDARD for x86",
                field="instance_types",
                value=self.instance_types,
            )
        keys = [(t.key, t.effect) for t in self.taints]
        if len(set(keys)) != len(keys):
            raise rule_error(
                "a taint key may appear once per effect", "remove the duplicate taint", field="taints", value=keys
            )
        if self.gpu and not self.labels:
            raise rule_error(
                "a GPU node group needs labels: the NVIDIA device plugin is placed on it by them",
                "add labels, e.g. {NodeGroup: <name>, Workload: ai-ml}",
                field="labels",
                value={},
            )
        if not self.gpu and self.ami_type in GPU_AMI_TYPES:
            raise rule_error(
                "an NVIDIA AMI type belongs to a GPU node group",
                "set gpu: true (with GPU instance types) or use AL2023_x86_64_STANDARD",
                field="gpu",
                value=self.gpu,
            )
        if self.gpu:
            not_gpu = [t for t in self.instance_types if t.split(".")[0] not in GPU_INSTANCE_FAMILIES]
            if not_gpu:
                raise rule_error(
                    f"a GPU node group needs GPU instance types; {not_gpu} are not "
                    f"({', '.join(GPU_INSTANCE_FAMILIES)})",
                    "use e.g. g5.xlarge or g6.xlarge, or set gpu: false",
                    field="instance_types",
                    value=self.instance_types,
                )
            if self.ami_type not in GPU_AMI_TYPES:
                raise rule_error(
                    f"a GPU node group needs an NVIDIA AMI type ({', '.join(GPU_AMI_TYPES)})",
                    "set ami_type: AL2023_x86_64_NVIDIA",
                    field="ami_type",
                    value=self.ami_type,
                )
        return self


class AccessPrincipal(Model):
    """An IAM principal given an EKS access policy (replaces the seed's aws-auth mapping).

    ``arn`` may contain ``{account_id}``, filled in from the caller identity at plan time.
    """

    # {prefix} is <project>-<environment>: the cluster-admin role the eks stack creates is
    # arn:aws:iam::{account_id}:role/{prefix}-cluster-admin in every environment.
    arn: Annotated[str, Templated] = Field(pattern=r"^arn:aws:iam::(\{account_id\}|\d{12}):(role|user)/[\w+=,.@/-]+$")
    username: str
    policy: Literal[
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
    ] = "AmazonEKSClusterAdminPolicy"


class EksConfig(Model):
    # Left out: the newest version in standard support on the day of the synth (catalog/versions.yaml).
    kubernetes_version: KubernetesVersion = Field(
        default_factory=lambda: catalog.calendar("eks").newest(catalog.today())
    )
    # Private endpoint only (EksClusterProps' default): deployments run from inside the VPC (README).
    # A public endpoint needs public_access_cidrs: real, public egress ranges.
    endpoint_public_access: bool = False
    public_access_cidrs: list[PublicAllowListCidr] = Field(default_factory=list)
    log_retention_days: LogRetentionDays = 90
    # Container Insights (container, node and data-plane logs, performance events) and Fargate logs.
    container_log_retention_days: LogRetentionDays = 30
    access: list[AccessPrincipal] = Field(default_factory=list)
    node_groups: dict[str, NodeGroupConfig] = Field(min_length=1)
    fargate_namespaces: list[Annotated[str, AfterValidator(_namespace)]] = Field(
        default_factory=lambda: ["fargate-workloads"], min_length=1, max_length=MAX_FARGATE_NAMESPACES
    )
    # IMDSv2 response hop limit of every node. 1 (default, checkov CKV_AWS_341, EKS best
    # practice) keeps instance metadata and the node role's credentials away from pods: they use
    # IRSA / Pod Identity, and the add-ons get region and VPC ID explicitly. 2 lets pods reach IMDS.
    metadata_hop_limit: int = Field(1, ge=1, le=2)

    @model_validator(mode="after")
    def _check_names(self) -> EksConfig:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise rule_error(
                "a public EKS endpoint needs an allow-list of public_access_cidrs",
                "list the operators' public egress CIDRs, or set endpoint_public_access: false",
                field="public_access_cidrs",
                value=[],
            )
        for what in ("arn", "username"):
            written = [getattr(principal, what) for principal in self.access]
            repeated = sorted({value for value in written if written.count(value) > 1})
            if repeated:
                raise rule_error(
                    f"each access principal needs its own {what} (EKS maps one access entry per principal)",
                    "remove the duplicate entry",
                    field="access",
                    value=repeated,
                )
        for name in self.node_groups:
            if not _NODE_GROUP_NAME.match(name):
                raise rule_error(
                    "node group names are lowercase letters, digits and hyphens (at most 63)",
                    "rename the node group, e.g. compute-optimized",
                    field=f"node_groups.{name}",
                    value=name,
                )
        return self

    @property
    def gpu_node_groups(self) -> dict[str, NodeGroupConfig]:
        return {name: group for name, group in self.node_groups.items() if group.gpu}
