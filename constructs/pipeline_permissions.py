"""What the pipeline roles may do in AWS: the services the stacks manage, read-only or in full.

The stacks' resources come from a known set of AWS services; the plan role may read them
(``Describe*``, ``Get*``, ``List*``, never secret values or objects) and a deploy role may
manage them (``<service>:*``, never ``*``). :data:`RESOURCE_SERVICES` maps each Terraform
resource type of the stacks to its IAM service: tests/test_delivery.py fails when a stack
synthesises a resource type it does not cover, so a new kind of resource comes with its
permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from iworkz_constructs.policy_document import Statement

# Terraform resource type prefix -> IAM service prefix; the longest matching prefix wins.
RESOURCE_SERVICES: dict[str, str] = {
    "aws_accessanalyzer_": "access-analyzer",
    "aws_acm_": "acm",
    "aws_apigatewayv2_": "apigateway",
    "aws_appautoscaling_": "application-autoscaling",
    "aws_autoscaling_": "autoscaling",
    "aws_backup_": "backup",
    "aws_bedrock_": "bedrock",
    "aws_cloudtrail": "cloudtrail",
    "aws_cloudwatch_composite_alarm": "cloudwatch",
    "aws_cloudwatch_dashboard": "cloudwatch",
    "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_config_": "config",
    "aws_customer_gateway": "ec2",
    "aws_db_": "rds",
    "aws_default_": "ec2",
    "aws_dynamodb_": "dynamodb",
    "aws_ecr_": "ecr",
    "aws_ebs_": "ec2",
    "aws_eip": "ec2",
    "aws_eks_": "eks",
    "aws_elasticache_": "elasticache",
    "aws_flow_log": "ec2",
    "aws_guardduty_": "guardduty",
    "aws_iam_": "iam",
    "aws_internet_gateway": "ec2",
    "aws_kms_": "kms",
    "aws_lambda_": "lambda",
    "aws_launch_template": "ec2",
    "aws_nat_gateway": "ec2",
    "aws_opensearch_": "es",
    "aws_rds_": "rds",
    "aws_route": "ec2",
    "aws_route53_": "route53",
    "aws_route53_resolver_": "route53resolver",
    "aws_s3_": "s3",
    "aws_sagemaker_": "sagemaker",
    "aws_secretsmanager_": "secretsmanager",
    "aws_security_group": "ec2",
    "aws_securityhub_": "securityhub",
    "aws_sns_": "sns",
    "aws_sqs_": "sqs",
    "aws_ssm_": "ssm",
    "aws_subnet": "ec2",
    "aws_vpc": "ec2",
    "aws_vpn_": "ec2",
    "aws_wafv2_": "wafv2",
}

# The services the environments' stacks manage (test_delivery checks the list against the
# resource types they synthesise): a deploy role manages them.
ENVIRONMENT_SERVICES: tuple[str, ...] = (
    "acm",
    "apigateway",
    "application-autoscaling",
    "autoscaling",
    "backup",
    "bedrock",
    "cloudwatch",
    "ec2",
    "eks",
    "elasticache",
    "es",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53resolver",
    "s3",
    "sagemaker",
    "secretsmanager",
    "sns",
    "sqs",
    "wafv2",
)
# What the once-per-account stacks add (state, delivery, security): the plan role reads them; only an
# administrator changes them.
ACCOUNT_SERVICES: tuple[str, ...] = (
    "access-analyzer",
    "cloudtrail",
    "cloudwatch",
    "config",
    "dynamodb",
    "ec2",
    "events",
    "guardduty",
    "iam",
    "kms",
    "lambda",
    "s3",
    "securityhub",
    "sns",
    "sqs",
)

# Reads that return data rather than configuration: a plan never needs them (the state objects
# are granted by StateOutputs.grant_state_access, which this deny leaves alone).
DATA_READS: tuple[str, ...] = (
    "secretsmanager:GetSecretValue",
    "ec2:GetPasswordData",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:FilterLogEvents",
)


def service_of(resource_type: str) -> str | None:
    """The IAM service of a Terraform resource type (``aws_vpc_endpoint`` -> ``ec2``), or None."""
    matches = [prefix for prefix in RESOURCE_SERVICES if resource_type.startswith(prefix)]
    return RESOURCE_SERVICES[max(matches, key=len)] if matches else None


def configuration_reads(services: Iterable[str], sid: str) -> Statement:
    """Describe/Get/List on the services (what a plan reads)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": [f"{service}:{verb}*" for service in sorted(set(services)) for verb in ("Describe", "Get", "List")],
        "Resource": "*",
    }


