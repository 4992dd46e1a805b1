"""Where each stack keeps its state, and how a stack reads the state of a stack it builds on.

Every stack but ``state`` uses the shared backend of ``config/common.yaml``: the state
stack's S3 bucket (key ``<environment>/<component>.tfstate``, DynamoDB lock table and
S3-native locking) or Terraform Cloud (one workspace per stack). The ``state`` stack creates
that bucket, so it starts with local state in ``state-bootstrap/`` (outside ``cdktf.out``:
no synth and no ``make clean`` touches it) and moves into its own bucket (key
``state.tfstate``) once ``backend.state_stack: s3`` is set (README: bootstrapping the state
backend).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iworkz.context import StackContext

if TYPE_CHECKING:
    from cdktf import TerraformRemoteState, TerraformStack
    from constructs import Construct

STATE_STACK = "state"
# Terraform of the plans and applies: the pipeline's jobs and the Terraform Cloud workspaces
# (>= 1.11 for S3-native locking, >= 1.10 for ephemeral values).
TERRAFORM_VERSION = "1.12.2"
# Relative to the state stack's working directory, cdktf.out/stacks/state: the checkout's root.
BOOTSTRAP_STATE_FILE = "../../../state-bootstrap/terraform.tfstate"


def state_key(context: StackContext) -> str:
    if context.environment_name is None:
        return f"{context.component}.tfstate"
    return f"{context.environment_name}/{context.component}.tfstate"


def workspace_name(context: StackContext) -> str:
    cloud = context.common.backend.cloud
    assert cloud is not None, "backend.type cloud is validated to have a cloud section"
    return f"{cloud.workspace_prefix}{context.name}"


def configure_backend(stack: TerraformStack, context: StackContext) -> None:
    """Gives ``stack`` its backend: local bootstrap state, the shared S3 bucket or Terraform Cloud."""
    from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend

    backend = context.common.backend
    if context.component == STATE_STACK:
        if backend.state_stack == "local":
            LocalBackend(stack, path=BOOTSTRAP_STATE_FILE)
            return
    elif backend.type == "cloud":
        assert backend.cloud is not None
        CloudBackend(
            stack,
            organization=backend.cloud.organization,
            hostname=backend.cloud.hostname,
            workspaces=NamedCloudWorkspace(workspace_name(context)),
        )
        return
    s3 = backend.s3
    S3Backend(
        stack,
        bucket=s3.bucket,
        key=state_key(context),
        region=s3.region,
        encrypt=True,
        dynamodb_table=s3.lock_table,
    )
    if s3.use_lockfile:
        # cdktf 0.21 predates S3-native locking (Terraform >= 1.11); the DynamoDB table stays.
        stack.add_override("terraform.backend.s3.use_lockfile", True)


def remote_state(scope: Construct, producer: StackContext) -> TerraformRemoteState:
    """A ``terraform_remote_state`` data source reading the outputs of ``producer``'s state."""
    from cdktf import (
        DataTerraformRemoteState,
        DataTerraformRemoteStateLocal,
        DataTerraformRemoteStateS3,
        NamedRemoteWorkspace,
    )

    backend = producer.common.backend
    if producer.component == STATE_STACK and backend.state_stack == "local":
        # Until it moves into its bucket, the state stack's state is the checkout's bootstrap file
        # (every stack folder is cdktf.out/stacks/<stack>: the same relative path).
        return DataTerraformRemoteStateLocal(scope, producer.name, path=BOOTSTRAP_STATE_FILE)
    if backend.type == "cloud":
        assert backend.cloud is not None
        return DataTerraformRemoteState(
            scope,
            producer.name,
            organization=backend.cloud.organization,
            hostname=backend.cloud.hostname,
            workspaces=NamedRemoteWorkspace(workspace_name(producer)),
        )
    s3 = backend.s3
    return DataTerraformRemoteStateS3(
        scope, producer.name, bucket=s3.bucket, key=state_key(producer), region=s3.region, encrypt=True
    )
