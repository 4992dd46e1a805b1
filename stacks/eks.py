"""`eks-<environment>`: the EKS cluster (seed 12.4 module "eks", 12.1 compute), in today's form.

Differences from the seed, each for a current or safer form (the platform design, chapter 12.4):
- Kubernetes version from configuration (seed 1.28 is past the end of extended support).
- EKS access entries (authentication mode API) replace the aws-auth ConfigMap; the seed's
  ``module.eks_admins_iam_role`` is created here as ``iworkz-<env>-cluster-admin`` (assumable
  by the account's principals with MFA) and, like the existing ``devops`` user, mapped to the
  access policy named in ``config/<env>.yaml: eks.access``.
- Every node group uses a launch template (IMDSv2, encrypted gp3) instead of the seed's
  ``pre_bootstrap_user_data`` calling ``/etc/eks/bootstrap.sh`` (absent from AL2023 AMIs: EKS
  writes the nodeadm configuration itself).
- The compute-optimized group runs GPU instances with the AL2023 NVIDIA AMI (config).
- The node security group allows what nodes need instead of all TCP from the VPC and all egress.
- The VPC CNI runs on its own IRSA role, so the node role holds no network permissions, and
  with its network policy agent on, so the product's NetworkPolicies are enforced.

Observability (the design's "Prometheus + CloudWatch", "Fluentd + CloudWatch Logs"): the
CloudWatch Observability add-on (Container Insights, container logs), the Fargate pods' log
group, and each node group's capacity alarm (with the group metrics EKS leaves off), on the
environment's alert topics.
"""

from __future__ import annotations

from iworkz.contracts import AlertsOutputs, ClusterOutputs, NetworkOutputs
from iworkz_constructs.cluster_telemetry import ADDON as CLOUDWATCH_ADDON
from iworkz_constructs.cluster_telemetry import ClusterTelemetry, ClusterTelemetryProps
from iworkz_constructs.eks_cluster import AccessPrincipal, EksCluster, EksClusterProps
from iworkz_constructs.fargate_profile import FargateProfile, FargateProfileProps
from iworkz_constructs.group_metrics import GroupMetricsCollection, GroupMetricsCollectionProps
from iworkz_constructs.node_group import NodeGroup, NodeGroupProps, NodeTaint
from iworkz_constructs.workload_role import WorkloadRole, WorkloadRoleProps
from stacks.base import IworkzStack

EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
FARGATE_PROFILE = "default"  # seed 12.4 fargate_profiles.default
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true"}


