"""An EKS Fargate profile with its pod execution role, in private subnets.

The role may write the pods' logs to the cluster's Fargate log group (EKS's built-in Fluent Bit
log router uses the pod execution role): exactly that group, nothing else of CloudWatch Logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, Token
from cdktf_cdktf_provider_aws.eks_fargate_profile import (
    EksFargateProfile,
    EksFargateProfileSelector,
    EksFargateProfileTimeouts,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.policy_document import PolicyDocument, service_trust

POD_EXECUTION_POLICY = "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class FargateProfileProps:
    """Properties of :class:`FargateProfile`.

    | name | meaning | default |
    |---|---|---|
    | cluster_name | literal cluster name | required |
    | name | profile name (seed: ``default``) | required |
    | namespaces | namespaces whose pods run on Fargate (seed: ``fargate-workloads``) | required |
    | subnet_ids | private subnets of the pods (Fargate accepts no public subnets) | required |
    | account_id | account of the cluster (confines the role's trust) | required |
    | region | region of the cluster (confines the role's trust) | required |
    | log_group_arn | the cluster's Fargate log group the pods' logs go to (``ClusterTelemetry``) | required |
    | labels | pod labels a selector also requires | none |
    | tags | extra tags (seed: ``Owner: fargate``) | none |
    | depends_on | resources to wait for (the cluster) | none |
    | provider | provider (region) | the stack's default |
    """

    cluster_name: str
    name: str
    namespaces: Sequence[str]
    subnet_ids: Sequence[str]
    account_id: str
    region: str
    log_group_arn: str
    labels: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[ITerraformDependable] = ()
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if Token.is_unresolved(self.cluster_name):
            raise ValueError(f"fargate profile {self.name}: cluster_name must be the literal name; pass depends_on")
        if not _NAME.match(self.name):
            raise ValueError(f"fargate profile {self.name!r}: lowercase letters, digits and hyphens")
        if not self.namespaces or len(self.namespaces) > 5:
            raise ValueError(f"fargate profile {self.name}: give 1-5 namespaces (an EKS limit of selectors)")
        for namespace in self.namespaces:
            if not _NAME.match(namespace) or "*" in namespace:
                raise ValueError(f"fargate profile {self.name}: {namespace!r} is not a namespace name")


class FargateProfile(Construct):
    """Attributes: ``profile``, ``pod_execution_role_arn``."""

    def __init__(self, scope: Construct, id: str, props: FargateProfileProps) -> None:
        super().__init__(scope, id)
        source_arn = f"arn:aws:eks:{props.region}:{props.account_id}:fargateprofile/{props.cluster_name}/*"
        role = IamRole(
            self,
            "pod-execution-role",
            name=f"{props.cluster_name}-fargate-{props.name}",
            description=f"Fargate pod execution role of {props.cluster_name}/{props.name}",
            assume_role_policy=PolicyDocument(
                self,
                "trust-policy",
                [service_trust("eks-fargate-pods.amazonaws.com", condition={"ArnLike": {"aws:SourceArn": source_arn}})],
                provider=props.provider,
            ).json,
            provider=props.provider,
        )
        attachment = IamRolePolicyAttachment(
            self,
            "pod-execution-policy",
            role=role.name,
            policy_arn=POD_EXECUTION_POLICY,
            provider=props.provider,
        )
        logging = IamRolePolicy(
            self,
            "pod-logging-policy",
            name=f"{props.cluster_name}-fargate-{props.name}-logs",
            role=role.id,
            policy=PolicyDocument(
                self,
                "pod-logging-policy-document",
                [
                    {
                        "Sid": "FargateLogRouter",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                        "Resource": [props.log_group_arn, f"{props.log_group_arn}:*"],
                    }
                ],
                provider=props.provider,
            ).json,
            provider=props.provider,
        )
        self.pod_execution_role_arn = role.arn
        self.profile = EksFargateProfile(
            self,
            "profile",
            cluster_name=props.cluster_name,
            fargate_profile_name=props.name,
            pod_execution_role_arn=role.arn,
            subnet_ids=list(props.subnet_ids),
            selector=[
                EksFargateProfileSelector(namespace=namespace, labels=dict(props.labels) or None)
                for namespace in props.namespaces
            ],
            tags=dict(props.tags) or None,
            timeouts=EksFargateProfileTimeouts(create="20m", delete="20m"),  # seed 12.4
            depends_on=[*props.depends_on, attachment, logging],
            provider=props.provider,
        )
