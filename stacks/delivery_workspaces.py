"""The delivery stack's Terraform Cloud project: a workspace per stack of the account, wired
from the registry (run triggers and state sharing from its dependency graph) and the deploy
identities the environments' runs assume (dynamic credentials)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_tfe.provider import TfeProvider

from iworkz.backend import TERRAFORM_VERSION, workspace_name
from iworkz.config import Settings
from iworkz.registry import PlannedStack
from iworkz_constructs.entra_pipeline_app import EntraPipelineApp
from iworkz_constructs.pipeline_role import PipelineRole
from iworkz_constructs.terraform_cloud import (
    AzureRunIdentity,
    TerraformCloudProject,
    TerraformCloudProjectProps,
    WorkspaceSpec,
    dynamic_credentials,
)
from stacks.base import IworkzStack


def terraform_cloud_workspaces(
    stack: IworkzStack,
    account: Settings,
    stacks: Sequence[PlannedStack],
    deploy: Mapping[str, PipelineRole],
    deploy_apps: Mapping[str, EntraPipelineApp],
    tenant_id: str,
) -> None:
    """A workspace per stack of ``stacks`` in ``stack`` (the delivery stack); the environments'
    runs assume their deploy identities."""
    common = stack.context.common
    cloud = common.backend.cloud
    assert cloud is not None
    settings = common.delivery.terraform_cloud
    # The token: TFE_TOKEN, or the CLI credentials `cdktf login` / `terraform login` wrote.
    TfeProvider(stack, "tfe", hostname=cloud.hostname, organization=cloud.organization)
    remote = settings.execution_mode == "remote"
    variable_sets = (
        [
            dynamic_credentials(
                f"{common.project}-{environment}",
                environment,
                aws_role_arn=role.arn,
                azure=AzureRunIdentity(
                    deploy_apps[environment].client_id,
                    tenant_id,
                    account.environments[environment].dr_azure.subscription_id,
                )
                if environment in deploy_apps
                else None,
            )
            for environment, role in deploy.items()
        ]
        if remote
        else []
    )
    TerraformCloudProject(
        stack,
        "terraform-cloud",
        TerraformCloudProjectProps(
            organization=cloud.organization,
            project=settings.project,
            terraform_version=TERRAFORM_VERSION,
            notify_members=tuple(settings.notify_members),
            variable_sets=tuple(variable_sets),
            workspaces=tuple(
                WorkspaceSpec(
                    name=workspace_name(planned.context(account)),
                    stack=planned.name,
                    # The account's stacks are applied by an administrator from their machine.
                    execution_mode=settings.execution_mode if planned.environment else "local",
                    producers=tuple(workspace_name(p.context(account)) for p in planned.producers(account)),
                    variable_set=f"{common.project}-{planned.environment}" if remote and planned.environment else None,
                    managed=planned.name != stack.context.name,
                )
                for planned in stacks
            ),
        ),
    )