class EksStack(IworkzStack):
    """The cluster (:class:`EksCluster`), its node groups and add-ons; publishes :class:`ClusterOutputs`."""

    def build(self, network: NetworkOutputs, alerts: AlertsOutputs) -> ClusterOutputs:
        context = self.context
        config = context.env.eks
        name = context.prefix
        admin_role_name = f"{name}-cluster-admin"
        self.cluster = EksCluster(
            self,
            "cluster",
            EksClusterProps(
                name=name,
                kubernetes_version=config.kubernetes_version,
                vpc_id=network.vpc_id,
                vpc_cidr=network.vpc_cidr,
                subnet_ids=network.private_subnet_ids,
                account_id=self.aws.account_id,
                region=self.aws.region,
                endpoint_public_access=config.endpoint_public_access,
                public_access_cidrs=tuple(config.public_access_cidrs),
                # Production refuses 0.0.0.0/0 in configuration; other environments may open it.
                open_public_endpoint_reason=None
                if context.env.is_production
                else f"{context.config_file} is not production; its eks.public_access_cidrs is the owner's choice",
                log_retention_days=config.log_retention_days,
                access=tuple(
                    AccessPrincipal(principal_arn=p.arn, username=p.username, policy=p.policy) for p in config.access
                ),
                admin_role_name=admin_role_name,
            ),
        )
        cluster = self.cluster

        # Add-ons the nodes need before they can become Ready.
        vpc_cni = cluster.add_addon(
            "vpc-cni",
            service_account_role_arn=cluster.cni_role_arn,
            # The network policy agent: without it EKS accepts NetworkPolicies and enforces none
            # (the policy rule NETWORK_POLICY_ENFORCED refuses such a synth).
            configuration_values=VPC_CNI_CONFIGURATION,
            depends_on=[cluster.cluster],
        )
        kube_proxy = cluster.add_addon("kube-proxy", depends_on=[cluster.cluster])
        pod_identity = cluster.add_addon("eks-pod-identity-agent", depends_on=[cluster.cluster])

        alarm_actions = alerts.alarm_actions()
        alarms = context.env.alarms
        group_metrics = GroupMetricsCollection(
            self,
            "group-metrics",
            GroupMetricsCollectionProps(
                cluster_name=name,
                region=self.aws.region,
                account_id=self.aws.account_id,
                kms_key_arn=alerts.kms_key_arn,
                alarm_actions=alarm_actions,
                alarms=alarms.settings("functions"),
            ),
        )
        self.node_groups: dict[str, NodeGroup] = {}
        for group_name, group in config.node_groups.items():
            self.node_groups[group_name] = NodeGroup(
                self,
                f"node-group-{group_name}",
                NodeGroupProps(
                    cluster_name=name,
                    name=group_name,
                    node_role_arn=cluster.node_role_arn,
                    subnet_ids=network.private_subnet_ids,
                    security_group_ids=(cluster.node_security_group_id,),
                    volume_kms_key_arn=cluster.node_volume_kms_key_arn,
                    instance_types=tuple(group.instance_types),
                    min_size=group.min_size,
                    max_size=group.max_size,
                    desired_size=group.desired_size,
                    ami_type=group.ami_type,
                    capacity_type=group.capacity_type,
                    disk_size_gb=group.disk_size_gb,
                    labels=dict(group.labels),
                    taints=tuple(NodeTaint(t.key, t.value, t.effect) for t in group.taints),
                    max_unavailable_percentage=group.max_unavailable_percentage,
                    metadata_hop_limit=config.metadata_hop_limit,
                    depends_on=(cluster.cluster, *cluster.node_role_attachments, vpc_cni, kube_proxy, pod_identity),
                    alarm_actions=alarm_actions,
                    alarms=alarms.settings("node_groups"),
                    group_metrics=group_metrics,
                ),
            )
        nodes = [group.node_group for group in self.node_groups.values()]

        self.ebs_csi_role = WorkloadRole(
            self,
            "ebs-csi-driver-role",
            WorkloadRoleProps(
                role_name=f"{name}-ebs-csi-driver",
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                namespace="kube-system",
                service_account="ebs-csi-controller-sa",
                managed_policy_arns=(EBS_CSI_POLICY,),
            ),
        )
        cluster.grant_volume_encryption(self.ebs_csi_role)
        # Add-ons whose pods need nodes to run on.
        cluster.add_addon("coredns", depends_on=nodes)
        cluster.add_addon("aws-ebs-csi-driver", service_account_role_arn=self.ebs_csi_role.arn, depends_on=nodes)
        self.telemetry = ClusterTelemetry(
            self,
            "telemetry",
            ClusterTelemetryProps(
                cluster_name=name,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                account_id=self.aws.account_id,
                region=self.aws.region,
                log_retention_days=config.container_log_retention_days,
            ),
        )
        cluster.add_addon(
            CLOUDWATCH_ADDON,
            service_account_role_arn=self.telemetry.agent_role.arn,
            configuration_values=self.telemetry.addon_configuration,
            depends_on=[*nodes, *self.telemetry.log_groups.values()],
        )

        self.fargate_profile = FargateProfile(
            self,
            "fargate-profile",
            FargateProfileProps(
                cluster_name=name,
                name=FARGATE_PROFILE,
                namespaces=tuple(config.fargate_namespaces),
                subnet_ids=network.private_subnet_ids,
                account_id=self.aws.account_id,
                region=self.aws.region,
                log_group_arn=self.telemetry.fargate_log_group_arn,
                tags={"Owner": "fargate"},  # seed 12.4
                depends_on=(cluster.cluster,),
            ),
        )

        self.alarm_dashboard()
        return ClusterOutputs.of(
            context,
            name=cluster.name,
            endpoint=cluster.endpoint,
            certificate_authority_data=cluster.certificate_authority_data,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            node_security_group_id=cluster.node_security_group_id,
            cluster_security_group_id=cluster.cluster_security_group_id,
            vpc_id=cluster.cluster.vpc_config.vpc_id,
        )
