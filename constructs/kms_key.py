"""A customer-managed KMS key with rotation, an alias and a least-privilege key policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as KmsKeyResource
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.policy_document import PolicyDocument

KEY_USAGE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)


@dataclass(frozen=True)
class KmsKeyProps:
    """Properties of :class:`KmsKey`.

    | name | meaning | default |
    |---|---|---|
    | alias | alias without the ``alias/`` prefix, e.g. ``iworkz-production-rds`` | required |
    | description | what the key protects | required |
    | account_id | the owning account (token from the caller identity) | required |
    | service_principals | AWS services that use the key directly (e.g. ``logs.<region>.amazonaws.com``) | none |
    | via_services | services through which the account's principals use the key (``kms:ViaService``, e.g. ``rds.<region>.amazonaws.com``) | none |
    | extra_statements | further key-policy statements (e.g. a service-linked role) | none |
    | deletion_window_in_days | waiting period before deletion | 30 (the maximum) |
    | prevent_destroy | refuse to destroy the key in Terraform | True |
    | provider | provider (region) of the key | the stack's default |
    """

    alias: str
    description: str
    account_id: str
    service_principals: Sequence[str] = ()
    via_services: Sequence[str] = ()
    extra_statements: Sequence[dict[str, Any]] = field(default_factory=tuple)
    deletion_window_in_days: int = 30
    prevent_destroy: bool = True
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not 7 <= self.deletion_window_in_days <= 30:
            raise ValueError(f"deletion_window_in_days must be 7-30, got {self.deletion_window_in_days}")
        if self.alias.startswith("alias/"):
            raise ValueError(f"alias {self.alias!r}: give it without the 'alias/' prefix")


class KmsKey(Construct):
    """Customer-managed key, rotation on; the account administers it, named services use it.

    Attributes: ``key`` (the resource), ``policy`` (its :class:`PolicyDocument`), ``arn``, ``key_id``,
    ``alias_name``.
    """

    def __init__(self, scope: Construct, id: str, props: KmsKeyProps) -> None:
        super().__init__(scope, id)
        self.policy = PolicyDocument(self, "policy", key_policy(props), provider=props.provider)
        self.key = KmsKeyResource(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_in_days,
            policy=self.policy.json,
            provider=props.provider,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        self.alias_name = f"alias/{props.alias}"
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        KmsAlias(
            self,
            "alias",
            name=self.alias_name,
            target_key_id=self.key_id,
            provider=props.provider,
        )


def regional_services(region: str, *services: str) -> tuple[str, ...]:
    """Service principals in one Region, e.g. ``("s3.ap-northeast-1.amazonaws.com",)`` (``kms:ViaService``)."""
    return tuple(f"{service}.{region}.amazonaws.com" for service in services)


@dataclass(frozen=True)
class KeyPurpose:
    """What one of a stack's keys protects and which services use it (see :class:`KmsKeyProps`)."""

    description: str
    service_principals: Sequence[str] = ()
    via_services: Sequence[str] = ()


def purpose_keys(
    scope: Construct, prefix: str, account_id: str, purposes: Mapping[str, KeyPurpose]
) -> dict[str, KmsKey]:
    """One key per purpose: construct ``<purpose>-key``, alias ``<prefix>-<purpose>``."""
    return {
        purpose: KmsKey(
            scope,
            f"{purpose}-key",
            KmsKeyProps(
                alias=f"{prefix}-{purpose}",
                description=f"{prefix}: {spec.description}",
                account_id=account_id,
                service_principals=tuple(spec.service_principals),
                via_services=tuple(spec.via_services),
            ),
        )
        for purpose, spec in purposes.items()
    }


def key_policy(props: KmsKeyProps) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    for principal in sorted(props.service_principals):
        statements.append(
            {
                "Sid": f"ServiceUses{principal.split('.')[0].title().replace('-', '')}",
                "Effect": "Allow",
                "Principal": {"Service": principal},
                "Action": list(KEY_USAGE_ACTIONS),
                "Resource": "*",
                "Condition": _service_condition(principal, props.account_id),
            }
        )
    if props.via_services:
        # Services such as RDS, ElastiCache, OpenSearch, S3 and Secrets Manager act with the
        # caller's identity: principals of this account may use the key only through them.
        via = {"kms:ViaService": sorted(props.via_services), "kms:CallerAccount": props.account_id}
        statements.append(
            {
                "Sid": "AccountUsesThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
                "Action": list(KEY_USAGE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": via},
            }
        )
        statements.append(
            {
                "Sid": "ServicesCreateGrants",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {"StringEquals": via, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        )
    statements.extend(props.extra_statements)
    return statements


def _service_condition(principal: str, account_id: str) -> dict[str, Any]:
    """Confines a service's use of the key to this account (CloudWatch Logs by log-group ARN)."""
    if principal.startswith("logs."):
        region = principal.split(".")[1]
        return {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:*"}}
    return {"StringEquals": {"aws:SourceAccount": account_id}}
