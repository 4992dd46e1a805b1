"""`delivery`: the identities the pipelines assume and, with Terraform Cloud, its workspaces.

Once per account, applied by an administrator after ``state`` (README: Deploying): the
pipelines never change their own identities.

- AWS: the IAM OIDC provider of the GitLab instance; a plan role that this project's pipelines
  on any branch (merge requests) may assume, read-only with state read and lock; a deploy role
  per environment that only the default branch may assume (production's jobs run in the
  protected ``production`` environment, whose scoped variable holds its ARN); all capped by one
  permissions boundary.
- Entra ID: the same split as applications with federated credentials; the DR stack assigns
  them their roles on its resource group (it owns that scope and creates it).
- Terraform Cloud (``backend.type: cloud``): a workspace per stack, run triggers and state
  sharing from the registry's dependency graph, dynamic credentials for the roles above.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cdktf_cdktf_provider_azuread.data_azuread_client_config import DataAzureadClientConfig
from cdktf_cdktf_provider_azuread.provider import AzureadProvider

from iworkz.backend import STATE_STACK, state_key, workspace_name
from iworkz.config import Settings
from iworkz.contracts import DeliveryOutputs, StateOutputs
from iworkz.registry import PlannedStack, every_stack
from iworkz_constructs.entra_pipeline_app import EntraPipelineApp, EntraPipelineAppProps, Federation
from iworkz_constructs.pipeline_permissions import (
    ACCOUNT_SERVICES,
    ENVIRONMENT_SERVICES,
    NAMED_BY_ENVIRONMENT,
    boundary_guards,
    bucket_statements,
    configuration_reads,
    function_statements,
    iam_statements,
    manage_statements,
    read_only_statements,
    secret_statements,
)
from iworkz_constructs.pipeline_role import (
    TFC_AWS_AUDIENCE,
    FederatedIssuer,
    FederatedIssuerProps,
    FederatedSubjects,
    PipelineBoundary,
    PipelineBoundaryProps,
    PipelineRole,
    PipelineRoleProps,
    gitlab_subject,
    terraform_cloud_subject,
)
from stacks.base import IworkzStack


class DeliveryStack(IworkzStack):
    def build(self, state: StateOutputs | None = None) -> DeliveryOutputs:
        context = self.context
        common = context.common
        gitlab = common.delivery.gitlab
        # The stacks of every configured environment: the same roles whichever ENVS are selected.
        account = dataclasses.replace(context.settings, environments=context.settings.every_environment)
        stacks = [stack for stack in every_stack(account) if stack.spec.component != STATE_STACK]
        environments = sorted(account.environments)
        account_id = self.aws.account_id
        cloud = common.backend.cloud if common.backend.type == "cloud" else None
        remote_runs = cloud is not None and common.delivery.terraform_cloud.execution_mode == "remote"

        gitlab_issuer = FederatedIssuer(
            self, "gitlab-oidc", FederatedIssuerProps(gitlab.issuer, (gitlab.aws_audience,))
        )
        tfc_issuer = (
            FederatedIssuer(
                self, "terraform-cloud-oidc", FederatedIssuerProps(f"https://{cloud.hostname}", (TFC_AWS_AUDIENCE,))
            )
            if cloud is not None and remote_runs
            else None
        )
        regions = {common.backend.s3.region} | {
            region for env in account.environments.values() for region in (env.aws.region, env.aws.backup_region)
        }
        boundary = PipelineBoundary(
            self,
            "boundary",
            PipelineBoundaryProps(
                policy_name=f"{common.project}-pipeline-boundary",
                services=tuple(sorted(set(ENVIRONMENT_SERVICES) - NAMED_BY_ENVIRONMENT)),
                # IAM, buckets and secrets only of the project (the guards keep the pipelines' own read-only);
                # the account-level stacks' services only to read (an administrator applies those stacks)
                scoped=[
                    configuration_reads(set(ACCOUNT_SERVICES) - set(ENVIRONMENT_SERVICES), "ReadTheAccountStacks"),
                    *iam_statements(account_id, common.project),
                    *bucket_statements(common.project),
                    *secret_statements(account_id, f"{common.project}-"),
                    *function_statements(account_id, common.project),
                ],
                guards=boundary_guards(
                    common.project,
                    account_id,
                    sorted(regions),
                    oidc_hosts=[gitlab_issuer.host, *([tfc_issuer.host] if tfc_issuer else [])],
                    state_bucket=state.state_bucket if state else None,
                    state_lock_table_arn=state.lock_table_arn(account_id) if state else None,
                    state_kms_key_arn=state.state_kms_key_arn if state else None,
                ),
            ),
        )
        plan = PipelineRole(
            self,
            "plan-role",
            PipelineRoleProps(
                role_name=f"{common.project}-pipeline-plan",
                description="Merge-request plans: read-only, state read and lock",
                trusts=(
                    gitlab_issuer.trust(
                        gitlab.aws_audience, subject_patterns=(gitlab_subject(gitlab.project_path, "*"),)
                    ),
                ),
                permissions_boundary_arn=boundary.arn,
                statements=read_only_statements(
                    (*ENVIRONMENT_SERVICES, *ACCOUNT_SERVICES), state.state_bucket if state else None
                ),
            ),
        )
        if state is not None:
            state.grant_state_access(plan, account_id, read=_keys(account, stacks))
        deploy: dict[str, PipelineRole] = {}
        for environment in environments:
            own = [stack for stack in stacks if stack.environment == environment]
            trusts: list[FederatedSubjects] = [
                gitlab_issuer.trust(
                    gitlab.aws_audience, subjects=(gitlab_subject(gitlab.project_path, gitlab.default_branch),)
                )
            ]
            if tfc_issuer is not None and cloud is not None:
                trusts.append(
                    tfc_issuer.trust(
                        TFC_AWS_AUDIENCE,
                        subject_patterns=tuple(
                            terraform_cloud_subject(
                                cloud.organization,
                                common.delivery.terraform_cloud.project,
                                workspace_name(stack.context(account)),
                                "*",
                            )
                            for stack in own
                        ),
                    )
                )
            deploy[environment] = PipelineRole(
                self,
                f"deploy-role-{environment}",
                PipelineRoleProps(
                    role_name=f"{common.project}-{environment}-pipeline-deploy",
                    description=f"Deploys of {environment} from the default branch",
                    trusts=tuple(trusts),
                    permissions_boundary_arn=boundary.arn,
                    statements=manage_statements(
                        ENVIRONMENT_SERVICES, account_id=account_id, name_prefix=f"{common.project}-{environment}"
                    ),
                ),
            )
            if state is not None:
                producers = [producer for stack in own for producer in stack.producers(account)]
                state.grant_state_access(
                    deploy[environment], account_id, read=_keys(account, producers), write=_keys(account, own)
                )

        AzureadProvider(self, "azuread")
        tenant_id = DataAzureadClientConfig(self, "azuread-client").tenant_id
        plan_app = EntraPipelineApp(
            self,
            "azure-plan",
            EntraPipelineAppProps(
                display_name=f"{common.project}-pipeline-plan",
                description="Merge-request plans of the DR site (Reader)",
                federations=(
                    Federation(
                        "gitlab-branches",
                        gitlab.issuer,
                        gitlab_subject(gitlab.project_path, "*"),
                        gitlab.azure_audience,
                    ),
                ),
            ),
        )
        deploy_apps: dict[str, EntraPipelineApp] = {}
        for environment in environments:
            if not account.environments[environment].dr_azure.enabled:
                continue
            federations = [
                Federation(
                    "gitlab-default-branch",
                    gitlab.issuer,
                    gitlab_subject(gitlab.project_path, gitlab.default_branch),
                    gitlab.azure_audience,
                )
            ]
            if remote_runs and cloud is not None:
                dr_stack = next(s for s in stacks if s.environment == environment and s.spec.component == "dr-azure")
                federations += [
                    Federation(
                        f"terraform-cloud-{phase}",
                        f"https://{cloud.hostname}",
                        terraform_cloud_subject(
                            cloud.organization,
                            common.delivery.terraform_cloud.project,
                            workspace_name(dr_stack.context(account)),
                            phase,
                        ),
                    )
                    for phase in ("plan", "apply")
                ]
            deploy_apps[environment] = EntraPipelineApp(
                self,
                f"azure-deploy-{environment}",
                EntraPipelineAppProps(
                    display_name=f"{common.project}-{environment}-pipeline-deploy",
                    description=f"Deploys of the {environment} DR site from the default branch",
                    federations=tuple(federations),
                ),
            )

        if cloud is not None:
            # imported here: the tfe provider loads only where Terraform Cloud keeps the state
            from stacks.delivery_workspaces import terraform_cloud_workspaces

            terraform_cloud_workspaces(self, account, stacks, deploy, deploy_apps, tenant_id)

        return DeliveryOutputs(
            gitlab_oidc_provider_arn=gitlab_issuer.arn,
            aws_plan_role_arn=plan.arn,
            aws_deploy_role_arns={environment: role.arn for environment, role in deploy.items()},
            azure_tenant_id=tenant_id,
            azure_plan_client_id=plan_app.client_id,
            azure_plan_principal_id=plan_app.principal_id,
            azure_deploy_client_ids={environment: app.client_id for environment, app in deploy_apps.items()},
            azure_deploy_principal_ids={environment: app.principal_id for environment, app in deploy_apps.items()},
        )


def _keys(account: Settings, stacks: Sequence[PlannedStack]) -> list[str]:
    return sorted({state_key(stack.context(account)) for stack in stacks})
