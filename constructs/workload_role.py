"""An IAM role for one Kubernetes service account (IRSA), trusted only by that service account."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import Token
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from iworkz_constructs.policy_document import PolicyDocument

STS_AUDIENCE = "sts.amazonaws.com"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# Kubernetes object names (RFC 1123 labels for namespaces, subdomains for service accounts).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


@dataclass(frozen=True)
class WorkloadRoleProps:
    """Properties of :class:`WorkloadRole`.

    | name | meaning | default |
    |---|---|---|
    | role_name | IAM role name, e.g. ``iworkz-production-ebs-csi-driver`` | required |
    | oidc_provider_arn | ARN of the cluster's IAM OIDC provider (``EksCluster.oidc_provider_arn``) | required |
    | oidc_issuer | issuer URL without ``https://`` (``EksCluster.oidc_issuer``) | required |
    | namespace | Kubernetes namespace of the service account (no wildcards) | required |
    | service_account | service account name (no wildcards) | required |
    | policy_statements | inline IAM policy statements (dicts with Effect, Action, Resource) | none |
    | managed_policy_arns | managed policies to attach | none |
    | description | role description | "IRSA role for <namespace>/<service_account>" |
    | max_session_duration | seconds a session lasts | 3600 |
    | provider | provider of the role | the stack's default |

    ``Action: "*"`` is refused (least privilege); further statements come from grants
    (:meth:`WorkloadRole.add_to_policy`).
    """

    role_name: str
    oidc_provider_arn: str
    oidc_issuer: str
    namespace: str
    service_account: str
    policy_statements: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    managed_policy_arns: Sequence[str] = ()
    description: str | None = None
    max_session_duration: int = 3600
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not _ROLE_NAME.match(self.role_name):
            raise ValueError(f"role_name {self.role_name!r}: 1-64 characters of letters, digits and +=,.@_-")
        check_service_account(self.oidc_issuer, self.namespace, self.service_account)
        if not 3600 <= self.max_session_duration <= 43200:
            raise ValueError(f"max_session_duration must be 3600-43200 seconds, got {self.max_session_duration}")

    @property
    def subject(self) -> str:
        return service_account_subject(self.namespace, self.service_account)


class WorkloadRole(Construct):
    """IAM role assumable through the cluster's OIDC provider by exactly one service account.

    The trust policy pins both ``<issuer>:sub`` (the namespace and service account) and
    ``<issuer>:aud`` (``sts.amazonaws.com``). Attributes: ``role`` (the resource), ``arn``,
    ``name`` (a token), ``role_name`` (the configured name, known at synth time),
    ``service_account_annotations`` (what the service account carries to use it).
    Owners of a resource grant access with :meth:`add_to_policy` (e.g. ``RedisOutputs.grant_connect``).
    """

    def __init__(self, scope: Construct, id: str, props: WorkloadRoleProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self.role = IamRole(
            self,
            "role",
            name=props.role_name,
            description=props.description or f"IRSA role for {props.namespace}/{props.service_account}",
            assume_role_policy=PolicyDocument(self, "trust-policy", trust_policy(props), provider=props.provider).json,
            max_session_duration=props.max_session_duration,
            provider=props.provider,
        )
        self.arn = self.role.arn
        self.name = self.role.name
        self.role_name = props.role_name
        self.service_account_annotations = {IRSA_ANNOTATION: self.arn}
        self.policy_document: PolicyDocument | None = None
        self.policy: IamRolePolicy | None = None
        self.add_to_policy(*props.policy_statements)
        for index, policy_arn in enumerate(props.managed_policy_arns):
            IamRolePolicyAttachment(
                self,
                f"managed-{index}",
                role=self.role.name,
                policy_arn=policy_arn,
                provider=props.provider,
            )

    def add_to_policy(self, *statements: Mapping[str, Any]) -> None:
        """Adds statements to the role's inline policy (least privilege: no ``Action: "*"``)."""
        existing = len(self.policy_document.statements) if self.policy_document else 0
        for index, statement in enumerate(statements, start=existing):
            check_statement(self._props.role_name, index, statement)
        if not statements:
            return
        if self.policy_document is not None:
            self.policy_document.add_statements(*statements)
            return
        self.policy_document = PolicyDocument(self, "policy-document", statements, provider=self._props.provider)
        self.policy = IamRolePolicy(
            self,
            "policy",
            name=self._props.role_name,
            role=self.role.id,
            policy=self.policy_document.json,
            provider=self._props.provider,
        )


def check_statement(role_name: str, index: int, statement: Mapping[str, Any]) -> None:
    missing = [k for k in ("Effect", "Action", "Resource") if k not in statement]
    if missing:
        raise ValueError(f"workload role {role_name}: policy statement {index} lacks {missing}")
    actions = [statement["Action"]] if isinstance(statement["Action"], str) else list(statement["Action"])
    if statement["Effect"] == "Allow" and "*" in actions:
        raise ValueError(f"workload role {role_name}: policy statement {index} allows Action '*'")


def trust_policy(props: WorkloadRoleProps) -> list[dict[str, Any]]:
    return [web_identity_statement(props.oidc_provider_arn, props.oidc_issuer, props.namespace, props.service_account)]


def web_identity_statement(
    oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str
) -> dict[str, Any]:
    """The IRSA trust statement: ``sts:AssumeRoleWithWebIdentity`` through the cluster's OIDC
    provider, pinned to one service account (``<issuer>:sub``) and to STS (``<issuer>:aud``).

    ``oidc_issuer`` is the issuer URL without ``https://`` (``EksCluster.oidc_issuer``).
    """
    return {
        "Sid": "ServiceAccountAssumesRole",
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{oidc_issuer}:sub": service_account_subject(namespace, service_account),
                f"{oidc_issuer}:aud": STS_AUDIENCE,
            }
        },
    }


def service_account_subject(namespace: str, service_account: str) -> str:
    """The ``sub`` claim of a service account token: ``system:serviceaccount:<ns>:<sa>``."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def check_service_account(oidc_issuer: str, namespace: str, service_account: str) -> None:
    """Raises ValueError unless the names are exact Kubernetes names and the issuer has no scheme."""
    if not _DNS_LABEL.match(namespace) or len(namespace) > 63:
        raise ValueError(f"namespace {namespace!r} is not a Kubernetes namespace name (no wildcards)")
    if not _DNS_SUBDOMAIN.match(service_account) or len(service_account) > 253:
        raise ValueError(f"service_account {service_account!r} is not a Kubernetes name (no wildcards)")
    if not Token.is_unresolved(oidc_issuer) and oidc_issuer.startswith(("https://", "http://")):
        raise ValueError(f"oidc_issuer {oidc_issuer!r}: give it without the scheme (EksCluster.oidc_issuer)")
