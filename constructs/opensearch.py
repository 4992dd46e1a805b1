"""An OpenSearch 2.x domain inside the VPC, encrypted, TLS 1.2+ only, fine-grained access control.

Requires the account-level service-linked role ``AWSServiceRoleForAmazonOpenSearchService``
(created once per account, e.g. by the first VPC domain created in the console or with
``aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com``);
it is not created here because every environment's stack would try to own it.

UltraWarm (``warm_count``) and cold storage (``cold_storage``) give the log indices the
tiers the ISM actions ``warm_migration`` and ``cold_migration`` need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.opensearch_domain import (
    OpensearchDomain,
    OpensearchDomainAdvancedSecurityOptions,
    OpensearchDomainAdvancedSecurityOptionsMasterUserOptions,
    OpensearchDomainClusterConfig,
    OpensearchDomainClusterConfigColdStorageOptions,
    OpensearchDomainClusterConfigZoneAwarenessConfig,
    OpensearchDomainDomainEndpointOptions,
    OpensearchDomainEbsOptions,
    OpensearchDomainEncryptAtRest,
    OpensearchDomainLogPublishingOptions,
    OpensearchDomainNodeToNodeEncryption,
    OpensearchDomainSoftwareUpdateOptions,
    OpensearchDomainVpcOptions,
)
from constructs import Construct

from iworkz.config.catalog import newest_in_standard_support
from iworkz_constructs.policy_document import PolicyDocument, account_trust_with_mfa
from iworkz_constructs.service_security_group import ServiceSecurityGroup, ServiceSecurityGroupProps
from iworkz_constructs.workload_role import check_service_account, web_identity_statement

HTTPS_PORT = 443
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
# log type → short name of its log group
LOG_TYPES = {
    "AUDIT_LOGS": "audit",
    "SEARCH_SLOW_LOGS": "search-slow",
    "INDEX_SLOW_LOGS": "index-slow",
    "ES_APPLICATION_LOGS": "application",
}
WARM_COUNT_RANGE = (2, 150)
# Data node families that cannot host UltraWarm.
NO_WARM_FAMILIES = ("t2.", "t3.")
# What the master user may call: the domain's REST API (the access policy delegates to IAM).
MASTER_HTTP_ACTIONS = (
    "es:ESHttpGet",
    "es:ESHttpHead",
    "es:ESHttpPost",
    "es:ESHttpPut",
    "es:ESHttpDelete",
    "es:ESHttpPatch",
)


@dataclass(frozen=True)
class AdminServiceAccount:
    """A Kubernetes service account that may assume the domain's master role (IRSA).

    | name | meaning | default |
    |---|---|---|
    | oidc_provider_arn | ARN of the cluster's IAM OIDC provider (``EksCluster.oidc_provider_arn``) | required |
    | oidc_issuer | issuer URL without ``https://`` (``EksCluster.oidc_issuer``) | required |
    | namespace | namespace of the service account (no wildcards) | required |
    | service_account | service account name (no wildcards) | required |
    """

    oidc_provider_arn: str
    oidc_issuer: str
    namespace: str
    service_account: str

    def __post_init__(self) -> None:
        check_service_account(self.oidc_issuer, self.namespace, self.service_account)


@dataclass(frozen=True)
class OpenSearchProps:
    """Properties of :class:`OpenSearch`.

    | name | meaning | default |
    |---|---|---|
    | domain_name | 3-28 lowercase characters, e.g. ``iworkz-production-search`` | required |
    | region / account_id | where the domain lives (for its ARN in policies) | required |
    | vpc_id | VPC of the security group | required |
    | subnet_ids | private subnets, one per AZ (the first ``availability_zones`` are used) | required |
    | client_security_groups | security groups allowed on 443, by short key | required |
    | kms_key_arn | key for data at rest and the log groups | required |
    | availability_zones | zones the data nodes spread over (1-3) | 3 |
    | engine_version | ``OpenSearch_2.x`` | the newest in standard support (iworkz/config/catalog/versions.yaml) |
    | instance_type / instance_count | data nodes (count a multiple of the zones) | ``r6g.large.search`` / 3 |
    | master_instance_type / master_count | dedicated masters (0, 3 or 5) | ``m6g.large.search`` / 3 |
    | volume_size_gb / volume_iops / volume_throughput | gp3 EBS per data node | 100 / 3000 / 125 |
    | warm_count | UltraWarm nodes: 0 (none) or 2-150; needs dedicated masters and no T2/T3 data nodes | 0 |
    | warm_instance_type | UltraWarm node type (``ultrawarm1.*``) | ``ultrawarm1.medium.search`` |
    | cold_storage | cold storage (needs UltraWarm) | False |
    | master_user_arn | IAM principal mapped to the security plugin's all_access | a new role ``<domain>-admin`` |
    | admin_service_account | Kubernetes service account that may also assume the new ``<domain>-admin`` role (not with master_user_arn) | none |
    | log_retention_days | retention of audit, slow and error logs | 365 |
    | prevent_destroy | refuse to destroy the domain in Terraform | True |
    """

    domain_name: str
    region: str
    account_id: str
    vpc_id: str
    subnet_ids: Sequence[str]
    client_security_groups: Mapping[str, str]
    kms_key_arn: str
    availability_zones: int = 3
    engine_version: str = field(default_factory=newest_in_standard_support("opensearch"))
    instance_type: str = "r6g.large.search"
    instance_count: int = 3
    master_instance_type: str = "m6g.large.search"
    master_count: int = 3
    volume_size_gb: int = 100
    volume_iops: int = 3000
    volume_throughput: int = 125
    warm_count: int = 0
    warm_instance_type: str = "ultrawarm1.medium.search"
    cold_storage: bool = False
    master_user_arn: str | None = None
    admin_service_account: AdminServiceAccount | None = None
    log_retention_days: int = 365
    prevent_destroy: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.domain_name
        if (
            not 3 <= len(name) <= 28
            or not name[0].isalpha()
            or not all(c.islower() or c.isdigit() or c == "-" for c in name)
        ):
            raise ValueError(
                f"domain_name {name!r}: 3-28 lowercase letters, digits and hyphens, starting with a letter"
            )
        if not self.engine_version.startswith("OpenSearch_2."):
            raise ValueError(f"{name}: engine_version {self.engine_version!r} is not OpenSearch 2.x")
        if not 1 <= self.availability_zones <= 3:
            raise ValueError(f"{name}: availability_zones must be 1-3, got {self.availability_zones}")
        if self.instance_count % self.availability_zones:
            raise ValueError(
                f"{name}: {self.instance_count} data nodes do not spread evenly over {self.availability_zones} zones"
            )
        if self.master_count not in (0, 3, 5):
            raise ValueError(f"{name}: master_count must be 0, 3 or 5, got {self.master_count}")
        low, high = WARM_COUNT_RANGE
        if self.warm_count and not low <= self.warm_count <= high:
            raise ValueError(f"{name}: warm_count must be 0 (no UltraWarm) or {low}-{high}, got {self.warm_count}")
        if not self.warm_instance_type.startswith("ultrawarm1."):
            raise ValueError(
                f"{name}: warm_instance_type {self.warm_instance_type!r} is not an UltraWarm type (ultrawarm1.*)"
            )
        if self.warm_count and self.master_count == 0:
            raise ValueError(f"{name}: UltraWarm needs dedicated master nodes (master_count 3 or 5)")
        if self.warm_count and self.instance_type.startswith(NO_WARM_FAMILIES):
            raise ValueError(
                f"{name}: UltraWarm is not supported with T2/T3 data nodes ({self.instance_type}); "
                "use a larger family or warm_count 0"
            )
        if self.cold_storage and not self.warm_count:
            raise ValueError(f"{name}: cold storage needs UltraWarm (warm_count > 0)")
        if self.admin_service_account is not None and self.master_user_arn is not None:
            raise ValueError(
                f"{name}: admin_service_account only edits the master role this construct creates; "
                "it cannot be combined with master_user_arn"
            )


class OpenSearch(Construct):
    """Attributes: ``domain``, ``domain_name``, ``domain_arn``, ``endpoint``, ``security_group_id``,
    ``master_user_arn``, ``master_role`` (the created ``<domain>-admin`` role, or None with
    ``master_user_arn``), ``log_group_names``, ``warm_enabled``, ``cold_storage_enabled``.

    The created master role is assumable by the account's principals with MFA and, with
    ``admin_service_account``, by that Kubernetes service account; its inline policy allows the
    domain's REST API (``es:ESHttp*``), which the domain's access policy delegates to IAM.
    """

    def __init__(self, scope: Construct, id: str, props: OpenSearchProps) -> None:
        super().__init__(scope, id)
        name = props.domain_name
        domain_arn = f"arn:aws:es:{props.region}:{props.account_id}:domain/{name}"
        security_group = ServiceSecurityGroup(
            self,
            "security-group",
            ServiceSecurityGroupProps(
                name=f"{name}-sg",
                description=f"OpenSearch {name}: HTTPS from EKS only",
                vpc_id=props.vpc_id,
                port=HTTPS_PORT,
                sources=props.client_security_groups,
            ),
        )
        self.security_group_id = security_group.id
        self.warm_enabled = props.warm_count > 0
        self.cold_storage_enabled = props.cold_storage
        self.master_role: IamRole | None = None
        if props.master_user_arn is None:
            trusted = [account_trust_with_mfa(props.account_id)]
            service_account = props.admin_service_account
            if service_account is not None:
                trusted.append(
                    web_identity_statement(
                        service_account.oidc_provider_arn,
                        service_account.oidc_issuer,
                        service_account.namespace,
                        service_account.service_account,
                    )
                )
            admin = IamRole(
                self,
                "master-role",
                name=f"{name}-admin",
                description=f"Fine-grained access control master user of {name}",
                assume_role_policy=PolicyDocument(self, "master-trust-policy", trusted).json,
            )
            IamRolePolicy(
                self,
                "master-policy",
                name=f"{name}-admin-http",
                role=admin.id,
                policy=PolicyDocument(
                    self,
                    "master-http-policy",
                    [
                        {
                            "Sid": "OpenSearchHttp",
                            "Effect": "Allow",
                            "Action": list(MASTER_HTTP_ACTIONS),
                            "Resource": [domain_arn, f"{domain_arn}/*"],
                        }
                    ],
                ).json,
            )
            self.master_role = admin
            self.master_user_arn = admin.arn
        else:
            self.master_user_arn = props.master_user_arn
        log_groups = {
            log_type: CloudwatchLogGroup(
                self,
                f"log-{short}",
                name=f"/aws/opensearch/{name}/{short}",
                retention_in_days=props.log_retention_days,
                kms_key_id=props.kms_key_arn,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
            )
            for log_type, short in LOG_TYPES.items()
        }
        self.log_group_names = {log_type: group.name for log_type, group in log_groups.items()}
        log_policy = CloudwatchLogResourcePolicy(
            self,
            "log-policy",
            policy_name=f"{name}-logs",
            policy_document=PolicyDocument(
                self,
                "log-policy-document",
                [
                    {
                        "Sid": "OpenSearchPublishesLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "es.amazonaws.com"},
                        "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                        "Resource": [f"{group.arn}:*" for group in log_groups.values()],
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": props.account_id},
                            "ArnLike": {"aws:SourceArn": domain_arn},
                        },
                    }
                ],
            ).json,
        )
        zones = props.availability_zones
        dedicated_masters = props.master_count > 0
        self.domain = OpensearchDomain(
            self,
            "domain",
            domain_name=name,
            engine_version=props.engine_version,
            cluster_config=OpensearchDomainClusterConfig(
                instance_type=props.instance_type,
                instance_count=props.instance_count,
                dedicated_master_enabled=dedicated_masters,
                dedicated_master_type=props.master_instance_type if dedicated_masters else None,
                dedicated_master_count=props.master_count if dedicated_masters else None,
                warm_enabled=self.warm_enabled,
                warm_type=props.warm_instance_type if self.warm_enabled else None,
                warm_count=props.warm_count if self.warm_enabled else None,
                cold_storage_options=OpensearchDomainClusterConfigColdStorageOptions(enabled=props.cold_storage)
                if self.warm_enabled
                else None,
                zone_awareness_enabled=zones > 1,
                zone_awareness_config=OpensearchDomainClusterConfigZoneAwarenessConfig(availability_zone_count=zones)
                if zones > 1
                else None,
            ),
            ebs_options=OpensearchDomainEbsOptions(
                ebs_enabled=True,
                volume_type="gp3",
                volume_size=props.volume_size_gb,
                iops=props.volume_iops,
                throughput=props.volume_throughput,
            ),
            vpc_options=OpensearchDomainVpcOptions(
                subnet_ids=list(props.subnet_ids)[:zones],
                security_group_ids=[security_group.id],
            ),
            encrypt_at_rest=OpensearchDomainEncryptAtRest(enabled=True, kms_key_id=props.kms_key_arn),
            node_to_node_encryption=OpensearchDomainNodeToNodeEncryption(enabled=True),
            domain_endpoint_options=OpensearchDomainDomainEndpointOptions(
                enforce_https=True, tls_security_policy=TLS_POLICY
            ),
            advanced_security_options=OpensearchDomainAdvancedSecurityOptions(
                enabled=True,
                anonymous_auth_enabled=False,
                internal_user_database_enabled=False,
                master_user_options=OpensearchDomainAdvancedSecurityOptionsMasterUserOptions(
                    master_user_arn=self.master_user_arn
                ),
            ),
            # Only this account's principals reach the domain; fine-grained access control
            # then maps IAM roles to OpenSearch roles.
            access_policies=PolicyDocument(
                self,
                "access-policy",
                [
                    {
                        "Sid": "AccountPrincipalsOnly",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
                        "Action": "es:ESHttp*",
                        "Resource": f"{domain_arn}/*",
                    }
                ],
            ).json,
            log_publishing_options=[
                OpensearchDomainLogPublishingOptions(
                    log_type=log_type, cloudwatch_log_group_arn=group.arn, enabled=True
                )
                for log_type, group in log_groups.items()
            ],
            software_update_options=OpensearchDomainSoftwareUpdateOptions(auto_software_update_enabled=True),
            tags={**props.tags, "Name": name},
            depends_on=[log_policy],
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.domain_name = self.domain.domain_name
        self.domain_arn = self.domain.arn
        self.endpoint = self.domain.endpoint
