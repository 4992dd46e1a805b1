"""The DynamoDB table Terraform's S3 backend locks state with (``LockID``), protected from loss."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from constructs import Construct


class StateLockTable(DynamodbTable):
    """On-demand, KMS-encrypted with the state's key, point-in-time recovery, deletion protection."""

    def __init__(self, scope: Construct, id: str, *, name: str, kms_key_arn: str) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=kms_key_arn),
            deletion_protection_enabled=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
