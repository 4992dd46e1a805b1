"""The pipelines' role assignments on one Azure scope (the DR resource group), least privilege.

- the planners (merge requests) get ``Reader``;
- the deployer gets ``Contributor`` and ``Role Based Access Control Administrator`` with an
  ABAC condition (version 2.0): it may create and delete role assignments only of the roles
  the stack itself assigns (:attr:`AzurePipelineAccessProps.assignable_roles`, e.g. Key Vault
  Crypto Officer for its own keys), never Owner, User Access Administrator or a role that
  grants more; so it cannot widen its own access.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, Token
from cdktf_cdktf_provider_azurerm.data_azurerm_role_definition import DataAzurermRoleDefinition
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

READER_ROLE = "Reader"
CONTRIBUTOR_ROLE = "Contributor"
RBAC_ADMINISTRATOR_ROLE = "Role Based Access Control Administrator"
# Roles that would let the deployer grant itself (or anyone) more than the listed roles.
_ESCALATING_ROLES = frozenset({"Owner", "User Access Administrator", RBAC_ADMINISTRATOR_ROLE, CONTRIBUTOR_ROLE})


@dataclass(frozen=True)
class AzurePipelineAccessProps:
    """Properties of :class:`AzurePipelineAccess`.

    | name | meaning | default |
    |---|---|---|
    | scope | resource ID the assignments hold on (the DR resource group) | required |
    | planner_principal_ids | service principals that plan (Reader) | required |
    | deployer_principal_id | the service principal that deploys | required |
    | assignable_roles | built-in roles the deployer may assign within the scope | required |
    """

    scope: str
    planner_principal_ids: tuple[str, ...]
    deployer_principal_id: str
    assignable_roles: tuple[str, ...]

    def __post_init__(self) -> None:
        if not Token.is_unresolved(self.scope) and "/resourceGroups/" not in self.scope:
            raise ValueError(f"scope {self.scope!r}: a resource group or a resource inside one, not a subscription")
        escalating = sorted(_ESCALATING_ROLES & set(self.assignable_roles))
        if escalating or not self.assignable_roles:
            raise ValueError(f"assignable_roles: the roles the stack assigns, without {escalating or 'none'}")


class AzurePipelineAccess(Construct):
    """Reader for the planners, Contributor plus constrained role assignment for the deployer."""

    def __init__(self, scope: Construct, id: str, props: AzurePipelineAccessProps) -> None:
        super().__init__(scope, id)
        role_ids = [
            DataAzurermRoleDefinition(self, f"assignable-{name}", name=name, scope=props.scope).role_definition_id
            for name in props.assignable_roles
        ]
        condition = Token.as_string(Fn.format(assignment_condition(), [Fn.join(", ", role_ids)] * 2))
        grants: list[tuple[str, str, str, str, str | None]] = [
            (f"planner-{index}", principal, READER_ROLE, "Pipeline plans (read-only)", None)
            for index, principal in enumerate(props.planner_principal_ids)
        ]
        grants += [
            ("deployer", props.deployer_principal_id, CONTRIBUTOR_ROLE, "Pipeline deploys", None),
            (
                "deployer-role-assignments",
                props.deployer_principal_id,
                RBAC_ADMINISTRATOR_ROLE,
                "Pipeline deploys: assigns only the roles the stack's resources need",
                condition,
            ),
        ]
        for grant_id, principal, role, description, grant_condition in grants:
            RoleAssignment(
                self,
                grant_id,
                scope=props.scope,
                principal_id=principal,
                principal_type="ServicePrincipal",
                role_definition_name=role,
                description=description,
                condition=grant_condition,
                condition_version="2.0" if grant_condition else None,
            )


def assignment_condition() -> str:
    """The ABAC condition (a ``format`` template: ``%s`` twice, the allowed role definition GUIDs)
    limiting role assignment writes and deletes to those roles."""
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {%s})) "
        "AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {%s}))"
    )
