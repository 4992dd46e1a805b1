"""Terraform Cloud as code: a project, one workspace per stack, run triggers, state sharing, credentials.

- Each stack's workspace runs in ``cdktf.out/stacks/<stack>`` (CLI-driven: the pipeline uploads
  the synthesised tree), with its execution mode, no auto-apply and health assessments (drift
  detection) where Terraform Cloud executes the runs.
- Run triggers follow the stacks' dependencies: a producer's apply queues a run of each consumer.
- Remote state sharing is limited to the consumers: ``global_remote_state`` is off and only the
  workspaces that read a workspace's outputs may.
- Credentials are dynamic (workload identity): the variable sets name the roles and
  applications the runs assume (``TFC_AWS_RUN_ROLE_ARN``, ``TFC_AZURE_RUN_CLIENT_ID``, ...); no
  key, secret or token is ever a variable.
- Notifications go to organization members by e-mail (``email_user_ids``): no webhook URL,
  which Terraform Cloud would keep in this stack's state.

The workspace this stack itself runs in already exists (``terraform init`` created it): it is
looked up, and only its settings are managed (:attr:`WorkspaceSpec.managed` false).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_tfe.data_tfe_organization_membership import DataTfeOrganizationMembership
from cdktf_cdktf_provider_tfe.data_tfe_workspace import DataTfeWorkspace
from cdktf_cdktf_provider_tfe.notification_configuration import NotificationConfiguration
from cdktf_cdktf_provider_tfe.project import Project
from cdktf_cdktf_provider_tfe.run_trigger import RunTrigger
from cdktf_cdktf_provider_tfe.variable import Variable
from cdktf_cdktf_provider_tfe.variable_set import VariableSet
from cdktf_cdktf_provider_tfe.workspace import Workspace
from cdktf_cdktf_provider_tfe.workspace_settings import WorkspaceSettings
from cdktf_cdktf_provider_tfe.workspace_variable_set import WorkspaceVariableSet
from constructs import Construct

_WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,90}$")
# Variable names of credentials: never a workspace or variable-set variable (dynamic credentials only).
_CREDENTIAL_VARIABLES = re.compile(r"(SECRET|PASSWORD|ACCESS_KEY|_TOKEN$|^TFE_TOKEN|^TF_TOKEN_)")
NOTIFICATION_TRIGGERS = ("run:errored", "run:needs_attention", "assessment:drifted", "assessment:failed")


@dataclass(frozen=True)
class WorkspaceSpec:
    """One stack's workspace.

    | name | meaning | default |
    |---|---|---|
    | name | workspace name (``<prefix><stack>``) | required |
    | stack | the stack it runs (working directory ``cdktf.out/stacks/<stack>``) | required |
    | execution_mode | ``remote`` (Terraform Cloud runs it) or ``local`` (state and locks only) | required |
    | producers | workspaces whose outputs it reads: their applies queue its runs, and they share their state with it | none |
    | variable_set | name of the variable set it gets (its environment's credentials) | none |
    | managed | created here (false: the workspace this stack runs in; settings only) | true |
    """

    name: str
    stack: str
    execution_mode: Literal["remote", "local"]
    producers: tuple[str, ...] = ()
    variable_set: str | None = None
    managed: bool = True

    def __post_init__(self) -> None:
        if not _WORKSPACE_NAME.match(self.name):
            raise ValueError(f"workspace {self.name!r}: 1-90 letters, digits, '-' and '_'")
        if self.name in self.producers:
            raise ValueError(f"workspace {self.name}: a workspace cannot trigger itself")

    @property
    def working_directory(self) -> str:
        return f"cdktf.out/stacks/{self.stack}"


@dataclass(frozen=True)
class VariableSetSpec:
    """Environment variables shared by some workspaces (not sensitive: role ARNs and client IDs)."""

    name: str
    description: str
    variables: Mapping[str, str]

    def __post_init__(self) -> None:
        credentials = [key for key in self.variables if _CREDENTIAL_VARIABLES.search(key)]
        if credentials:
            raise ValueError(f"variable set {self.name}: {credentials} look like static credentials")


@dataclass(frozen=True)
class AzureRunIdentity:
    """The Entra ID application a run signs in as (dynamic credentials), in its tenant and subscription."""

    client_id: str
    tenant_id: str
    subscription_id: str | None = None


def dynamic_credentials(
    name: str, environment: str, *, aws_role_arn: str, azure: AzureRunIdentity | None = None
) -> VariableSetSpec:
    """The variable set by which an environment's runs assume its deploy identities (workload
    identity tokens: no static key anywhere)."""
    variables = {"TFC_AWS_PROVIDER_AUTH": "true", "TFC_AWS_RUN_ROLE_ARN": aws_role_arn}
    if azure is not None:
        variables |= {
            "TFC_AZURE_PROVIDER_AUTH": "true",
            "TFC_AZURE_RUN_CLIENT_ID": azure.client_id,
            "ARM_TENANT_ID": azure.tenant_id,
        }
        if azure.subscription_id is not None:
            variables["ARM_SUBSCRIPTION_ID"] = azure.subscription_id
    return VariableSetSpec(name, f"Dynamic credentials of the {environment} runs", variables)


@dataclass(frozen=True)
class TerraformCloudProjectProps:
    """Properties of :class:`TerraformCloudProject`.

    | name | meaning | default |
    |---|---|---|
    | organization | the Terraform Cloud organization | required |
    | project | the project holding the workspaces | required |
    | terraform_version | Terraform version of the runs (exact) | required |
    | workspaces | one per stack (:class:`WorkspaceSpec`) | required |
    | variable_sets | :class:`VariableSetSpec` by the name the workspaces use | none |
    | notify_members | e-mails of the organization members told of failures, approvals and drift | required |
    """

    organization: str
    project: str
    terraform_version: str
    workspaces: tuple[WorkspaceSpec, ...]
    notify_members: tuple[str, ...]
    variable_sets: tuple[VariableSetSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [workspace.name for workspace in self.workspaces]
        if len({name.lower() for name in names}) != len(names):
            raise ValueError(f"workspace names must differ (Terraform Cloud ignores case): {sorted(names)}")
        unknown = {p for workspace in self.workspaces for p in workspace.producers} - set(names)
        if unknown:
            raise ValueError(f"producers {sorted(unknown)} have no workspace here")
        sets = {variable_set.name for variable_set in self.variable_sets}
        missing = {w.variable_set for w in self.workspaces if w.variable_set is not None} - sets
        if missing:
            raise ValueError(f"variable sets {sorted(missing)} are used but not defined")
        if not self.notify_members:
            raise ValueError("notify_members: at least one member must hear of failed runs and drift")
        if not re.match(r"^\d+\.\d+\.\d+$", self.terraform_version):
            raise ValueError(f"terraform_version {self.terraform_version!r}: an exact version such as 1.12.2")


class TerraformCloudProject(Construct):
    """The project, its workspaces and how they depend on each other.

    Attributes: ``workspace_ids`` (by workspace name), ``project_id``.
    """

    def __init__(self, scope: Construct, id: str, props: TerraformCloudProjectProps) -> None:
        super().__init__(scope, id)
        organization = props.organization
        project = Project(self, "project", name=props.project, organization=organization)
        self.project_id = project.id
        self.workspace_ids: dict[str, str] = {}
        for spec in props.workspaces:
            if spec.managed:
                workspace = Workspace(
                    self,
                    f"workspace-{spec.name}",
                    name=spec.name,
                    organization=organization,
                    project_id=project.id,
                    description=f"Stack {spec.stack} (synthesised by cdktf into {spec.working_directory})",
                    working_directory=spec.working_directory,
                    terraform_version=props.terraform_version,
                    auto_apply=False,
                    auto_apply_run_trigger=False,
                    allow_destroy_plan=False,
                    queue_all_runs=False,
                    file_triggers_enabled=False,
                )
                self.workspace_ids[spec.name] = workspace.id
            else:
                existing = DataTfeWorkspace(self, f"workspace-{spec.name}", name=spec.name, organization=organization)
                self.workspace_ids[spec.name] = existing.id
        consumers = {
            spec.name: [w.name for w in props.workspaces if spec.name in w.producers] for spec in props.workspaces
        }
        for spec in props.workspaces:
            WorkspaceSettings(
                self,
                f"settings-{spec.name}",
                workspace_id=self.workspace_ids[spec.name],
                execution_mode=spec.execution_mode,
                # Drift detection runs where Terraform Cloud executes the runs.
                assessments_enabled=spec.execution_mode == "remote",
                global_remote_state=False,
                remote_state_consumer_ids=[self.workspace_ids[name] for name in consumers[spec.name]],
            )
            for producer in spec.producers:
                RunTrigger(
                    self,
                    f"trigger-{producer}-{spec.name}",
                    workspace_id=self.workspace_ids[spec.name],
                    sourceable_id=self.workspace_ids[producer],
                )
        self._variable_sets(props, organization, project.id)
        self._notifications(props, organization)

    def _variable_sets(self, props: TerraformCloudProjectProps, organization: str, project_id: str) -> None:
        for variable_set in props.variable_sets:
            resource = VariableSet(
                self,
                f"variable-set-{variable_set.name}",
                name=variable_set.name,
                description=variable_set.description,
                organization=organization,
                parent_project_id=project_id,
            )
            for key, value in sorted(variable_set.variables.items()):
                Variable(
                    self,
                    f"variable-{variable_set.name}-{key}",
                    key=key,
                    value=value,
                    category="env",
                    variable_set_id=resource.id,
                    description=f"{variable_set.description}: {key}",
                )
            for spec in props.workspaces:
                if spec.variable_set == variable_set.name:
                    WorkspaceVariableSet(
                        self,
                        f"variable-set-{variable_set.name}-{spec.name}",
                        variable_set_id=resource.id,
                        workspace_id=self.workspace_ids[spec.name],
                    )

    def _notifications(self, props: TerraformCloudProjectProps, organization: str) -> None:
        members = [
            DataTfeOrganizationMembership(self, f"member-{index}", organization=organization, email=email).user_id
            for index, email in enumerate(props.notify_members)
        ]
        for spec in props.workspaces:
            if spec.execution_mode != "remote":
                continue  # no runs in Terraform Cloud, nothing to report
            NotificationConfiguration(
                self,
                f"notify-{spec.name}",
                name="platform on-call",
                workspace_id=self.workspace_ids[spec.name],
                destination_type="email",
                email_user_ids=members,
                triggers=list(NOTIFICATION_TRIGGERS),
                enabled=True,
            )
