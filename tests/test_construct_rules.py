"""Every rule a construct enforces (``raise ValueError`` in constructs/) has a configuration twin,
or a reason why no configuration value reaches it: bad input stops at the edge with a message,
never in a construct with a traceback."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from iworkz.config import ConfigError, load_settings
from tests.configs import DELETE, write_config

ROOT = Path(__file__).resolve().parents[1]

# Props classes (or functions) that take no value from the configuration: the stacks pass constants,
# names derived in code, or the outputs of other constructs.
FROM_CODE = {
    "alarm_settings.check_alerting": "the stacks always pass the alert topics of AlertsOutputs",
    "alarms.AlarmActions": "built from AlertsOutputs' topics, one per severity",
    "alarms.Metric": "metrics are the constructs' constants, checked against the catalog of published metrics",
    "alarms.AlarmSpec": "alarm specs are the constructs' constants; thresholds and windows: twins below",
    "alarms.ResourceAlarmsProps": "keys are the constructs'; the team is configured and checked by alarm_rules",
    "alarms.AlarmDashboardProps": "a stack draws the alarms its constructs made",
    "alert_topics.AlertTopicsProps": "teams are monitoring.alert_teams, which must hold the seed's teams",
    "azure_alert_path.AzureAlertPathProps": "teams come from the alerts contract; throttling is the construct default",
    "azure_alert_path.alert_action": "team and severity are the calling stack's constants, checked for the alerts' authors",
    "fargate_logging.FargateLoggingProps": "the log group is ClusterOutputs' configured name",
    "fargate_logging.FargateLogging": "the ConfigMap's sections are the construct's constants",
    "load_balancer_alarms.LoadBalancerAlarmSetProps": "the stack that owns the Gateway passes its target groups",
    "load_balancer_alarms.LoadBalancerAlarmSet": "the stack that owns the Gateway passes its tags",
    "python_function.PythonFunctionProps": "functions, handlers and limits are the constructs' constants",
    "aks_cluster.AksNodePoolSpec": "pool names are the stack's constants; counts and max_pods: twins below",
    "azure_backup_storage.AzureBackupStorageProps": "the account name is compacted in code; replication, immutability and soft delete: twins below",
    "azure_key_vault.AzureKeyVaultProps": "the vault name is compacted in code and retention is the construct default; /0: twin below",
    "azure_postgres.LogicalReplication": "worker counts are the stack's constants",
    "azure_vnet.AzureVnetProps": "subnets and public ports are computed in code",
    "cross_cloud_dns.CrossCloudDnsProps": "zones and the inbound address are computed; the two subnets: twin below",
    "external_secret.RemoteValue": "secret keys are the stack's constants",
    "external_secret.ExternalSecretProps": "names, keys and templates are the stack's constants",
    "flow_logs.FlowLogsProps": "traffic type, interval and name are the stack's; retention: twin below",
    "k8s_workload.HttpProbe": "probes are the stack's constants",
    "k8s_workload.EnvVar": "environment variables are the stack's constants",
    "k8s_workload.K8sWorkloadProps": "ports, users, paths and labels are the stack's; names are WORKLOADS; replicas and images: twins",
    "kms_key.KmsKeyProps": "deletion windows and aliases are the stack's constants",
    "opensearch_setup_job.OpenSearchSetupJobProps": "roles, mappings and limits are the stack's constants",
    "setup_job.SetupJobProps": "users, timeouts, retries and variables are the setup constructs' constants",
    "redis_exporter.RedisExporterProps": "refresh and port are the construct's; images: twin below",
    "runtime_files.check_name": "Kubernetes names of the monitoring stack's own objects",
    "secret.GeneratedValue": "generated secret lengths are the stack's constants",
    "secret.SecretProps": "secret contents and recovery windows are the stack's constants",
    "secure_bucket.SecureBucketProps": "encryption and logging choices are the stack's",
    "service_security_group.ServiceSecurityGroupProps": "sources and ports come from other constructs and constants",
    "azure_ingress_address.AzureIngressAddressProps": "the DNS label is <prefix>-dr: the project and environment name patterns keep it valid",
    "entra_workload_identity.EntraWorkloadIdentityProps": "namespaces, service accounts and the issuer are dr-sync's constants and the EKS contract",
    "entra_workload_identity.EntraWorkloadIdentity": "each grant is dr-sync's constant, given once",
    "key_vault_push.PushedSecret": "vault names and keys are dr-sync's constants",
    "key_vault_push.KeyVaultPushProps": "the pushed secrets are dr-sync's constants",
    "logical_replication.LogicalReplicationProps": "identifiers and variables are the construct's defaults and EntraWorkloadIdentity's",
    "vpc_endpoints.VpcEndpointsProps": "route tables, subnets and CIDRs come from the VPC; services: twins below",
    "bedrock_guardrail.PiiGuardrailProps": "the guardrail is <prefix>-pii (names.py checks its length) with the construct's filters",
    "workload_role.check_service_account": "namespaces and service accounts are the stack's constants",
    "workload_role.WorkloadRoleProps": "policies and durations are the stack's; role names: derived-name twin",
    "cluster_addon.ClusterAddonProps": "add-ons and their charts are the stack's (iworkz/charts.py)",
    "namespace.NamespaceProps": "namespaces and their Pod Security Standards are the stacks' constants",
    "network_policy.Peer": "NetworkPolicy peers are the stacks' constants",
    "key_vault_store.KeyVaultStoreProps": "the reader is DrPlatformOutputs.secret_reader (the DR platform stack's constant)",
    "secret_store.NamespaceSecretStoreProps": "the store name is the construct default; namespaces are the stacks'",
    "policy_document.statement_block": "IAM policy statements are the stacks' and constructs' constants",
    "policy_document._principals": "IAM principals are the stacks' and constructs' constants",
    "workload_role.check_statement": "policy statements are the stacks' constants",
    "scheduling.Toleration": "tolerations from config are validated by TolerationConfig (Literal operator, key required)",
    "dns_certificate.DnsCertificateProps": "the hosts are api./app. of platform.domain (a DNS name), never wildcards",
    "dns_certificate.DnsCertificate": "the stack asks only for the certificate's own hosts",
    "mesh_mtls.MeshMtlsProps": "entrypoints are the workloads' labels and ports (the stack's constants)",
    "azure_pipeline_access.AzurePipelineAccessProps": "the scope is the resource group's ID; the roles are the DR stack's constants",
    "entra_pipeline_app.EntraPipelineAppProps": "the delivery stack's applications and federation names are constants",
    "pipeline_role.FederatedIssuer": "audiences are the delivery stack's (config twins on FederatedIssuerProps)",
    "pipeline_role.check_least_privilege": "pipeline policies are constructs' constants (pipeline_permissions)",
    "pipeline_role.PipelineBoundaryProps": "services and guards are constants of pipeline_permissions",
    "pipeline_role.PipelineRoleProps": "names, durations and policies are the delivery stack's constants",
    "terraform_cloud.VariableSetSpec": "variable names are the delivery stack's constants (dynamic credentials)",
}

# "module.Owner: message head" -> (environment, patch) that would feed the construct the bad value;
# the configuration must refuse it.
TWINS: dict[str, tuple[str | None, dict]] = {
    # The pipelines' identities: the GitLab issuer, project path and branch of delivery.gitlab.
    "pipeline_role.FederatedIssuerProps: url {}: an https URL": (
        None,
        {"delivery": {"gitlab": {"issuer": "http://gitlab.com"}}},
    ),
    "pipeline_role.FederatedSubjects: issuer_host": (None, {"delivery": {"gitlab": {"issuer": "https://gitlab.com/"}}}),
    "pipeline_role.FederatedSubjects: audience {}": (None, {"delivery": {"gitlab": {"aws_audience": "sts.*"}}}),
    "pipeline_role.FederatedSubjects: subject {} has a wildcard": (
        None,
        {"delivery": {"gitlab": {"default_branch": "*"}}},
    ),
    "pipeline_role.FederatedSubjects: subject pattern": (None, {"delivery": {"gitlab": {"project_path": "iworkz/*"}}}),
    "entra_pipeline_app.Federation: federation {}: issuer": (
        None,
        {"delivery": {"gitlab": {"issuer": "http://gitlab.com"}}},
    ),
    "entra_pipeline_app.Federation: federation {}: audience": (
        None,
        {"delivery": {"gitlab": {"azure_audience": "api://*"}}},
    ),
    "entra_pipeline_app.Federation: federation {}: subject": (
        None,
        {"delivery": {"gitlab": {"project_path": "iworkz/in?ra"}}},
    ),
    # Terraform Cloud: the workspace prefix and the receivers of backend.cloud / delivery.terraform_cloud.
    "terraform_cloud.WorkspaceSpec: workspace {}: 1-90": (
        None,
        {"backend": {"cloud": {"workspace_prefix": "iworkz/"}}},
    ),
    "terraform_cloud.TerraformCloudProjectProps: notify_members": (None, {"backend": {"type": "cloud"}}),
    "alarm_settings.Condition: alarm severity": (
        "production",
        {"alarms": {"opensearch": {"cluster_red": {"severity": "page"}}}},
    ),
    "alarm_settings.Condition: alarm evaluation": (
        "production",
        {"alarms": {"redis": {"memory_percent": {"period_seconds": 45}}}},
    ),
    "alarm_settings.check_settings: ": ("production", {"alarms": {"postgres": {"cpu_percent": {"value": 120}}}}),
    "postgres.PostgresProps: {}: instance_class {} has no memory size": (
        "production",
        {"data": {"postgres": {"instance_class": "db.r5.large"}}},
    ),
    "application.Telemetry: telemetry: sampling_ratio": ("production", {"platform": {"trace_sampling_ratio": 1.5}}),
    "cluster_telemetry.ClusterTelemetryProps: cluster telemetry {}: log_retention_days": (
        "production",
        {"eks": {"container_log_retention_days": 0}},
    ),
    "application.ApplicationProps: the application needs a configuration": (
        "dev",
        {"platform": {"workloads": {"web-frontend": DELETE}}},
    ),
    "autoscaler.AutoscalerProps: autoscaler {}: need 1 <= min_replicas": (
        "dev",
        {"platform": {"workloads": {"backend-api": {"autoscaling": {"min_replicas": 5, "max_replicas": 2}}}}},
    ),
    "aks_cluster.AksNodePoolSpec: node pool {}: need 0 <= min_count": (
        "production",
        {"dr_azure": {"aks_user_pool": {"min_count": 30}}},
    ),
    "aks_cluster.AksNodePoolSpec: node pool {}: max_pods": (
        "production",
        {"dr_azure": {"aks_user_pool": {"max_pods": 20}}},
    ),
    "aks_cluster.AksClusterProps: AKS {}: a public API server": (
        "production",
        {"dr_azure": {"aks_private_cluster": False, "aks_authorized_ip_ranges": []}},
    ),
    "aks_cluster.AksClusterProps: AKS {}: authorized_ip_ranges must not": (
        "production",
        {"dr_azure": {"aks_private_cluster": False, "aks_authorized_ip_ranges": ["0.0.0.0/0"]}},
    ),
    "aks_cluster.AksClusterProps: AKS {}: the system pool needs": (
        "production",
        {"dr_azure": {"aks_system_pool": {"min_count": 0}}},
    ),
    "azure_backup_storage.AzureBackupStorageProps: storage account {}: replication": (
        "production",
        {"dr_azure": {"storage_replication_type": "LRS"}},
    ),
    "azure_backup_storage.AzureBackupStorageProps: storage account {}: immutability": (
        "production",
        {"dr_azure": {"backup_immutability_days": 0}},
    ),
    "azure_backup_storage.AzureBackupStorageProps: storage account {}: soft_delete": (
        "production",
        {"dr_azure": {"blob_soft_delete_days": 3}},
    ),
    "azure_key_vault.AzureKeyVaultProps: Key Vault {}: allowed_ip_ranges": (
        "production",
        {"dr_azure": {"deployer_ip_ranges": ["0.0.0.0/0"]}},
    ),
    "azure_postgres.AzurePostgresProps: PostgreSQL {}: version": (
        "production",
        {"dr_azure": {"kubernetes_version": "2.0"}},
    ),
    "azure_postgres.AzurePostgresProps: PostgreSQL {}: backup_retention": (
        "production",
        {"dr_azure": {"postgres_backup_retention_days": 3}},
    ),
    "azure_postgres.AzurePostgresProps: PostgreSQL {}: burstable": (
        "production",
        {"dr_azure": {"postgres_sku_name": "B_Standard_B2s"}},
    ),
    "bucket_replication.BucketReplicationProps: {}: cross-region": (
        "production",
        {"aws": {"backup_region": "ap-northeast-1"}},
    ),
    "bucket_replication.BucketReplicationProps: {}: IAM role names": (
        "production",
        {"data": {"buckets": ["documents-and-more-abc"]}},
    ),
    "cross_cloud_dns.CrossCloudDnsProps: DNS {}: a Route 53 Resolver": (
        "production",
        {"network": {"availability_zones": ["ap-northeast-1a"]}},
    ),
    "eks_cluster.AccessPrincipal: access principal": (
        "production",
        {"eks": {"access": [{"arn": "arn:aws:iam::1:role/x", "username": "x"}]}},
    ),
    "eks_cluster.AccessPrincipal: access policy": (
        "production",
        {"eks": {"access": [{"arn": "arn:aws:iam::{account_id}:user/devops", "username": "x", "policy": "Root"}]}},
    ),
    "alb_gateway.AlbGatewayProps: ALB name": (None, {"project": "iworkz-platform-xy"}),
    "alb_gateway.AlbGatewayProps: gateway {}: give the ranges": ("dev", {"edge": {"origin_ranges": []}}),
    "alb_gateway.AlbGatewayProps: gateway {}: source range": ("dev", {"edge": {"origin_ranges": ["0.0.0.0/0"]}}),
    "standby_gateway.StandbyGatewayProps: gateway {}: give the ranges": (
        "production",
        {"edge": {"origin_ranges": []}},
    ),
    "standby_gateway.StandbyGatewayProps: gateway {}: source range": (
        "production",
        {"edge": {"origin_ranges": ["0.0.0.0/0"]}},
    ),
    "cloudflare_edge.CloudflareEdgeProps: edge {}: hosts {} are outside": (
        "dev",
        {"edge": {"cloudflare": {"zone": "iworkz.jp"}}},
    ),
    "cloudflare_edge.CloudflareEdgeProps: edge {}: min_tls_version": (
        "dev",
        {"edge": {"cloudflare": {"min_tls_version": "1.1"}}},
    ),
    "web_acl.WebAclProps: web ACL {}: give at least one": ("dev", {"edge": {"waf": {"managed_rule_groups": []}}}),
    "web_acl.WebAclProps: web ACL {}: rate_limit": ("dev", {"edge": {"rate_limit": {"requests": 0}}}),
    "web_acl.WebAclProps: web ACL {}: rate_period_seconds": ("dev", {"edge": {"rate_limit": {"period_seconds": 30}}}),
    "eks_cluster.EksClusterProps: cluster name": (None, {"project": "1iworkz"}),
    "eks_cluster.EksClusterProps: cluster {}: EKS needs subnets": (
        "dev",
        {"network": {"availability_zones": ["ap-northeast-1a"]}},
    ),
    "eks_cluster.EksClusterProps: cluster {}: log_retention_days": ("dev", {"eks": {"log_retention_days": 0}}),
    "eks_cluster.EksClusterProps: cluster {}: access principals must": (
        "dev",
        {
            "eks": {
                "access": [
                    {"arn": "arn:aws:iam::{account_id}:user/devops", "username": "a"},
                    {"arn": "arn:aws:iam::{account_id}:user/devops", "username": "b"},
                ]
            }
        },
    ),
    "eks_cluster.EksClusterProps: cluster {}: a public endpoint needs": (
        "dev",
        {"eks": {"endpoint_public_access": True, "public_access_cidrs": []}},
    ),
    "eks_cluster.EksClusterProps: cluster {}: public endpoint open": (
        "production",
        {"eks": {"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]}},
    ),
    "fargate_profile.FargateProfileProps: fargate profile {}: give 1-5": (
        "dev",
        {"eks": {"fargate_namespaces": list("abcdef")}},
    ),
    "fargate_profile.FargateProfileProps: fargate profile {}: {} is not a namespace": (
        "dev",
        {"eks": {"fargate_namespaces": ["team-*"]}},
    ),
    "flow_logs.FlowLogsProps: retention_days must be": ("dev", {"network": {"flow_log_retention_days": 30}}),
    "k8s_workload.check_image: {} {} must be 'repository:tag'": (
        "dev",
        {"platform": {"workloads": {"web-frontend": {"image": "registry.gitlab.com/iworkz/web-frontend"}}}},
    ),
    "k8s_workload.check_image: {} {}: 'latest'": (
        "dev",
        {"monitoring": {"redis_exporter_image": {"repository": "quay.io/oliver006/redis_exporter", "tag": "latest"}}},
    ),
    "k8s_workload.K8sWorkloadProps: workload {}: replicas": (
        "dev",
        {"platform": {"workloads": {"web-frontend": {"replicas": -1}}}},
    ),
    "node_group.NodeTaint: taint {}: effect": (
        "dev",
        {"eks": {"node_groups": {"general": {"taints": [{"key": "a", "effect": "Never"}]}}}},
    ),
    "node_group.NodeTaint: taint key": (
        "dev",
        {"eks": {"node_groups": {"general": {"taints": [{"key": "a b", "effect": "NoSchedule"}]}}}},
    ),
    "node_group.NodeGroupProps: {}: name must be": (
        "dev",
        {
            "eks": {
                "node_groups": {
                    "Gen_eral": {"instance_types": ["m6i.large"], "min_size": 0, "max_size": 1, "desired_size": 0}
                }
            }
        },
    ),
    "node_group.NodeGroupProps: {}: give at least one instance": (
        "dev",
        {"eks": {"node_groups": {"general": {"instance_types": []}}}},
    ),
    "node_group.NodeGroupProps: {}: need 0 <= min_size": (
        "dev",
        {"eks": {"node_groups": {"general": {"min_size": 5}}}},
    ),
    "node_group.NodeGroupProps: {}: desired_size": ("dev", {"eks": {"node_groups": {"general": {"desired_size": 9}}}}),
    "node_group.NodeGroupProps: {}: capacity_type": (
        "dev",
        {"eks": {"node_groups": {"general": {"capacity_type": "RESERVED"}}}},
    ),
    "node_group.NodeGroupProps: {}: disk_size_gb": ("dev", {"eks": {"node_groups": {"general": {"disk_size_gb": 10}}}}),
    "node_group.NodeGroupProps: {}: max_unavailable": (
        "dev",
        {"eks": {"node_groups": {"general": {"max_unavailable_percentage": 0}}}},
    ),
    "node_group.NodeGroupProps: {}: metadata_hop_limit": ("dev", {"eks": {"metadata_hop_limit": 3}}),
    "node_group.NodeGroupProps: {}: duplicate taints": (
        "dev",
        {
            "eks": {
                "node_groups": {
                    "general": {
                        "taints": [
                            {"key": "a", "effect": "NoSchedule"},
                            {"key": "a", "value": "x", "effect": "NoSchedule"},
                        ]
                    }
                }
            }
        },
    ),
    "node_group.NodeGroupProps: {}: label key": (
        "dev",
        {"eks": {"node_groups": {"general": {"labels": {"a b": "x"}}}}},
    ),
    "opensearch.OpenSearchProps: domain_name": (None, {"project": "iworkz-platform"}),
    "opensearch.OpenSearchProps: {}: engine_version": (
        "dev",
        {"data": {"opensearch": {"engine_version": "Elasticsearch_7.10"}}},
    ),
    "opensearch.OpenSearchProps: {}: {} data nodes do not spread": (
        "dev",
        {"data": {"opensearch": {"instance_count": 4}}},
    ),
    "opensearch.OpenSearchProps: {}: master_count": ("dev", {"data": {"opensearch": {"master_count": 2}}}),
    "opensearch.OpenSearchProps: {}: warm_count must be": ("production", {"data": {"opensearch": {"warm_count": 1}}}),
    "opensearch.OpenSearchProps: {}: warm_instance_type": (
        "production",
        {"data": {"opensearch": {"warm_instance_type": "r6g.large.search"}}},
    ),
    "opensearch.OpenSearchProps: {}: UltraWarm needs dedicated": (
        "production",
        {"data": {"opensearch": {"master_count": 0}}},
    ),
    "opensearch.OpenSearchProps: {}: UltraWarm is not supported": (
        "production",
        {"data": {"opensearch": {"instance_type": "t3.medium.search"}}},
    ),
    "opensearch.OpenSearchProps: {}: cold storage needs": ("dev", {"data": {"opensearch": {"cold_storage": True}}}),
    "postgres.BackupReplica: replicated backups": (
        "dev",
        {"data": {"postgres": {"cross_region_backup_retention_days": 36}}},
    ),
    "azure_redis.AzureRedisProps: cache {}: sku_name": ("production", {"dr_azure": {"cache_sku_name": "Enterprise"}}),
    "azure_redis.AzureRedisProps: cache {}: capacity": ("production", {"dr_azure": {"cache_capacity": 6}}),
    "postgres.PostgresProps: {}: {}": (
        "production",
        {"alarms": {"postgres": {"replication_slot_lag_gb": {"period_seconds": 300}}}},
    ),
    "postgres.PostgresProps: {}: engine_version": ("dev", {"data": {"postgres": {"engine_version": "17.2"}}}),
    "postgres.PostgresProps: {}: read_replicas": ("dev", {"data": {"postgres": {"read_replicas": 6}}}),
    "postgres.PostgresProps: {}: backup_retention_days": ("dev", {"data": {"postgres": {"backup_retention_days": 0}}}),
    "postgres.PostgresProps: {}: max_allocated_storage_gb": (
        "dev",
        {"data": {"postgres": {"max_allocated_storage_gb": 10}}},
    ),
    "postgres.PostgresProps: {}: performance_insights": (
        "dev",
        {"data": {"postgres": {"performance_insights_retention_days": 30}}},
    ),
    "redis.RedisProps: replication_group_id": (None, {"project": "iworkz-platform-jp"}),
    "redis.RedisProps: {}: engine_version": ("dev", {"data": {"redis": {"engine_version": "6.2"}}}),
    "redis.RedisProps: {}: Multi-AZ": ("dev", {"data": {"redis": {"replicas_per_shard": 0}}}),
    "redis.RedisProps: {}: shards": ("dev", {"data": {"redis": {"shards": 501}}}),
    "redis.RedisProps: {}: snapshot_retention": ("dev", {"data": {"redis": {"snapshot_retention_days": 0}}}),
    "redis.RedisProps: {}: user id": (None, {"project": "iworkz-platform-jp"}),
    "scheduling.placement_on: node group {} is not defined": (
        "dev",
        {"platform": {"workloads": {"web-frontend": {"node_group": "nope"}}}},
    ),
    "scheduling.placement_on: node group {} has no labels": (
        "dev",
        {
            "eks": {"node_groups": {"general": {"labels": DELETE}}},
            "platform": {"workloads": {"web-frontend": {"node_group": "general"}}},
        },
    ),
    "scheduling.gpu_daemon_placement: there is no GPU": (
        "dev",
        {"platform": {"workloads": {"ai-services": {"node_group": "general"}}}},
    ),
    "scheduling.gpu_daemon_placement: GPU node group(s)": (
        "dev",
        {"eks": {"node_groups": {"compute-optimized": {"labels": DELETE}}}},
    ),
    "service_security_group.ServiceSecurityGroupProps: security group {}: source_cidrs": (
        "production",
        {"dr_azure": {"vnet_cidr": "100.64.0.0/16"}},
    ),
    "site_to_site_vpn.SiteToSiteVpnProps: VPN {}: gateway_sku": (
        "production",
        {"dr_azure": {"vpn_gateway_sku": "VpnGw1"}},
    ),
    "site_to_site_vpn.SiteToSiteVpnProps: VPN {}: customer_gateway_bgp_asn": (
        "production",
        {"dr_azure": {"vpn_customer_gateway_bgp_asn": 0}},
    ),
    "vpc.VpcProps: availability_zones must list": ("dev", {"network": {"availability_zones": []}}),
    "vpc.VpcProps: availability_zones list a zone twice": (
        "dev",
        {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1a"]}},
    ),
    "vpc.VpcProps: {}_subnet_cidrs: {} CIDRs": ("dev", {"network": {"subnets": {"public": ["10.2.101.0/24"]}}}),
    "vpc.VpcProps: {}_subnet_cidrs: {} lies outside": (
        "dev",
        {"network": {"subnets": {"public": ["10.9.1.0/24", "10.9.2.0/24", "10.9.3.0/24"]}}},
    ),
    "vpc.VpcProps: {}_subnet_cidrs: {} overlaps": (
        "dev",
        {"network": {"subnets": {"public": ["10.2.1.0/24", "10.2.2.0/24", "10.2.3.0/24"]}}},
    ),
    "vpc_endpoints.VpcEndpointsProps: interface endpoint {}: give the service": (
        "dev",
        {"network": {"interface_endpoints": ["ecr.api", "ecr.dkr", "sts", "logs", "com.amazonaws.ap-northeast-1.ec2"]}},
    ),
    "vpc_endpoints.VpcEndpointsProps: {} endpoints list a service twice": (
        "dev",
        {"network": {"interface_endpoints": ["ecr.api", "ecr.dkr", "sts", "logs", "logs"]}},
    ),
    "account_guards.AccountGuardsProps: password policy: at least": (
        None,
        {"security": {"password_policy": {"minimum_length": 8}}},
    ),
    "account_guards.AccountGuardsProps: password policy: remember": (
        None,
        {"security": {"password_policy": {"reuse_prevention": 5}}},
    ),
    "audit_trail.AuditTrailProps: trail {}: log_group_retention_days": (
        None,
        {"security": {"audit_trail": {"log_group_retention_days": 500}}},
    ),
    "azure_site_protection.AzureSiteProtectionProps: {}: the alerts need": (
        "production",
        {"dr_azure": {"alert_emails": []}},
    ),
    "azure_site_protection.AzureSiteProtectionProps: {}: the activity log": (
        "production",
        {"dr_azure": {"activity_log_total_retention_days": 365}},
    ),
    "azure_site_protection.AzureSiteProtectionProps: {}: unknown Defender": (
        "production",
        {"dr_azure": {"defender_plans": ["VirtualMachines", "Mainframes"]}},
    ),
    "backup_plan.RestoreTarget: restore target {}: at most 30": (
        "dev",
        {"data": {"buckets": [f"bucket-{n}" for n in range(31)]}},
    ),
    "backup_plan.BackupPlanProps: backup {}: copies need": ("dev", {"aws": {"backup_region": "ap-northeast-1"}}),
    "backup_plan.BackupPlanProps: backup {}: daily points": ("dev", {"backup": {"daily_retention_days": 7}}),
    "backup_plan.BackupPlanProps: backup {}: monthly points": ("dev", {"backup": {"monthly_retention_days": 365}}),
    "backup_plan.BackupPlanProps: backup {}: points stay in cold": (
        "dev",
        {"backup": {"monthly_cold_storage_after_days": 2500}},
    ),
    "backup_plan.BackupPlanProps: backup {}: the vault lock's minimum": (
        "dev",
        {"backup": {"vault_lock_min_retention_days": 4000}},
    ),
    "backup_plan.BackupPlanProps: backup {}: the vault lock would refuse the daily": (
        "dev",
        {"backup": {"vault_lock_min_retention_days": 60}},
    ),
    "backup_plan.BackupPlanProps: backup {}: the vault lock would refuse the monthly": (
        "dev",
        {"backup": {"vault_lock_max_retention_days": 1000}},
    ),
    "backup_plan.BackupPlanProps: backup {}: a compliance-mode lock": ("dev", {"backup": {"vault_lock_grace_days": 1}}),
    "config_recorder.ConfigRecorderProps: AWS Config {}: unknown": (
        None,
        {"security": {"config_rules": ["CLOUD_TRAIL_ENABLED", "NOT_A_RULE"]}},
    ),
    "findings_alerts.FindingsAlertsProps: findings {}: name at least": (
        None,
        {"security": {"findings": {"environments": []}}},
    ),
    "object_copy.ObjectCopyProps: max_minutes {}: a run needs": (
        "production",
        {"dr_azure": {"recovery": {"object_copy_max_minutes": 5}}},
    ),
    "subscriber_alert.SubscriberAlertProps: window_minutes": (
        "production",
        {"dr_azure": {"recovery": {"database_rpo_minutes": 2}}},
    ),
    "threat_detection.ThreatDetectionProps: threat detection: unknown": (
        None,
        {"security": {"guardduty_features": ["S3_DATA_EVENTS", "EKS_RUNTIME_MONITORING"]}},
    ),
    "ai_access.AiAccess: AiAccess: give at least one Bedrock model": ("dev", {"ai": {"bedrock": {"models": []}}}),
    "ai_access.AiAccess: Bedrock model {}": ("staging", {"ai": {"bedrock": {"models": ["Claude Sonnet"]}}}),
    "log_group.LogGroupProps: log group {}: retention_days": ("production", {"ai": {"log_retention_days": 42}}),
    "sagemaker_endpoint.SageMakerEndpointProps: SageMaker endpoint {}: need 1 <= instance_count": (
        "production",
        {"ai": {"endpoint": {"max_instance_count": 1}}},
    ),
    "sagemaker_endpoint.SageMakerEndpointProps: SageMaker endpoint {}: invocations >= 1": (
        "production",
        {"ai": {"endpoint": {"data_capture_percentage": 0}}},
    ),
    # The instance type, image and archive rules (iworkz.config.ai): one function serves both edges.
    "sagemaker_endpoint.SageMakerEndpointProps: SageMaker endpoint {}: {}": (
        "production",
        {"ai": {"endpoint": {"instance_type": "ml.g5.xlarge"}}},
    ),
}

# Rules of a construct that no configuration value can reach, each with its reason.
UNREACHABLE = {
    "application_secrets.ApplicationSecretsProps: operator": "the workloads stack passes operator_secrets, which always makes the OpenAI entry",
    "application_secrets.ApplicationSecretsProps: pull_from": "the workloads stack derives both from platform.image_pull_secret",
    "subscriber_alert.SubscriberAlertProps: {}: give at least one action group": "the dr-azure stack passes its critical e-mail group and the alert path",
    "pipeline_role.FederatedIssuerProps: audiences": "the delivery stack passes the configured audience (its twin: FederatedSubjects)",
    "pipeline_role.FederatedSubjects: a trust needs": "every trust of the delivery stack names its subjects",
    "terraform_cloud.WorkspaceSpec: workspace {}: a workspace cannot": "producers come from the registry, which has no self-dependency",
    "terraform_cloud.TerraformCloudProjectProps: workspace names must differ": (
        "names are <workspace_prefix><stack>: one prefix (its format: a twin of WorkspaceSpec) before unique stack names"
    ),
    "terraform_cloud.TerraformCloudProjectProps: producers": "producers are the registry's stacks, each with its workspace",
    "terraform_cloud.TerraformCloudProjectProps: variable sets": "the delivery stack makes a set for each environment it names",
    "terraform_cloud.TerraformCloudProjectProps: terraform_version": "iworkz/backend.py: TERRAFORM_VERSION",
    "application.Telemetry: telemetry: otlp_endpoint": "the endpoint is PlatformOutputs' configured fact",
    "node_group.NodeGroupProps: {}: its capacity alarm needs group_metrics": "the eks stack passes its GroupMetricsCollection",
    "k8s_workload.K8sWorkload: workload {}: set autoscaled": "the stack passes autoscaled with the HPA it builds",
    "aks_cluster.AksClusterProps: AKS {}: give disk_encryption_key_id": "the stack always passes the Key Vault key",
    "aks_cluster.AksClusterProps: AKS {}: disk_encryption_key_id needs": "the stack always passes both",
    "aks_cluster.AksClusterProps: AKS {}: the user pool needs": "pool names are the stack's constants",
    "aks_cluster.AksNodePoolSpec: node pool name": "pool names are the stack's constants",
    "azure_backup_storage.AzureBackupStorageProps: storage account name": "compact_name() makes 3-24 lower-case letters and digits",
    "azure_backup_storage.AzureBackupStorageProps: storage account {}: give key_vault_id": "the stack always passes the key",
    "azure_key_vault.AzureKeyVaultProps: Key Vault name": "compact_name() keeps it within 3-24 characters",
    "azure_key_vault.AzureKeyVaultProps: Key Vault {}: soft_delete": "the construct default (90)",
    "alb_gateway.AlbGatewayProps: gateway {}: give at least one route": "the routes are the stack's api and app hosts",
    "alb_gateway.AlbGatewayProps: gateway {}: ssl_policy": "the TLS policy is the construct default",
    "standby_gateway.StandbyGatewayProps: gateway {}: give at least one route": "the routes are the stack's api and app hosts",
    "standby_gateway.StandbyGatewayProps: gateway {}: acme_server": "the ACME directory is the construct default",
    "cloudflare_edge.CloudflareEdgeProps: edge {}: the hosts need the API host": "the hosts are the contract's api and app",
    "cloudflare_edge.CloudflareEdgeProps: edge {}: the zone's rate limit": "the stack always passes edge.rate_limit",
    "cloudflare_edge.CloudflareEdgeProps: edge {}: failover pool names": "the stack's one pool, dr-azure",
    "eks_cluster.EksClusterProps: cluster {}: unknown log types": "log types are the construct default",
    "eks_cluster.EksClusterProps: cluster {}: control-plane logging": "log types are the construct default",
    "eks_cluster.EksClusterProps: cluster {}: port": "ports are the construct defaults",
    "fargate_profile.FargateProfileProps: fargate profile {}: cluster_name": "the stack passes the literal name",
    "fargate_profile.FargateProfileProps: fargate profile {}: lowercase": "the profile name is the stack's constant",
    "node_group.NodeGroupProps: {}: cluster_name": "the stack passes the literal name",
    "opensearch.OpenSearchProps: {}: availability_zones must be": "the stack passes min(zones, 3); zones >= 2 is a config rule",
    "opensearch.OpenSearchProps: {}: admin_service_account": "the stack passes only the service account",
    "azure_postgres.AzurePostgresProps: PostgreSQL {}: administrator login": "the login is the DR stack's constant",
    "postgres.PostgresProps: {}: give backup_replica": "the stack always passes the replica",
    "postgres.PostgresProps: {}: monitoring_interval": "the construct default (60)",
    "redis.RedisProps: {}: give at least one client": "the stack's constants",
    "redis.RedisProps: {}: client {} has a disabled": "the stack's constants",
    "site_to_site_vpn.SiteToSiteVpnProps: VPN {}: give the AWS route tables": "the stack passes the VPC's route tables",
    "ai_access.AiAccess: endpoint policy": "the ai stack asks for the policies of the endpoints it creates, for ai-services' role",
    "ai_access._check_resources": "the statements are the construct's constants",
    "log_group.LogGroupProps: log group {}: give a path-like name": "log group names are the constructs' constants",
    "sagemaker_endpoint.SageMakerEndpointProps: SageMaker endpoint {}: give the private subnets": "the stack passes the network's private subnets (one per zone; at least one zone)",
    "sagemaker_endpoint.SageMakerEndpointProps: SageMaker endpoint {}: names have at most 63": "<project>-<environment>-ai-matching: the project and environment name limits keep it within 50 (names.py checks 63)",
    "vpc.VpcProps: karpenter_discovery": "the stack's choice",
    "vpc.VpcProps: public_ingress_tcp_ports": "the stack's constants",
    "audit_trail.AuditTrailProps: trail {}: name the buckets": "the stack passes every environment's data buckets",
    "backup_plan.RestoreTarget: restore target {}: one of": "resource types are the data stack's constants",
    "findings_alerts.FindingsAlertsProps: findings {}: secret names": "secret names are <prefix>/monitoring/..., no comma",
    "object_copy.ObjectCopyProps: {}: give at least one bucket": "data.buckets has min_length 1",
    "object_copy.ObjectCopyProps: schedule {} is not": "the schedule is computed by copy_schedule()",
    "object_copy.ObjectCopyProps: stale_after_hours {} must exceed": "the RPO rule: interval + max_minutes <= objects_rpo_hours",
}


def _sites() -> list[str]:
    sites = []
    for path in sorted((ROOT / "constructs").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for top in tree.body:
            owners = [top] if isinstance(top, ast.FunctionDef | ast.ClassDef) else []
            for owner in owners:
                for node in ast.walk(owner):
                    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                        if getattr(node.exc.func, "id", None) != "ValueError" or not node.exc.args:
                            continue
                        message = node.exc.args[0]
                        parts = message.values if isinstance(message, ast.JoinedStr) else [message]
                        text = "".join(str(p.value) if isinstance(p, ast.Constant) else "{}" for p in parts)
                        sites.append(f"{path.stem}.{owner.name}: {text}")
    return sites


SITES = _sites()


def _covered(site: str, table: dict) -> list[str]:
    return [key for key in table if site.startswith(key)]


def test_every_construct_rule_has_a_config_twin_or_a_reason():
    assert len(SITES) > 150, "the walk over constructs/ found too few rules"
    missing = [
        site
        for site in SITES
        if not _covered(site, TWINS) and not _covered(site, UNREACHABLE) and site.split(":")[0] not in FROM_CODE
    ]
    assert not missing, "construct rules without a config twin or a reason:\n" + "\n".join(missing)
    stale = [key for key in [*TWINS, *UNREACHABLE] if not any(site.startswith(key) for site in SITES)]
    assert not stale, f"entries that name no construct rule: {stale}"


@pytest.mark.parametrize(("env", "patch"), TWINS.values(), ids=list(TWINS))
def test_the_config_twin_refuses_what_the_construct_would(tmp_path, env, patch):
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, env, patch))
    assert all(problem.fix for problem in caught.value.problems), caught.value.render()
