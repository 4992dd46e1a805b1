"""AWS Config: a recorder of every resource type, its delivery channel and managed rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.config_config_rule import ConfigConfigRule, ConfigConfigRuleSource
from cdktf_cdktf_provider_aws.config_configuration_recorder import (
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
)
from cdktf_cdktf_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktf_cdktf_provider_aws.config_delivery_channel import (
    ConfigDeliveryChannel,
    ConfigDeliveryChannelSnapshotDeliveryProperties,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from iworkz.config.security import CONFIG_RULES
from iworkz_constructs.policy_document import PolicyDocument, service_trust

CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
# Where AWS Config writes in the bucket (its default key layout).
CONFIG_PREFIX = "config"


@dataclass(frozen=True)
class ConfigRecorderProps:
    """Properties of :class:`ConfigRecorder`.

    | name | meaning | default |
    |---|---|---|
    | name | name of the recorder, channel and role | required |
    | account_id / region | the owning account (token) and the recorder's region | required |
    | bucket_name / bucket_arn | the bucket of the configuration history and snapshots | required |
    | kms_key_arn | the bucket's customer-managed key | required |
    | rules | AWS Config managed rules (source identifiers) | required |
    """

    name: str
    account_id: str
    region: str
    bucket_name: str
    bucket_arn: str
    kms_key_arn: str
    rules: Sequence[str]

    def __post_init__(self) -> None:
        unknown = [rule for rule in self.rules if rule not in CONFIG_RULES]
        if unknown:
            raise ValueError(f"AWS Config {self.name}: unknown managed rules {unknown}")


class ConfigRecorder(Construct):
    """Records every supported resource type (global ones included) and evaluates the rules."""

    def __init__(self, scope: Construct, id: str, props: ConfigRecorderProps) -> None:
        super().__init__(scope, id)
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-config",
            description="AWS Config: records the account's resources into the audit bucket",
            assume_role_policy=PolicyDocument(
                self,
                "trust-policy",
                [
                    service_trust(
                        "config.amazonaws.com", condition={"StringEquals": {"aws:SourceAccount": props.account_id}}
                    )
                ],
            ).json,
        )
        IamRolePolicyAttachment(self, "role-policy", role=role.name, policy_arn=CONFIG_ROLE_POLICY)
        IamRolePolicy(
            self,
            "delivery-policy",
            role=role.id,
            name="deliver",
            policy=PolicyDocument(
                self,
                "delivery-policy-document",
                [
                    {
                        "Sid": "CheckBucket",
                        "Effect": "Allow",
                        "Action": "s3:GetBucketAcl",
                        "Resource": props.bucket_arn,
                    },
                    {
                        "Sid": "WriteHistory",
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"{props.bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{props.account_id}/*",
                    },
                    {
                        "Sid": "EncryptHistory",
                        "Effect": "Allow",
                        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                        "Resource": props.kms_key_arn,
                        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{props.region}.amazonaws.com"}},
                    },
                ],
            ).json,
        )
        recorder = ConfigConfigurationRecorder(
            self,
            "recorder",
            name=props.name,
            role_arn=role.arn,
            recording_group=ConfigConfigurationRecorderRecordingGroup(
                all_supported=True, include_global_resource_types=True
            ),
        )
        channel = ConfigDeliveryChannel(
            self,
            "delivery-channel",
            name=props.name,
            s3_bucket_name=props.bucket_name,
            s3_key_prefix=CONFIG_PREFIX,
            s3_kms_key_arn=props.kms_key_arn,
            snapshot_delivery_properties=ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency="TwentyFour_Hours"
            ),
            depends_on=[recorder],
        )
        status = ConfigConfigurationRecorderStatus(
            self, "recorder-status", name=recorder.name, is_enabled=True, depends_on=[channel]
        )
        for rule in props.rules:
            ConfigConfigRule(
                self,
                f"rule-{rule.lower().replace('_', '-')}",
                name=rule.lower().replace("_", "-"),
                description=f"AWS managed rule {rule}",
                source=ConfigConfigRuleSource(owner="AWS", source_identifier=rule),
                depends_on=[status],
            )
