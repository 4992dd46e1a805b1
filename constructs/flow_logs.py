"""VPC flow logs to an encrypted CloudWatch log group, written through a least-privilege role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from iworkz.config.network import CLOUDWATCH_RETENTION_DAYS, MIN_FLOW_LOG_RETENTION_DAYS
from iworkz_constructs.kms_key import KmsKey, KmsKeyProps
from iworkz_constructs.policy_document import PolicyDocument

MIN_RETENTION_DAYS = MIN_FLOW_LOG_RETENTION_DAYS
TRAFFIC_TYPES = ("ALL", "ACCEPT", "REJECT")
AGGREGATION_INTERVALS = (60, 600)


@dataclass(frozen=True)
class FlowLogsProps:
    """Properties of :class:`FlowLogs`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix, e.g. ``iworkz-production``; the log group is ``/aws/vpc-flow-logs/<name>`` | required |
    | vpc_id | the VPC whose traffic is logged | required |
    | account_id | the owning account (token from the caller identity) | required |
    | region | region of the VPC and the log group | required |
    | retention_days | how long the log group keeps records (a CloudWatch value, at least 365) | 365 |
    | traffic_type | ``ALL``, ``ACCEPT`` or ``REJECT`` | ``ALL`` |
    | max_aggregation_interval | seconds per flow record window (60 or 600) | 60 |
    | kms_key_arn | an existing customer-managed key for the log group | a new key for CloudWatch Logs |
    | prevent_destroy | refuse to destroy the log group (and a created key) in Terraform | True |
    """

    name: str
    vpc_id: str
    account_id: str
    region: str
    retention_days: int = MIN_RETENTION_DAYS
    traffic_type: str = "ALL"
    max_aggregation_interval: int = 60
    kms_key_arn: str | None = None
    prevent_destroy: bool = True

    def __post_init__(self) -> None:
        if self.retention_days not in CLOUDWATCH_RETENTION_DAYS or self.retention_days < MIN_RETENTION_DAYS:
            allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= MIN_RETENTION_DAYS]
            raise ValueError(f"retention_days must be one of {allowed}, got {self.retention_days}")
        if self.traffic_type not in TRAFFIC_TYPES:
            raise ValueError(f"traffic_type must be one of {TRAFFIC_TYPES}, got {self.traffic_type!r}")
        if self.max_aggregation_interval not in AGGREGATION_INTERVALS:
            raise ValueError(
                f"max_aggregation_interval must be one of {AGGREGATION_INTERVALS}, got {self.max_aggregation_interval}"
            )
        if not self.name:
            raise ValueError("name must not be empty")


class FlowLogs(Construct):
    """A VPC flow log into a KMS-encrypted log group kept at least a year.

    The role trusts only this account's flow logs and may only write to its log group.
    Attributes: ``flow_log_id``, ``log_group_name``, ``log_group_arn``, ``kms_key_arn``,
    ``role_arn``, ``key`` (the created :class:`KmsKey`, or None when one was given).
    """

    def __init__(self, scope: Construct, id: str, props: FlowLogsProps) -> None:
        super().__init__(scope, id)
        lifecycle = TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy)
        self.key: KmsKey | None = None
        if props.kms_key_arn is None:
            self.key = KmsKey(
                self,
                "key",
                KmsKeyProps(
                    alias=f"{props.name}-vpc-flow-logs",
                    description=f"VPC flow logs of {props.name}",
                    account_id=props.account_id,
                    service_principals=(f"logs.{props.region}.amazonaws.com",),
                    prevent_destroy=props.prevent_destroy,
                ),
            )
            self.kms_key_arn: str = self.key.arn
        else:
            self.kms_key_arn = props.kms_key_arn
        group = CloudwatchLogGroup(
            self,
            "log-group",
            name=f"/aws/vpc-flow-logs/{props.name}",
            retention_in_days=props.retention_days,
            kms_key_id=self.kms_key_arn,
            lifecycle=lifecycle,
        )
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-vpc-flow-logs",
            description=f"Delivers the VPC flow logs of {props.name} to CloudWatch Logs",
            assume_role_policy=PolicyDocument(self, "trust-policy", trust_policy(props.account_id, props.region)).json,
        )
        IamRolePolicy(
            self,
            "role-policy",
            name="write-flow-logs",
            role=role.id,
            policy=PolicyDocument(self, "write-policy", write_policy(group.arn, props.account_id, props.region)).json,
        )
        flow_log = FlowLog(
            self,
            "flow-log",
            vpc_id=props.vpc_id,
            traffic_type=props.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=props.max_aggregation_interval,
            tags={"Name": f"{props.name}-vpc-flow-logs"},
        )
        self.flow_log_id = flow_log.id
        self.log_group_name = group.name
        self.log_group_arn = group.arn
        self.role_arn = role.arn


def trust_policy(account_id: str, region: str) -> list[dict[str, Any]]:
    """Only this account's VPC flow logs (confused-deputy guard) may assume the role."""
    return [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"},
            },
        }
    ]


def write_policy(log_group_arn: str, account_id: str, region: str) -> list[dict[str, Any]]:
    """Writing streams of the one log group; DescribeLogGroups cannot be narrowed below the account."""
    return [
        {
            "Sid": "WriteFlowLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
        {
            "Sid": "FindLogGroup",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:*",
        },
    ]
