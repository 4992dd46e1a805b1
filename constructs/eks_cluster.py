"""An EKS control plane with today's secure defaults (seed 12.4 module "eks", current form).

Private and allow-listed public endpoint, secrets encrypted with a customer-managed key,
all control-plane logs in a KMS-encrypted log group created before the cluster, access
entries (authentication mode API) instead of the aws-auth ConfigMap, an IAM OIDC provider
for IRSA, a least-privilege node role and node security group shared by the node groups.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import Fn, ITerraformDependable, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_eks_addon_version import DataAwsEksAddonVersion
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster as EksClusterResource,
)
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from iworkz_constructs.kms_key import KEY_USAGE_ACTIONS, KmsKey, KmsKeyProps
from iworkz_constructs.policy_document import PolicyDocument, account_trust_with_mfa, service_trust
from iworkz_constructs.workload_role import STS_AUDIENCE, WorkloadRole, WorkloadRoleProps

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
ACCESS_POLICIES = (
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
)
AWS_MANAGED_POLICY = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
# What a node needs and nothing more: the VPC CNI's permissions live on its own IRSA role.
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
CNI_POLICY = "AmazonEKS_CNI_Policy"
# Control plane -> nodes: HTTPS, the kubelet, and the usual admission-webhook ports
# (metrics-server 4443, cert-manager 6443/10250, load balancer controller 9443, 8443).
DEFAULT_NODE_PORTS_FROM_CONTROL_PLANE = (443, 4443, 6443, 8443, 9443, 10250)
AUTOSCALING_SERVICE_LINKED_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,99}$")
_PRINCIPAL = re.compile(r"^arn:aws:iam::(\{account_id\}|\d{12}):(role|user)/[\w+=,.@/-]+$")


@dataclass(frozen=True)
class AccessPrincipal:
    """An IAM principal mapped to an EKS access policy (cluster scope).

    ``principal_arn`` may contain ``{account_id}``, replaced with the cluster's account.
    """

    principal_arn: str
    username: str
    policy: str = "AmazonEKSClusterAdminPolicy"

    def __post_init__(self) -> None:
        if not _PRINCIPAL.match(self.principal_arn):
            raise ValueError(f"access principal {self.principal_arn!r} is not an IAM role or user ARN")
        if self.policy not in ACCESS_POLICIES:
            raise ValueError(f"access policy {self.policy!r} is not one of {', '.join(ACCESS_POLICIES)}")


@dataclass(frozen=True)
class EksClusterProps:
    """Properties of :class:`EksCluster`.

    | name | meaning | default |
    |---|---|---|
    | name | cluster name, e.g. ``iworkz-production`` | required |
    | kubernetes_version | Kubernetes minor version, e.g. ``"1.34"`` | required |
    | vpc_id | VPC of the cluster and its node security group | required |
    | vpc_cidr | VPC CIDR (node egress inside the VPC) | required |
    | subnet_ids | private subnets of the control-plane ENIs | required (2 or more) |
    | account_id | owning account (caller identity token) | required |
    | region | region of the cluster (log-group key policy) | required |
    | endpoint_public_access | also expose the API endpoint publicly (the private one is always on) | False |
    | public_access_cidrs | allow-list of the public endpoint | required when public |
    | open_public_endpoint_reason | opt-out reason to allow 0.0.0.0/0 on the public endpoint | none (refused) |
    | log_retention_days | retention of ``/aws/eks/<name>/cluster`` | 90 |
    | log_types | control-plane log types | all five |
    | access | principals given access entries + cluster-scope access policies | none |
    | admin_role_name | creates this IAM role (account principals with MFA may assume it) | none |
    | node_ports_from_control_plane | TCP ports the control plane may open on nodes | 443, 4443, 6443, 8443, 9443, 10250 |
    | node_internet_egress_ports | TCP ports nodes and pods may reach outside the VPC | 443 |
    | cni_on_irsa | VPC CNI permissions on an IRSA role instead of the node role | True |
    | deletion_protection | EKS deletion protection | True |
    | prevent_destroy | refuse to destroy the cluster and keys in Terraform | True |
    | provider | provider (region) | the stack's default |
    """

    name: str
    kubernetes_version: str
    vpc_id: str
    vpc_cidr: str
    subnet_ids: Sequence[str]
    account_id: str
    region: str
    endpoint_public_access: bool = False
    public_access_cidrs: Sequence[str] = ()
    open_public_endpoint_reason: str | None = None
    log_retention_days: int = 90
    log_types: Sequence[str] = CONTROL_PLANE_LOG_TYPES
    access: Sequence[AccessPrincipal] = field(default_factory=tuple)
    admin_role_name: str | None = None
    node_ports_from_control_plane: Sequence[int] = DEFAULT_NODE_PORTS_FROM_CONTROL_PLANE
    node_internet_egress_ports: Sequence[int] = (443,)
    cni_on_irsa: bool = True
    deletion_protection: bool = True
    prevent_destroy: bool = True
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"cluster name {self.name!r}: letters, digits and hyphens, starting with a letter")
        subnets = list(self.subnet_ids)
        if len(subnets) < 2 and not any(Token.is_unresolved(s) for s in subnets):
            raise ValueError(f"cluster {self.name}: EKS needs subnets in at least two availability zones")
        if self.endpoint_public_access:
            if not self.public_access_cidrs:
                raise ValueError(f"cluster {self.name}: a public endpoint needs public_access_cidrs (an allow-list)")
            open_world = [c for c in self.public_access_cidrs if ipaddress.ip_network(c).prefixlen == 0]
            if open_world and not self.open_public_endpoint_reason:
                raise ValueError(
                    f"cluster {self.name}: public endpoint open to {open_world[0]}; "
                    "list CIDRs or give open_public_endpoint_reason"
                )
        unknown = sorted(set(self.log_types) - set(CONTROL_PLANE_LOG_TYPES))
        if unknown:
            raise ValueError(f"cluster {self.name}: unknown log types {unknown} (known: {CONTROL_PLANE_LOG_TYPES})")
        if not self.log_types:
            raise ValueError(f"cluster {self.name}: control-plane logging cannot be switched off entirely")
        if self.log_retention_days < 1:
            raise ValueError(f"cluster {self.name}: log_retention_days must be positive")
        usernames = [p.username for p in self.access]
        arns = [p.principal_arn for p in self.access]
        if len(set(usernames)) != len(usernames) or len(set(arns)) != len(arns):
            raise ValueError(f"cluster {self.name}: access principals must have distinct ARNs and usernames")
        for port in (*self.node_ports_from_control_plane, *self.node_internet_egress_ports):
            if not 1 <= port <= 65535:
                raise ValueError(f"cluster {self.name}: port {port} is out of range")


class EksCluster(Construct):
    """EKS control plane, OIDC provider, access entries, node role, node security group and keys.

    Attributes (the EKS cross-stack contract): ``name``, ``arn``, ``endpoint``,
    ``certificate_authority_data`` (base64), ``version``, ``cluster_security_group_id``,
    ``node_security_group_id``, ``oidc_provider_arn``, ``oidc_issuer`` (issuer URL without
    ``https://``). Also ``cluster`` (the resource), ``cluster_name`` (the literal name),
    ``node_role_arn``, ``node_role_name``, ``node_volume_kms_key_arn``, ``secrets_kms_key_arn``,
    ``log_group_name``, ``cluster_role_arn``, ``cni_role_arn`` (None without cni_on_irsa),
    ``admin_role_arn`` (None without admin_role_name), ``access_entries`` (by username).
    """

    def __init__(self, scope: Construct, id: str, props: EksClusterProps) -> None:
        super().__init__(scope, id)
        self._props = props
        provider = props.provider
        self.cluster_name = props.name
        self.secrets_key = KmsKey(
            self,
            "secrets-key",
            KmsKeyProps(
                alias=f"{props.name}-eks",
                description=f"EKS {props.name}: Kubernetes secrets and control-plane logs",
                account_id=props.account_id,
                service_principals=(f"logs.{props.region}.amazonaws.com",),
                prevent_destroy=props.prevent_destroy,
                provider=provider,
            ),
        )
        self.node_volume_key = KmsKey(
            self,
            "node-volume-key",
            KmsKeyProps(
                alias=f"{props.name}-eks-nodes",
                description=f"EKS {props.name}: node root volumes and EBS persistent volumes",
                account_id=props.account_id,
                extra_statements=autoscaling_key_statements(props.account_id),
                prevent_destroy=props.prevent_destroy,
                provider=provider,
            ),
        )
        self.secrets_kms_key_arn = self.secrets_key.arn
        self.node_volume_kms_key_arn = self.node_volume_key.arn

        # Created before the cluster, so EKS does not create an unencrypted one without retention.
        self.log_group = CloudwatchLogGroup(
            self,
            "control-plane-logs",
            name=f"/aws/eks/{props.name}/cluster",
            retention_in_days=props.log_retention_days,
            kms_key_id=self.secrets_key.arn,
            provider=provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.log_group_name = self.log_group.name

        cluster_role = IamRole(
            self,
            "cluster-role",
            name=f"{props.name}-eks-cluster",
            description=f"EKS control plane of {props.name}",
            assume_role_policy=PolicyDocument(
                self, "cluster-trust-policy", [service_trust("eks.amazonaws.com", tag_session=True)], provider=provider
            ).json,
            provider=provider,
        )
        attachments: list[ITerraformDependable] = [
            IamRolePolicyAttachment(
                self,
                f"cluster-role-{policy}",
                role=cluster_role.name,
                policy_arn=f"{AWS_MANAGED_POLICY}{policy}",
                provider=provider,
            )
            for policy in CLUSTER_POLICIES
        ]
        attachments.append(
            IamRolePolicy(
                self,
                "cluster-role-encryption",
                name="secrets-encryption",
                role=cluster_role.id,
                policy=PolicyDocument(
                    self,
                    "cluster-encryption-policy",
                    [
                        {
                            "Sid": "EncryptKubernetesSecrets",
                            "Effect": "Allow",
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                            "Resource": self.secrets_key.arn,
                        }
                    ],
                    provider=provider,
                ).json,
                provider=provider,
            )
        )
        self.cluster_role_arn = cluster_role.arn

        self.cluster = EksClusterResource(
            self,
            "cluster",
            name=props.name,
            version=props.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=list(props.subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=props.endpoint_public_access,
                public_access_cidrs=list(props.public_access_cidrs) if props.endpoint_public_access else None,
            ),
            access_config=EksClusterAccessConfig(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=EksClusterEncryptionConfig(
                provider=EksClusterEncryptionConfigProvider(key_arn=self.secrets_key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(props.log_types),
            # The managed add-ons below replace the self-managed vpc-cni, kube-proxy and CoreDNS.
            bootstrap_self_managed_addons=False,
            # Standard support only: a cluster left behind fails loudly instead of paying for extended support.
            upgrade_policy=EksClusterUpgradePolicy(support_type="STANDARD"),
            deletion_protection=props.deletion_protection,
            depends_on=[self.log_group, *attachments],
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
            provider=provider,
        )
        self.name = self.cluster.name
        self.arn = self.cluster.arn
        self.endpoint = self.cluster.endpoint
        self.certificate_authority_data = self.cluster.certificate_authority.get(0).data
        self.version = self.cluster.version
        self.cluster_security_group_id = self.cluster.vpc_config.cluster_security_group_id
        issuer_url = self.cluster.identity.get(0).oidc.get(0).issuer

        # IRSA: AWS provider 6.x fetches the issuer's certificate thumbprint itself.
        self.oidc_provider = IamOpenidConnectProvider(
            self,
            "oidc-provider",
            url=issuer_url,
            client_id_list=[STS_AUDIENCE],
            tags={"Name": f"{props.name}-irsa"},
            provider=provider,
        )
        self.oidc_provider_arn = self.oidc_provider.arn
        self.oidc_issuer = Fn.replace(issuer_url, "https://", "")

        self._node_role(props)
        self._node_security_group(props)
        self.admin_role_arn = self._admin_role(props) if props.admin_role_name else None
        self.access_entries: dict[str, EksAccessEntry] = {}
        for principal in props.access:
            self._access_entry(principal)
        self.cni_role_arn: str | None = None
        if props.cni_on_irsa:
            cni_role = WorkloadRole(
                self,
                "vpc-cni-role",
                WorkloadRoleProps(
                    role_name=f"{props.name}-vpc-cni",
                    oidc_provider_arn=self.oidc_provider_arn,
                    oidc_issuer=self.oidc_issuer,
                    namespace="kube-system",
                    service_account="aws-node",
                    managed_policy_arns=(f"{AWS_MANAGED_POLICY}{CNI_POLICY}",),
                    provider=provider,
                ),
            )
            self.cni_role_arn = cni_role.arn

    # --- nodes -------------------------------------------------------------------------

    def grant_volume_encryption(self, role: WorkloadRole) -> None:
        """Lets ``role`` (the EBS CSI driver's) create, attach and read volumes encrypted with the
        node volume key: grants for EBS only, and the key's data-key use (AWS EBS CSI driver docs)."""
        role.add_to_policy(
            {
                "Sid": "GrantsForEbs",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": self.node_volume_kms_key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "UseKeyForVolumes",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": self.node_volume_kms_key_arn,
            },
        )

    def _node_role(self, props: EksClusterProps) -> None:
        role = IamRole(
            self,
            "node-role",
            name=f"{props.name}-eks-node",
            description=f"EKS managed nodes of {props.name}",
            assume_role_policy=PolicyDocument(
                self, "node-trust-policy", [service_trust("ec2.amazonaws.com")], provider=props.provider
            ).json,
            provider=props.provider,
        )
        policies = (*NODE_POLICIES, *(() if props.cni_on_irsa else (CNI_POLICY,)))
        self.node_role_attachments = [
            IamRolePolicyAttachment(
                self,
                f"node-role-{policy}",
                role=role.name,
                policy_arn=f"{AWS_MANAGED_POLICY}{policy}",
                provider=props.provider,
            )
            for policy in policies
        ]
        self.node_role_arn = role.arn
        self.node_role_name = role.name

    def _node_security_group(self, props: EksClusterProps) -> None:
        """The seed's node_group_sg, least privilege: nodes, the control plane, the VPC, HTTPS out."""
        provider = props.provider
        group = SecurityGroup(
            self,
            "node-sg",
            name=f"{props.name}-node",
            description=f"EKS managed nodes of {props.name}",
            vpc_id=props.vpc_id,
            # The load balancer controller registers targets through the one SG tagged for the cluster.
            tags={"Name": f"{props.name}-node-sg", f"kubernetes.io/cluster/{props.name}": "owned"},
            provider=provider,
        )
        self.node_security_group = group
        self.node_security_group_id = group.id
        cluster_sg = self.cluster_security_group_id
        VpcSecurityGroupIngressRule(
            self,
            "node-from-nodes",
            security_group_id=group.id,
            referenced_security_group_id=group.id,
            ip_protocol="-1",
            description="node to node and pod to pod, all protocols",
            provider=provider,
        )
        for port in sorted(set(props.node_ports_from_control_plane)):
            VpcSecurityGroupIngressRule(
                self,
                f"node-from-control-plane-{port}",
                security_group_id=group.id,
                referenced_security_group_id=cluster_sg,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"control plane to nodes on {port} (kubelet, webhooks)",
                provider=provider,
            )
        for protocol in ("tcp", "udp"):
            VpcSecurityGroupIngressRule(
                self,
                f"node-dns-from-cluster-sg-{protocol}",
                security_group_id=group.id,
                referenced_security_group_id=cluster_sg,
                ip_protocol=protocol,
                from_port=53,
                to_port=53,
                description="Fargate pods (cluster security group) to CoreDNS on the nodes",
                provider=provider,
            )
        VpcSecurityGroupIngressRule(
            self,
            "control-plane-from-nodes",
            security_group_id=cluster_sg,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="nodes and pods to the Kubernetes API server",
            provider=provider,
        )
        VpcSecurityGroupEgressRule(
            self,
            "node-to-nodes",
            security_group_id=group.id,
            referenced_security_group_id=group.id,
            ip_protocol="-1",
            description="node to node and pod to pod, all protocols",
            provider=provider,
        )
        VpcSecurityGroupEgressRule(
            self,
            "node-to-vpc",
            security_group_id=group.id,
            cidr_ipv4=props.vpc_cidr,
            ip_protocol="-1",
            description="inside the VPC: API server, databases, caches, VPC endpoints, DNS resolver",
            provider=provider,
        )
        for port in sorted(set(props.node_internet_egress_ports)):
            VpcSecurityGroupEgressRule(
                self,
                f"node-to-internet-{port}",
                security_group_id=group.id,
                cidr_ipv4="0.0.0.0/0",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"outside the VPC on TCP {port} through the NAT gateways (ECR, S3, AWS APIs)",
                provider=provider,
            )

    # --- access --------------------------------------------------------------------------

    def _admin_role(self, props: EksClusterProps) -> str:
        """The seed's module.eks_admins_iam_role: assumable by the account's principals with MFA."""
        role = IamRole(
            self,
            "admin-role",
            name=props.admin_role_name,
            description=f"Administrators of the EKS cluster {props.name} (EKS access entry)",
            assume_role_policy=PolicyDocument(
                self, "admin-trust-policy", [account_trust_with_mfa(props.account_id)], provider=props.provider
            ).json,
            max_session_duration=3600,
            provider=props.provider,
        )
        IamRolePolicy(
            self,
            "admin-role-describe",
            name="describe-cluster",
            role=role.id,
            policy=PolicyDocument(
                self,
                "admin-describe-policy",
                [
                    {
                        "Sid": "Kubeconfig",
                        "Effect": "Allow",
                        "Action": ["eks:DescribeCluster", "eks:ListClusters"],
                        "Resource": self.arn,
                    }
                ],
                provider=props.provider,
            ).json,
            provider=props.provider,
        )
        self.admin_role = role
        return role.arn

    def _access_entry(self, principal: AccessPrincipal) -> None:
        props = self._props
        arn = principal.principal_arn.replace("{account_id}", props.account_id)
        if props.admin_role_name and principal.principal_arn.endswith(f":role/{props.admin_role_name}"):
            arn = self.admin_role.arn  # the role made above: the entry waits for it
        entry = EksAccessEntry(
            self,
            f"access-{principal.username}",
            cluster_name=self.name,
            principal_arn=arn,
            type="STANDARD",
            user_name=principal.username,
            provider=props.provider,
        )
        EksAccessPolicyAssociation(
            self,
            f"access-{principal.username}-policy",
            cluster_name=self.name,
            principal_arn=entry.principal_arn,
            policy_arn=f"arn:aws:eks::aws:cluster-access-policy/{principal.policy}",
            access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
            provider=props.provider,
        )
        self.access_entries[principal.username] = entry

    # --- add-ons -------------------------------------------------------------------------

    def add_addon(
        self,
        name: str,
        *,
        service_account_role_arn: str | None = None,
        configuration_values: dict[str, Any] | None = None,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> EksAddon:
        """A managed add-on at the newest version for the cluster's Kubernetes version (seed: most_recent)."""
        version = DataAwsEksAddonVersion(
            self,
            f"addon-{name}-version",
            addon_name=name,
            kubernetes_version=self.version,
            most_recent=True,
            provider=self._props.provider,
        )
        return EksAddon(
            self,
            f"addon-{name}",
            cluster_name=self.name,
            addon_name=name,
            addon_version=version.version,
            service_account_role_arn=service_account_role_arn,
            configuration_values=json.dumps(configuration_values) if configuration_values else None,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            depends_on=list(depends_on) or None,
            provider=self._props.provider,
        )


def autoscaling_key_statements(account_id: str) -> tuple[dict[str, Any], ...]:
    """Key-policy statements letting EC2 Auto Scaling launch nodes with volumes encrypted by the key."""
    role = f"arn:aws:iam::{account_id}:{AUTOSCALING_SERVICE_LINKED_ROLE}"
    return (
        {
            "Sid": "AutoScalingUsesKey",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": list(KEY_USAGE_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "AutoScalingGrantsToEbs",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    )
