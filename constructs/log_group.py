"""A CloudWatch log group that keeps what it holds: a customer-managed key, a retention period, prevent_destroy."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz.config.network import CLOUDWATCH_RETENTION_DAYS


@dataclass(frozen=True)
class LogGroupProps:
    """Properties of :class:`LogGroup`.

    | name | meaning | default |
    |---|---|---|
    | name | log group name, e.g. ``/aws/sagemaker/Endpoints/<endpoint>`` | required |
    | kms_key_arn | customer-managed key; its policy must let ``logs.<region>.amazonaws.com`` use it | required |
    | retention_days | days the group keeps events (a period CloudWatch Logs accepts) | 365 |
    | prevent_destroy | refuse to destroy the group (and its logs) in Terraform | True |
    | provider | provider (region) of the group | the stack's default |
    """

    name: str
    kms_key_arn: str
    retention_days: int = 365
    prevent_destroy: bool = True
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if self.retention_days not in CLOUDWATCH_RETENTION_DAYS:
            raise ValueError(f"log group {self.name}: retention_days must be one of {CLOUDWATCH_RETENTION_DAYS}")
        if not self.name.startswith("/") or len(self.name) > 512:
            raise ValueError(f"log group {self.name!r}: give a path-like name (/aws/<service>/...) of at most 512")


class LogGroup(Construct):
    """Attributes: ``group`` (the resource), ``name``, ``arn``."""

    def __init__(self, scope: Construct, id: str, props: LogGroupProps) -> None:
        super().__init__(scope, id)
        self.group = CloudwatchLogGroup(
            self,
            "group",
            name=props.name,
            retention_in_days=props.retention_days,
            kms_key_id=props.kms_key_arn,
            provider=props.provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.name = props.name
        self.arn = self.group.arn
