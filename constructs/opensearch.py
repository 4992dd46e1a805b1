"""An OpenSearch 2.x domain inside the VPC, encrypted, TLS 1.2+ only, fine-grained access control.

Requires the account-level service-linked role ``AWSServiceRoleForAmazonOpenSearchService``
(created once per account, e.g. by the first VPC domain created in the console or with
``aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com``);
it is not created here because every environment's stack would try to own it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import Fn, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.opensearch_domain import (
    OpensearchDomain,
    OpensearchDomainAdvancedSecurityOptions,
    OpensearchDomainAdvancedSecurityOptionsMasterUserOptions,
    OpensearchDomainClusterConfig,
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

from iworkz_constructs.service_security_group import ServiceSecurityGroup, ServiceSecurityGroupProps

HTTPS_PORT = 443
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
# log type → short name of its log group
LOG_TYPES = {
    "AUDIT_LOGS": "audit",
    "SEARCH_SLOW_LOGS": "search-slow",
    "INDEX_SLOW_LOGS": "index-slow",
    "ES_APPLICATION_LOGS": "application",
}


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
    | engine_version | ``OpenSearch_2.x`` | ``OpenSearch_2.17`` |
    | instance_type / instance_count | data nodes (count a multiple of the zones) | ``r6g.large.search`` / 3 |
    | master_instance_type / master_count | dedicated masters (0, 3 or 5) | ``m6g.large.search`` / 3 |
    | volume_size_gb / volume_iops / volume_throughput | gp3 EBS per data node | 100 / 3000 / 125 |
    | master_user_arn | IAM principal mapped to the security plugin's all_access | a new role ``<domain>-admin`` |
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
    engine_version: str = "OpenSearch_2.17"
    instance_type: str = "r6g.large.search"
    instance_count: int = 3
    master_instance_type: str = "m6g.large.search"
    master_count: int = 3
    volume_size_gb: int = 100
    volume_iops: int = 3000
    volume_throughput: int = 125
    master_user_arn: str | None = None
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


class OpenSearch(Construct):
    """Attributes: ``domain``, ``domain_name``, ``domain_arn``, ``endpoint``, ``security_group_id``,
    ``master_user_arn``, ``log_group_names``.
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
        if props.master_user_arn is None:
            admin = IamRole(
                self,
                "master-role",
                name=f"{name}-admin",
                description=f"Fine-grained access control master user of {name}",
                assume_role_policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                            }
                        ],
                    }
                ),
            )
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
            )
            for log_type, short in LOG_TYPES.items()
        }
        self.log_group_names = {log_type: group.name for log_type, group in log_groups.items()}
        log_policy = CloudwatchLogResourcePolicy(
            self,
            "log-policy",
            policy_name=f"{name}-logs",
            policy_document=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
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
                }
            ),
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
                subnet_ids=Token.as_list(Fn.slice(props.subnet_ids, 0, zones)),
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
            access_policies=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountPrincipalsOnly",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
                            "Action": "es:ESHttp*",
                            "Resource": f"{domain_arn}/*",
                        }
                    ],
                }
            ),
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
