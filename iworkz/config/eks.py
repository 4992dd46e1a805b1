"""EKS section: cluster, access and node groups (seed 12.4, module "eks"), in today's form."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from iworkz.config.base import Model, rule_error, validate_cidr
from iworkz.config.network import CLOUDWATCH_RETENTION_DAYS

# EKS versions this tool knows. Anything older has passed the end of extended support
# (1.28 in Nov 2025 ... 1.31 in Nov 2026); the seed's 1.28 is therefore rejected.
EKS_SUPPORTED_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
EKS_DEFAULT_VERSION = "1.34"

GPU_INSTANCE_FAMILIES = ("g4dn", "g5", "g5g", "g6", "g6e", "gr6", "p4d", "p4de", "p5", "p5e")
GPU_AMI_TYPES = ("AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA")
# Amazon Linux 2023 root device is /dev/xvda (the launch templates encrypt it); AL2 is end of life.
AMI_TYPES = ("AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA")
_NODE_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _version_string(value: object) -> object:
    if isinstance(value, float | int):
        raise rule_error(
            "must be a quoted string: YAML reads 1.30 as the number 1.3",
            f'write kubernetes_version: "{value}"',
        )
    return value


def _supported_version(value: str) -> str:
    if value not in EKS_SUPPORTED_VERSIONS:
        older = value.count(".") == 1 and value.split(".")[0] == "1" and value.split(".")[1].isdigit()
        if older and int(value.split(".")[1]) < int(EKS_SUPPORTED_VERSIONS[0].split(".")[1]):
            rule = "is past the end of EKS extended support (end of life)"
        else:
            rule = f"is not a Kubernetes version EKS supports here ({', '.join(EKS_SUPPORTED_VERSIONS)})"
        raise rule_error(rule, f"use {EKS_DEFAULT_VERSION} or another of {', '.join(EKS_SUPPORTED_VERSIONS)}")
    return value


KubernetesVersion = Annotated[str, BeforeValidator(_version_string), AfterValidator(_supported_version)]


class Taint(Model):
    """A Kubernetes taint, written as Kubernetes spells it (effect NoSchedule, ...)."""

    key: str = Field(min_length=1)
    value: str = "true"
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeGroupConfig(Model):
    instance_types: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]] = Field(min_length=1)
    ami_type: Literal[AMI_TYPES] = "AL2023_x86_64_STANDARD"  # type: ignore[valid-type]
    gpu: bool = False
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=1)
    desired_size: int = Field(ge=0)
    disk_size_gb: int = Field(100, ge=20, le=16384)
    max_unavailable_percentage: int = Field(33, ge=1, le=100)
    labels: dict[str, str] = Field(default_factory=dict)
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

    arn: str = Field(pattern=r"^arn:aws:iam::(\{account_id\}|\d{12}):(role|user)/[\w+=,.@/-]+$")
    username: str
    policy: Literal[
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
    ] = "AmazonEKSClusterAdminPolicy"


class EksConfig(Model):
    kubernetes_version: KubernetesVersion = EKS_DEFAULT_VERSION
    endpoint_public_access: bool = True
    public_access_cidrs: list[Annotated[str, AfterValidator(validate_cidr)]] = Field(min_length=1)
    log_retention_days: int = Field(90, ge=1)
    # Container Insights (container, node and data-plane logs, performance events) and Fargate logs.
    container_log_retention_days: int = 30
    access: list[AccessPrincipal] = Field(default_factory=list)
    node_groups: dict[str, NodeGroupConfig] = Field(min_length=1)
    fargate_namespaces: list[str] = Field(default_factory=lambda: ["fargate-workloads"])
    # IMDSv2 response hop limit of every node. 1 (default, checkov CKV_AWS_341, EKS best
    # practice) keeps instance metadata and the node role's credentials away from pods: they use
    # IRSA / Pod Identity, and the add-ons get region and VPC ID explicitly. 2 lets pods reach IMDS.
    metadata_hop_limit: int = Field(1, ge=1, le=2)

    @field_validator("container_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise rule_error(
                "CloudWatch Logs keeps logs for one of these numbers of days: "
                + ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS)),
                "e.g. 30",
            )
        return value

    @model_validator(mode="after")
    def _check_names(self) -> EksConfig:
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
