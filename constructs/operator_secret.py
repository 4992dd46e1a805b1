"""A Secrets Manager secret whose value the operators enter: Terraform creates it empty.

Nothing in code, plan or state ever holds the value (an API key of a third party, registry
credentials, webhook URLs); the workloads read it through External Secrets. Protected from
deletion: losing it loses what an operator entered.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

# Entered values must survive a mistaken delete for the longest window Secrets Manager offers.
RECOVERY_WINDOW_DAYS = 30


@dataclass(frozen=True)
class OperatorSecretProps:
    """Properties of :class:`OperatorSecret`.

    | name | meaning | default |
    |---|---|---|
    | name | secret name, e.g. ``iworkz-production/platform/openai-api-key`` | required |
    | holds | what the operators enter and in which form (becomes the description) | required |
    | kms_key_arn | customer-managed key encrypting it | required |
    """

    name: str
    holds: str
    kms_key_arn: str


class OperatorSecret(SecretsmanagerSecret):
    """``aws_secretsmanager_secret`` without a version: the operators write the value."""

    def __init__(self, scope: Construct, id: str, props: OperatorSecretProps) -> None:
        super().__init__(
            scope,
            id,
            name=props.name,
            description=f"{props.holds}; entered by the operators, never in code or state",
            kms_key_id=props.kms_key_arn,
            recovery_window_in_days=RECOVERY_WINDOW_DAYS,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
