"""An Entra ID workload identity that a Kubernetes service account of another cluster signs in as.

A user-assigned managed identity trusts the cluster's OIDC issuer for exactly one service
account (``system:serviceaccount:<namespace>:<name>``) through a federated identity credential:
the pod presents a projected service account token with the audience
``api://AzureADTokenExchange`` and receives an Entra token. No client secret or certificate
exists anywhere; the identity's roles are granted with :meth:`EntraWorkloadIdentity.grant`.

The pod side (token volume and ``AZURE_*`` variables) is :data:`AZURE_TOKEN_PATH` and
:meth:`EntraWorkloadIdentity.pod_environment`: outside AKS no webhook injects them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_azurerm.federated_identity_credential import FederatedIdentityCredential
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server_active_directory_administrator import (
    PostgresqlFlexibleServerActiveDirectoryAdministrator,
)
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata
from constructs import Construct

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# Where the pods mount the projected token (the path AKS's workload identity webhook uses).
AZURE_TOKEN_DIR = "/var/run/secrets/azure/tokens"
AZURE_TOKEN_PATH = f"{AZURE_TOKEN_DIR}/azure-identity-token"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
# The pod label AKS's workload identity webhook acts on (it projects the token, sets AZURE_*).
WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class EntraWorkloadIdentityProps:
    """Properties of :class:`EntraWorkloadIdentity`.

    | name | meaning | default |
    |---|---|---|
    | name | the managed identity's name | required |
    | resource_group_name / location | where the identity lives | required |
    | tenant_id | Entra tenant (the pods' ``AZURE_TENANT_ID``) | required |
    | issuer | OIDC issuer URL of the cluster whose service account signs in (``https://...``) | required |
    | namespace / service_account | the one service account trusted | required |
    | tags | tags | none |
    """

    name: str
    resource_group_name: str
    location: str
    tenant_id: str
    issuer: str
    namespace: str
    service_account: str
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("namespace", "service_account"):
            value = getattr(self, name)
            if not _LABEL.match(value) or len(value) > 63:
                raise ValueError(f"{name} {value!r} is not a Kubernetes name")
        if not (self.issuer.startswith("https://") or "${" in self.issuer):
            raise ValueError(f"issuer {self.issuer!r}: an OIDC issuer is an https:// URL")

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


class EntraWorkloadIdentity(Construct):
    """Identity and federated credential. Attributes: ``identity``, ``client_id``, ``principal_id``,
    ``name``, ``service_account_annotations``, ``assignments`` (role -> resource)."""

    def __init__(self, scope: Construct, id: str, props: EntraWorkloadIdentityProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self.identity = UserAssignedIdentity(
            self,
            "identity",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            tags=dict(props.tags) or None,
        )
        self.credential = FederatedIdentityCredential(
            self,
            "federated-credential",
            name=f"{props.namespace}-{props.service_account}",
            resource_group_name=props.resource_group_name,
            parent_id=self.identity.id,
            issuer=props.issuer,
            subject=props.subject,
            audience=[TOKEN_EXCHANGE_AUDIENCE],
        )
        self.name = self.identity.name
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        self.service_account_annotations = {
            CLIENT_ID_ANNOTATION: self.client_id,
            TENANT_ID_ANNOTATION: props.tenant_id,
        }
        self.assignments: dict[str, RoleAssignment] = {}

    def grant(self, id: str, role: str, scope: str) -> RoleAssignment:
        """Gives the identity the built-in ``role`` on ``scope`` (a resource ID), and nothing wider."""
        if id in self.assignments:
            raise ValueError(f"{self._props.name}: grant {id!r} given twice")
        self.assignments[id] = RoleAssignment(
            self,
            f"grant-{id}",
            scope=scope,
            role_definition_name=role,
            principal_id=self.principal_id,
            principal_type="ServicePrincipal",
        )
        return self.assignments[id]

    def administer_postgres(self, server_name: str, resource_group_name: str) -> ITerraformDependable:
        """Makes the identity an Entra administrator of a flexible server (it signs in with a token)."""
        return PostgresqlFlexibleServerActiveDirectoryAdministrator(
            self,
            "postgres-admin",
            server_name=server_name,
            resource_group_name=resource_group_name,
            tenant_id=self._props.tenant_id,
            object_id=self.principal_id,
            principal_name=self.name,
            principal_type="ServicePrincipal",
        )

    def kubernetes_service_account(
        self, provider: TerraformProvider | None = None, depends_on: Sequence[ITerraformDependable] = ()
    ) -> ServiceAccountV1:
        """The trusted service account itself, annotated with the identity (no API token mounted)."""
        return ServiceAccountV1(
            self,
            "service-account",
            metadata=ServiceAccountV1Metadata(
                name=self._props.service_account,
                namespace=self._props.namespace,
                annotations=self.service_account_annotations,
            ),
            automount_service_account_token=False,
            depends_on=list(depends_on) or None,
            provider=provider,
        )

    def pod_environment(self) -> dict[str, str]:
        """What the Azure SDKs' workload identity credential reads (AKS's webhook would set it)."""
        return {
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_TENANT_ID": self._props.tenant_id,
            "AZURE_FEDERATED_TOKEN_FILE": AZURE_TOKEN_PATH,
            "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
        }