def read_only_statements(services: Iterable[str], state_bucket: str | None) -> list[Statement]:
    """Describe/Get/List on the services, and a deny of data reads (objects outside the state bucket)."""
    names = sorted(set(services))
    deny_objects: Statement = {
        "Sid": "NoObjectReads",
        "Effect": "Deny",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        **(
            {"NotResource": f"arn:aws:s3:::{state_bucket}/*"}
            if state_bucket is not None
            else {"Resource": "arn:aws:s3:::*/*"}
        ),
    }
    return [
        configuration_reads(names, "ReadConfiguration"),
        {"Sid": "NoDataReads", "Effect": "Deny", "Action": list(DATA_READS), "Resource": "*"},
        deny_objects,
    ]


# Services whose resources carry the environment's name: a deploy role manages only its own.
# (Lambda: a role that could change any function's code could run it with any role it can pass.)
NAMED_BY_ENVIRONMENT = frozenset({"iam", "lambda", "s3", "secretsmanager"})


def manage_statements(services: Sequence[str], *, account_id: str, name_prefix: str) -> list[Statement]:
    """Everything on each service the stacks manage; IAM roles and policies, buckets and secrets
    only of the environment (``<name_prefix>-*``, ``<name_prefix>/*``). The boundary's guards still hold."""
    statements: list[Statement] = [
        {
            "Sid": "ManageTheStacksServices",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in sorted(set(services) - NAMED_BY_ENVIRONMENT)],
            "Resource": "*",
        }
    ]
    if "iam" in services:
        statements += iam_statements(account_id, name_prefix)
    if "s3" in services:
        statements += bucket_statements(name_prefix)
    if "secretsmanager" in services:
        statements += secret_statements(account_id, f"{name_prefix}/")
    if "lambda" in services:
        statements += function_statements(account_id, name_prefix)
    statements.append({"Sid": "NoCredentialReads", "Effect": "Deny", "Action": list(CREDENTIAL_READS), "Resource": "*"})
    return statements


