"""Bedrock model invocation logging: every prompt and response of the account's Region to S3 and CloudWatch.

The logging configuration is one per account and Region, whoever calls: exactly one
environment owns it (``ai.bedrock.invocation_logging``). The logs hold what callers sent, so
the bucket and the log group are encrypted with the caller's customer-managed key, kept for a
set period and protected from deletion; Bedrock writes to the bucket as a service (bucket and
key policy, confined to this account's Bedrock) and to the log group through a role only it
may assume.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.bedrock_model_invocation_logging_configuration import (
    BedrockModelInvocationLoggingConfiguration,
    BedrockModelInvocationLoggingConfigurationLoggingConfig,
    BedrockModelInvocationLoggingConfigurationLoggingConfigCloudwatchConfig,
    BedrockModelInvocationLoggingConfigurationLoggingConfigCloudwatchConfigLargeDataDeliveryS3Config,
    BedrockModelInvocationLoggingConfigurationLoggingConfigS3Config,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from iworkz.policy import suppress
from iworkz.policy.rules import BACKUP_COVERAGE, BUCKET_REPLICATION
from iworkz_constructs.log_group import LogGroup, LogGroupProps
from iworkz_constructs.policy_document import PolicyDocument, service_trust
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps

BEDROCK = "bedrock.amazonaws.com"
S3_PREFIX = "invocations"
LARGE_DATA_PREFIX = "large-payloads"  # payloads over 100 KB that CloudWatch cannot hold


@dataclass(frozen=True)
class BedrockInvocationLoggingProps:
    """Properties of :class:`BedrockInvocationLogging`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix, e.g. ``iworkz-production`` | required |
    | region / account_id | the Region logged and the account (caller identity token) | required |
    | bucket_name | the log bucket to create | required |
    | kms_key_arn | key of bucket and log group; its policy lets ``bedrock.amazonaws.com`` and ``logs.<region>`` use it | required |
    | access_log_bucket | bucket receiving the log bucket's server access logs | required |
    | retention_days | days the logs are kept, in S3 and CloudWatch (a CloudWatch period) | 365 |
    """

    name: str
    region: str
    account_id: str
    bucket_name: str
    kms_key_arn: str
    access_log_bucket: str
    retention_days: int = 365


class BedrockInvocationLogging(Construct):
    """Attributes: ``bucket`` (:class:`SecureBucket`), ``log_group`` (:class:`LogGroup`), ``configuration``."""

    def __init__(self, scope: Construct, id: str, props: BedrockInvocationLoggingProps) -> None:
        super().__init__(scope, id)
        source = {
            "StringEquals": {"aws:SourceAccount": props.account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{props.region}:{props.account_id}:*"},
        }
        self.bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=props.kms_key_arn,
                access_log_bucket=props.access_log_bucket,
                expiration_days=props.retention_days,
                noncurrent_version_expiration_days=30,
                extra_policy_statements=(
                    {
                        "Sid": "BedrockDeliversInvocationLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": BEDROCK},
                        "Action": "s3:PutObject",
                        "Resource": [
                            f"arn:aws:s3:::{props.bucket_name}/{prefix}/*" for prefix in (S3_PREFIX, LARGE_DATA_PREFIX)
                        ],
                        "Condition": source,
                    },
                ),
            ),
        )
        for rule in (BACKUP_COVERAGE, BUCKET_REPLICATION):
            suppress(
                self.bucket.bucket,
                rule,
                "prompts and responses hold personal data kept only retention_days; the account's replicated "
                "audit trail records every Bedrock call: a backup or a replica would outlive that retention",
            )
        self.log_group = LogGroup(
            self,
            "log-group",
            LogGroupProps(
                name=f"/aws/bedrock/{props.name}/model-invocations",
                kms_key_arn=props.kms_key_arn,
                retention_days=props.retention_days,
            ),
        )
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-bedrock-invocation-logging",
            description=f"Bedrock writes the model invocation logs of {props.region} to {self.log_group.name}",
            assume_role_policy=PolicyDocument(self, "trust-policy", [service_trust(BEDROCK, condition=source)]).json,
        )
        policy = IamRolePolicy(
            self,
            "role-policy",
            name="write-invocation-logs",
            role=role.id,
            policy=PolicyDocument(
                self,
                "role-policy-document",
                [
                    {
                        "Sid": "WriteInvocationLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{self.log_group.arn}:log-stream:*",
                    }
                ],
            ).json,
        )
        self.configuration = BedrockModelInvocationLoggingConfiguration(
            self,
            "configuration",
            logging_config=[
                BedrockModelInvocationLoggingConfigurationLoggingConfig(
                    text_data_delivery_enabled=True,
                    # The platform sends text only; embedding vectors would only fill the logs.
                    embedding_data_delivery_enabled=False,
                    image_data_delivery_enabled=False,
                    video_data_delivery_enabled=False,
                    s3_config=[
                        BedrockModelInvocationLoggingConfigurationLoggingConfigS3Config(
                            bucket_name=self.bucket.name, key_prefix=S3_PREFIX
                        )
                    ],
                    cloudwatch_config=[
                        BedrockModelInvocationLoggingConfigurationLoggingConfigCloudwatchConfig(
                            log_group_name=self.log_group.name,
                            role_arn=role.arn,
                            large_data_delivery_s3_config=[
                                BedrockModelInvocationLoggingConfigurationLoggingConfigCloudwatchConfigLargeDataDeliveryS3Config(
                                    bucket_name=self.bucket.name, key_prefix=LARGE_DATA_PREFIX
                                )
                            ],
                        )
                    ],
                )
            ],
            depends_on=[self.bucket.bucket_policy, policy],
        )
