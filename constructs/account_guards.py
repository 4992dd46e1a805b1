"""Account-wide guards: S3 public access block, EBS encryption by default, the IAM password
policy and an IAM Access Analyzer of the account."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.accessanalyzer_analyzer import AccessanalyzerAnalyzer
from cdktf_cdktf_provider_aws.ebs_encryption_by_default import EbsEncryptionByDefault
from cdktf_cdktf_provider_aws.iam_account_password_policy import IamAccountPasswordPolicy
from cdktf_cdktf_provider_aws.s3_account_public_access_block import S3AccountPublicAccessBlock
from constructs import Construct

# CIS AWS Foundations Benchmark 3.0.0, 1.8 (length) and 1.9 (reuse).
MIN_PASSWORD_LENGTH = 14
PASSWORD_REUSE_PREVENTION = 24


@dataclass(frozen=True)
class AccountGuardsProps:
    """Properties of :class:`AccountGuards`.

    | name | meaning | default |
    |---|---|---|
    | name | name of the access analyzer | required |
    | minimum_password_length | IAM users' passwords, at least 14 characters | 14 |
    | password_reuse_prevention | passwords remembered, 24 | 24 |
    | max_password_age_days | days before a password must change | 90 |
    """

    name: str
    minimum_password_length: int = MIN_PASSWORD_LENGTH
    password_reuse_prevention: int = PASSWORD_REUSE_PREVENTION
    max_password_age_days: int = 90

    def __post_init__(self) -> None:
        if self.minimum_password_length < MIN_PASSWORD_LENGTH:
            raise ValueError(f"password policy: at least {MIN_PASSWORD_LENGTH} characters")
        if self.password_reuse_prevention < PASSWORD_REUSE_PREVENTION:
            raise ValueError(f"password policy: remember {PASSWORD_REUSE_PREVENTION} passwords")


class AccountGuards(Construct):
    """Attributes: ``analyzer_arn``."""

    def __init__(self, scope: Construct, id: str, props: AccountGuardsProps) -> None:
        super().__init__(scope, id)
        S3AccountPublicAccessBlock(
            self,
            "s3-public-access-block",
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        EbsEncryptionByDefault(self, "ebs-encryption-by-default", enabled=True)
        IamAccountPasswordPolicy(
            self,
            "password-policy",
            minimum_password_length=props.minimum_password_length,
            require_lowercase_characters=True,
            require_uppercase_characters=True,
            require_numbers=True,
            require_symbols=True,
            allow_users_to_change_password=True,
            password_reuse_prevention=props.password_reuse_prevention,
            max_password_age=props.max_password_age_days,
        )
        self.analyzer_arn = AccessanalyzerAnalyzer(
            self, "access-analyzer", analyzer_name=props.name, type="ACCOUNT"
        ).arn
