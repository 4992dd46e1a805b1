"""AWS providers of a stack: the primary region and, on demand, the backup region."""

from __future__ import annotations

from functools import cached_property

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

from iworkz.context import StackContext

BACKUP_ALIAS = "backup"


def default_tags(context: StackContext) -> dict[str, str]:
    """Seed 12.4 default tags: Project, Environment, ManagedBy, Owner (+ the environment's own)."""
    environment = context.environment_name or "shared"
    extra = context.env.tags if context.environment_name else {}
    return {**context.common.tags, "Environment": environment, **extra}


class AwsProviders:
    """The stack's AWS providers and account facts, each created once when first used."""

    def __init__(self, stack: TerraformStack, context: StackContext) -> None:
        self._stack = stack
        self._context = context
        region = context.env.aws.region if context.environment_name else context.common.backend.s3.region
        self.region = region
        self.primary = AwsProvider(
            stack,
            "aws",
            region=region,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(context))],
        )

    @cached_property
    def backup(self) -> AwsProvider:
        """Provider alias for cross-region copies (ap-northeast-3 for Tokyo)."""
        return AwsProvider(
            self._stack,
            "aws_backup",
            alias=BACKUP_ALIAS,
            region=self.backup_region,
            default_tags=[AwsProviderDefaultTags(tags=default_tags(self._context))],
        )

    @property
    def backup_region(self) -> str:
        context = self._context
        return context.env.aws.backup_region if context.environment_name else context.common.backup_region

    @cached_property
    def account_id(self) -> str:
        return DataAwsCallerIdentity(self._stack, "current").account_id
