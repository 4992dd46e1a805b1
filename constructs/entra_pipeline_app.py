"""An Entra ID application that CI/CD pipelines sign in as with their OIDC ID tokens (no secret).

Workload identity federation: each :class:`Federation` names the tokens that may exchange for
an Entra token of the application: an issuer, an audience and the ``sub`` claim, either exactly
(a federated identity credential) or by a claims-matching expression whose only wildcard is
the last ``:`` component of ``sub`` (a flexible federated identity credential, e.g. any branch
of one GitLab project). The application has no password or certificate: a pipeline that is
not federated cannot sign in. Role assignments are made by the stacks that own the scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azuread.application_federated_identity_credential import (
    ApplicationFederatedIdentityCredential,
)
from cdktf_cdktf_provider_azuread.application_flexible_federated_identity_credential import (
    ApplicationFlexibleFederatedIdentityCredential,
)
from cdktf_cdktf_provider_azuread.application_registration import ApplicationRegistration
from cdktf_cdktf_provider_azuread.service_principal import ServicePrincipal
from constructs import Construct

from iworkz_constructs.pipeline_role import WILDCARDS

# Entra ID accepts at most 20 federated identity credentials per application.
MAX_FEDERATIONS = 20


@dataclass(frozen=True)
class Federation:
    """The tokens of one issuer that may sign in as the application.

    | name | meaning | default |
    |---|---|---|
    | name | display name of the credential (unique in the application) | required |
    | issuer | the tokens' ``iss`` claim, an https URL | required |
    | audience | the tokens' ``aud`` claim | ``api://AzureADTokenExchange`` |
    | subject | the ``sub`` claim, exactly; or a pattern with ``*`` only in its last ``:`` component | required |
    """

    name: str
    issuer: str
    subject: str
    audience: str = "api://AzureADTokenExchange"

    def __post_init__(self) -> None:
        if not self.issuer.startswith("https://") or self.issuer.endswith("/"):
            raise ValueError(f"federation {self.name}: issuer {self.issuer!r} must be an https URL (the iss claim)")
        if WILDCARDS & set(self.audience):
            raise ValueError(f"federation {self.name}: audience {self.audience!r} must be exact")
        fixed, _, last = self.subject.rpartition(":")
        if WILDCARDS & set(fixed) or (WILDCARDS & set(last) and not fixed) or "?" in last or "'" in self.subject:
            raise ValueError(
                f"federation {self.name}: subject {self.subject!r} may hold a '*' only in its last ':' component"
            )

    @property
    def is_pattern(self) -> bool:
        return "*" in self.subject

    @property
    def claims_expression(self) -> str:
        """The flexible credential's expression (language version 1): ``claims['sub'] matches '...'``."""
        return f"claims['sub'] matches '{self.subject}'"


@dataclass(frozen=True)
class EntraPipelineAppProps:
    """Properties of :class:`EntraPipelineApp`.

    | name | meaning | default |
    |---|---|---|
    | display_name | the application's name in Entra ID | required |
    | description | what it is for | required |
    | federations | the pipelines' tokens that may sign in (:class:`Federation`) | required |
    """

    display_name: str
    description: str
    federations: tuple[Federation, ...]

    def __post_init__(self) -> None:
        if not self.federations:
            raise ValueError(f"{self.display_name}: federations: at least one pipeline")
        if len(self.federations) > MAX_FEDERATIONS:
            raise ValueError(f"{self.display_name}: Entra ID allows {MAX_FEDERATIONS} federations per application")
        names = [federation.name for federation in self.federations]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.display_name}: federation names must be unique, got {names}")


class EntraPipelineApp(Construct):
    """Application, service principal and federated credentials of one pipeline identity.

    Attributes: ``client_id`` (the pipeline's ``ARM_CLIENT_ID``), ``principal_id`` (the service
    principal's object ID, for role assignments).
    """

    def __init__(self, scope: Construct, id: str, props: EntraPipelineAppProps) -> None:
        super().__init__(scope, id)
        application = ApplicationRegistration(
            self, "application", display_name=props.display_name, description=props.description
        )
        principal = ServicePrincipal(
            self, "service-principal", client_id=application.client_id, description=props.description
        )
        for federation in props.federations:
            if federation.is_pattern:
                ApplicationFlexibleFederatedIdentityCredential(
                    self,
                    federation.name,
                    application_id=application.id,
                    display_name=federation.name,
                    issuer=federation.issuer,
                    audience=federation.audience,
                    claims_matching_expression=federation.claims_expression,
                )
            else:
                ApplicationFederatedIdentityCredential(
                    self,
                    federation.name,
                    application_id=application.id,
                    display_name=federation.name,
                    issuer=federation.issuer,
                    audiences=[federation.audience],
                    subject=federation.subject,
                )
        self.client_id = application.client_id
        self.principal_id = principal.object_id
