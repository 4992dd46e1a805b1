"""The base of every stack: its name, its backend and its AWS providers."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from constructs import Construct

from iworkz.app import StackContext
from iworkz.registry import STATE_STACK

if TYPE_CHECKING:  # the aws provider loads only in stacks that use it
    from stacks.aws_providers import AwsProviders

LOCAL_STATE_FILE = "terraform.state.tfstate"


class IworkzStack(TerraformStack):
    """A stack named ``<component>-<environment>`` whose state lives in the shared backend."""

    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context.name)
        self.context = context
        if context.component == STATE_STACK:
            # The state stack creates the bucket the others use: it keeps its own state
            # locally until it is migrated (README: bootstrapping the state backend).
            LocalBackend(self, path=LOCAL_STATE_FILE)
        else:
            use_shared_backend(self, context)

    @cached_property
    def aws(self) -> AwsProviders:
        from stacks.aws_providers import AwsProviders

        return AwsProviders(self, self.context)


def use_shared_backend(stack: TerraformStack, context: StackContext) -> None:
    """S3 (key ``<environment>/<component>.tfstate``) or Terraform Cloud, from config/common.yaml."""
    backend = context.common.backend
    if backend.type == "cloud":
        assert backend.cloud is not None
        CloudBackend(
            stack,
            organization=backend.cloud.organization,
            hostname=backend.cloud.hostname,
            workspaces=NamedCloudWorkspace(f"{backend.cloud.workspace_prefix}{context.name}"),
        )
        return
    s3 = backend.s3
    S3Backend(
        stack,
        bucket=s3.bucket,
        key=f"{context.environment_name}/{context.component}.tfstate",
        region=s3.region,
        encrypt=True,
        dynamodb_table=s3.lock_table,
    )
    if s3.use_lockfile:
        # cdktf 0.21 predates S3-native locking (Terraform >= 1.11); the DynamoDB table stays.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