def bucket_statements(name_prefix: str) -> list[Statement]:
    """S3 on the buckets named ``<name_prefix>-*`` and their objects."""
    return [
        {
            "Sid": "ManageTheNamedBuckets",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{name_prefix}-*", f"arn:aws:s3:::{name_prefix}-*/*"],
        },
        {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
    ]


def function_statements(account_id: str, name_prefix: str) -> list[Statement]:
    """Lambda on the functions named ``<name_prefix>-*`` (and their versions and aliases)."""
    return [
        {
            "Sid": "ManageTheNamedFunctions",
            "Effect": "Allow",
            "Action": "lambda:*",
            "Resource": f"arn:aws:lambda:*:{account_id}:function:{name_prefix}-*",
        },
        {
            "Sid": "FunctionsWithoutAResource",
            "Effect": "Allow",
            "Action": ["lambda:GetAccountSettings", "lambda:ListFunctions"],
            "Resource": "*",
        },
    ]


def secret_statements(account_id: str, name_prefix: str) -> list[Statement]:
    """Secrets Manager on the secrets named ``<name_prefix>*``."""
    return [
        {
            "Sid": "ManageTheNamedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:*",
            "Resource": f"arn:aws:secretsmanager:*:{account_id}:secret:{name_prefix}*",
        },
        {
            "Sid": "SecretsWithoutAResource",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets"],
            "Resource": "*",
        },
    ]


# What the stacks do to IAM: roles with inline and managed policies, instance profiles, the
# clusters' OIDC providers. Never users, groups, access keys or account settings.
IAM_WRITES: tuple[str, ...] = tuple(
    f"iam:{verb}{noun}"
    for noun, verbs in (
        ("Role", ("Create", "Delete", "Update", "Tag", "Untag")),
        ("RoleDescription", ("Update",)),
        ("AssumeRolePolicy", ("Update",)),
        ("RolePolicy", ("Put", "Delete", "Attach", "Detach")),
        ("Role", ("Pass",)),
        ("Policy", ("Create", "Delete", "Tag", "Untag")),
        ("PolicyVersion", ("Create", "Delete")),
        ("DefaultPolicyVersion", ("Set",)),
        ("InstanceProfile", ("Create", "Delete", "Tag", "Untag")),
        ("RoleToInstanceProfile", ("Add",)),
        ("RoleFromInstanceProfile", ("Remove",)),
        ("OpenIDConnectProvider", ("Create", "Delete", "Tag", "Untag")),
        ("OpenIDConnectProviderThumbprint", ("Update",)),
        ("ClientIDToOpenIDConnectProvider", ("Add",)),
        ("ClientIDFromOpenIDConnectProvider", ("Remove",)),
    )
    for verb in verbs
)
# Reads that hand out a credential (checkov CKV_AWS_107): no pipeline needs them.
CREDENTIAL_READS: tuple[str, ...] = ("ec2:GetPasswordData",)


def iam_statements(account_id: str, name_prefix: str) -> list[Statement]:
    """IAM on the roles, policies and instance profiles named ``<name_prefix>-*`` and the EKS
    clusters' IRSA providers; reads of everything; service-linked roles."""
    iam = f"arn:aws:iam::{account_id}"
    return [
        {
            "Sid": "ManageTheNamedIdentities",
            "Effect": "Allow",
            "Action": list(IAM_WRITES),
            "Resource": [
                f"{iam}:role/{name_prefix}-*",
                f"{iam}:policy/{name_prefix}-*",
                f"{iam}:instance-profile/{name_prefix}-*",
                # the EKS clusters' IRSA providers are named after their issuer
                f"{iam}:oidc-provider/oidc.eks.*.amazonaws.com/id/*",
            ],
        },
        {"Sid": "ReadIam", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"{iam}:role/aws-service-role/*",
        },
    ]


# Services without a region (or whose calls go to us-east-1): the region guard leaves them alone.
GLOBAL_SERVICES: tuple[str, ...] = ("iam", "sts", "route53", "support", "health")


def boundary_guards(
    project: str,
    account_id: str,
    regions: Sequence[str],
    *,
    oidc_hosts: Sequence[str],
    state_bucket: str | None,
    state_lock_table_arn: str | None,
    state_kms_key_arn: str | None,
) -> list[Statement]:
    """What no pipeline role may do, whatever its own policy says (the boundary's Deny statements).

    - no long-term credentials (IAM users, access keys, passwords);
    - the pipelines' own identities (roles, boundary, OIDC providers) are read-only to them:
      only an administrator applying the delivery stack changes them;
    - the state backend's bucket, lock table and key keep their configuration, and no state
      version is deleted;
    - nothing outside the configured regions.
    """
    iam = f"arn:aws:iam::{account_id}"
    guards: list[Statement] = [
        {"Sid": "NoCredentialReads", "Effect": "Deny", "Action": list(CREDENTIAL_READS), "Resource": "*"},
        {
            "Sid": "NoLongTermCredentials",
            "Effect": "Deny",
            "Action": [
                "iam:CreateUser",
                "iam:CreateAccessKey",
                "iam:CreateLoginProfile",
                "iam:UpdateLoginProfile",
                "iam:CreateServiceSpecificCredential",
                "iam:UploadSSHPublicKey",
                "iam:UploadSigningCertificate",
            ],
            "Resource": "*",
        },
        {
            "Sid": "PipelineIdentitiesAreReadOnly",
            "Effect": "Deny",
            "NotAction": ["iam:Get*", "iam:List*"],
            "Resource": [
                f"{iam}:role/{project}-pipeline-*",
                f"{iam}:role/{project}-*-pipeline-*",
                f"{iam}:policy/{project}-pipeline-boundary",
                *(f"{iam}:oidc-provider/{host}" for host in oidc_hosts),
            ],
        },
        {
            "Sid": "OnlyTheConfiguredRegions",
            "Effect": "Deny",
            "NotAction": [f"{service}:*" for service in GLOBAL_SERVICES],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(regions)}},
        },
    ]
    if state_bucket is not None:
        guards.append(
            {
                "Sid": "StateBucketKeepsItsConfiguration",
                "Effect": "Deny",
                "Action": [
                    "s3:DeleteBucket*",
                    "s3:PutBucket*",
                    "s3:PutLifecycleConfiguration",
                    "s3:PutEncryptionConfiguration",
                ],
                "Resource": f"arn:aws:s3:::{state_bucket}",
            }
        )
        guards.append(
            {
                "Sid": "StateHistoryIsKept",
                "Effect": "Deny",
                "Action": ["s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention"],
                "Resource": f"arn:aws:s3:::{state_bucket}/*",
            }
        )
    if state_lock_table_arn is not None:
        guards.append(
            {
                "Sid": "LockTableKeepsItsConfiguration",
                "Effect": "Deny",
                "Action": ["dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups"],
                "Resource": state_lock_table_arn,
            }
        )
    if state_kms_key_arn is not None:
        guards.append(
            {
                "Sid": "StateKeyKeepsItsConfiguration",
                "Effect": "Deny",
                "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant"],
                "Resource": state_kms_key_arn,
            }
        )
    return guards
