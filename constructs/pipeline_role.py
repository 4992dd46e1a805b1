"""IAM roles that CI/CD pipelines assume with their OIDC ID tokens, capped by a permissions boundary.

:class:`FederatedIssuer` is the IAM OIDC provider of one token issuer (a GitLab instance,
Terraform Cloud); :meth:`FederatedIssuer.trust` says which of its tokens may assume a role: the
``aud`` claim exactly, the ``sub`` claim exactly (``StringEquals``) or by a pattern whose only
wildcard is in its last ``:``-separated component (``StringLike``: any branch of one project,
any run phase of one workspace). :class:`PipelineRole` is the role; its inline policy refuses
``Action: "*"`` (or ``*:*``) and its permissions boundary (:class:`PipelineBoundary`) caps what
any policy attached later can grant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from iworkz_constructs.policy_document import PolicyDocument, Statement

WILDCARDS = frozenset("*?")


# The audience Terraform Cloud's workload identity tokens carry for AWS (its default).
TFC_AWS_AUDIENCE = "aws.workload.identity"


def gitlab_subject(project_path: str, branch: str) -> str:
    """GitLab's default ``sub`` claim of a job on a branch."""
    return f"project_path:{project_path}:ref_type:branch:ref:{branch}"


def terraform_cloud_subject(organization: str, project: str, workspace: str, run_phase: str) -> str:
    """The ``sub`` claim of a Terraform Cloud run (workspaces in a project)."""
    return f"organization:{organization}:project:{project}:workspace:{workspace}:run_phase:{run_phase}"


@dataclass(frozen=True)
class FederatedSubjects:
    """The tokens of one OIDC provider that may assume a role.

    | name | meaning | default |
    |---|---|---|
    | provider_arn | ARN of the IAM OIDC provider (``FederatedIssuer.arn``) | required |
    | issuer_host | issuer without ``https://``: the prefix of the condition keys | required |
    | audience | the ``aud`` claim, exactly | required |
    | subjects | ``sub`` claims matched exactly | none |
    | subject_patterns | ``sub`` patterns; a wildcard only in the last ``:`` component | none |
    """

    provider_arn: str
    issuer_host: str
    audience: str
    subjects: tuple[str, ...] = ()
    subject_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.subjects and not self.subject_patterns:
            raise ValueError("a trust needs at least one sub claim (subjects or subject_patterns)")
        if self.issuer_host.startswith(("https://", "http://")) or self.issuer_host.endswith("/"):
            raise ValueError(f"issuer_host {self.issuer_host!r}: the issuer without scheme and trailing slash")
        if WILDCARDS & set(self.audience) or not self.audience:
            raise ValueError(f"audience {self.audience!r}: one exact value")
        for subject in self.subjects:
            if WILDCARDS & set(subject):
                raise ValueError(f"subject {subject!r} has a wildcard: list it under subject_patterns")
        for pattern in self.subject_patterns:
            fixed, _, last = pattern.rpartition(":")
            if not fixed or WILDCARDS & set(fixed) or not (WILDCARDS & set(last)):
                raise ValueError(
                    f"subject pattern {pattern!r}: only its last ':' component may hold a wildcard "
                    "(the project or workspace before it must be pinned)"
                )

    def statements(self, sid: str) -> list[Statement]:
        """``sts:AssumeRoleWithWebIdentity`` for these tokens (exact subjects and patterns apart:
        both operators on one key in one statement would have to match at once)."""
        by_operator = (("StringEquals", self.subjects, "Exact"), ("StringLike", self.subject_patterns, "Pattern"))
        statements: list[Statement] = []
        for operator, values, suffix in by_operator:
            if not values:
                continue
            condition: dict[str, dict[str, Any]] = {"StringEquals": {f"{self.issuer_host}:aud": self.audience}}
            condition.setdefault(operator, {})[f"{self.issuer_host}:sub"] = list(values)
            statements.append(
                {
                    "Sid": f"{sid}{suffix}",
                    "Effect": "Allow",
                    "Principal": {"Federated": self.provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": condition,
                }
            )
        return statements


@dataclass(frozen=True)
class FederatedIssuerProps:
    """Properties of :class:`FederatedIssuer`.

    | name | meaning | default |
    |---|---|---|
    | url | the issuer, an https URL exactly as the tokens' ``iss`` claim | required |
    | audiences | the ``aud`` values the provider accepts (client IDs) | required |
    """

    url: str
    audiences: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.url.startswith("https://") or self.url.endswith("/") or len(self.url) <= len("https://"):
            raise ValueError(f"url {self.url!r}: an https URL without trailing slash (the iss claim)")
        if not self.audiences:
            raise ValueError("audiences: at least one")

    @property
    def host(self) -> str:
        return self.url.removeprefix("https://")


class FederatedIssuer(Construct):
    """The IAM OIDC provider of a token issuer. Attributes: ``arn``, ``host``.

    No thumbprint list: IAM verifies the issuer's TLS certificate against its trusted root
    CAs for public issuers (gitlab.com, app.terraform.io); the argument is optional in hashicorp/aws 6.
    """

    def __init__(self, scope: Construct, id: str, props: FederatedIssuerProps) -> None:
        super().__init__(scope, id)
        self.provider = IamOpenidConnectProvider(self, "provider", url=props.url, client_id_list=list(props.audiences))
        self.arn = self.provider.arn
        self.host = props.host
        self._audiences = props.audiences

    def trust(
        self, audience: str, *, subjects: Sequence[str] = (), subject_patterns: Sequence[str] = ()
    ) -> FederatedSubjects:
        if audience not in self._audiences:
            raise ValueError(f"audience {audience!r} is not one the provider accepts ({', '.join(self._audiences)})")
        return FederatedSubjects(self.arn, self.host, audience, tuple(subjects), tuple(subject_patterns))


def check_least_privilege(name: str, index: int, statement: Mapping[str, Any]) -> None:
    """Refuses an Allow of every action (``*``, ``*:*``) or of everything but a list (NotAction)."""
    if "Effect" not in statement or not ({"Action", "NotAction"} & set(statement)):
        raise ValueError(f"{name}: policy statement {index} needs Effect and Action")
    if not ({"Resource", "NotResource"} & set(statement)):
        raise ValueError(f"{name}: policy statement {index} needs Resource")
    if statement["Effect"] != "Allow":
        return
    if "NotAction" in statement:
        raise ValueError(f"{name}: policy statement {index} allows everything but a list (NotAction)")
    actions = [statement["Action"]] if isinstance(statement["Action"], str) else list(statement["Action"])
    if any(action.startswith("*") for action in actions):
        raise ValueError(f"{name}: policy statement {index} allows every service's actions ({actions})")


@dataclass(frozen=True)
class PipelineBoundaryProps:
    """Properties of :class:`PipelineBoundary`.

    | name | meaning | default |
    |---|---|---|
    | policy_name | name of the managed policy | required |
    | services | IAM service prefixes the pipelines may act on at all (``ec2``, ``eks``, ...) | required |
    | scoped | Allow statements of services limited to some resources (IAM: the project's roles) | none |
    | guards | Deny statements that hold whatever the roles' own policies say | none |
    """

    policy_name: str
    services: tuple[str, ...]
    scoped: Sequence[Statement] = field(default_factory=tuple)
    guards: Sequence[Statement] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        bad = [service for service in self.services if not service or WILDCARDS & set(service) or ":" in service]
        if not self.services or bad:
            raise ValueError(f"services: IAM service prefixes such as 'ec2', got {list(self.services)}")
        if any(guard.get("Effect") != "Deny" for guard in self.guards):
            raise ValueError("guards: Deny statements only (the Allow is the service list)")
        for index, statement in enumerate(self.scoped):
            check_least_privilege(self.policy_name, index, statement)
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if statement.get("Resource") == "*" and any(action.endswith(":*") for action in actions):
                raise ValueError(
                    f"{self.policy_name}: scoped statement {index} allows a whole service on every resource"
                )


class PipelineBoundary(Construct):
    """A managed policy used as the pipeline roles' permissions boundary. Attribute: ``arn``.

    It allows the listed services (never ``*``) and denies what no pipeline may do even if a
    policy attached to its role later said otherwise (the guards).
    """

    def __init__(self, scope: Construct, id: str, props: PipelineBoundaryProps) -> None:
        super().__init__(scope, id)
        allow = {
            "Sid": "OnlyTheServicesTheStacksManage",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in sorted(props.services)],
            "Resource": "*",
        }
        document = PolicyDocument(self, "document", [allow, *props.scoped, *props.guards])
        self.policy = IamPolicy(
            self,
            "policy",
            name=props.policy_name,
            description="Permissions boundary of the CI/CD pipeline roles",
            policy=document.json,
        )
        self.arn = self.policy.arn


@dataclass(frozen=True)
class PipelineRoleProps:
    """Properties of :class:`PipelineRole`.

    | name | meaning | default |
    |---|---|---|
    | role_name | IAM role name | required |
    | description | what the role is for | required |
    | trusts | the pipelines' tokens that may assume it (``FederatedIssuer.trust``) | required |
    | permissions_boundary_arn | the boundary capping it (``PipelineBoundary.arn``) | required |
    | statements | its inline policy (no ``*`` / ``*:*`` allow) | required |
    | max_session_duration | seconds a session lasts (a plan or apply job) | 3600 |
    """

    role_name: str
    description: str
    trusts: tuple[FederatedSubjects, ...]
    permissions_boundary_arn: str
    statements: Sequence[Statement]
    max_session_duration: int = 3600

    def __post_init__(self) -> None:
        if not self.trusts:
            raise ValueError(f"{self.role_name}: trusts: at least one pipeline")
        if not self.statements:
            raise ValueError(f"{self.role_name}: statements: a pipeline role without permissions is a mistake")
        for index, statement in enumerate(self.statements):
            check_least_privilege(self.role_name, index, statement)
        if not 3600 <= self.max_session_duration <= 43200:
            raise ValueError(f"max_session_duration must be 3600-43200 seconds, got {self.max_session_duration}")


class PipelineRole(Construct):
    """The role a pipeline assumes with its ID token. Attributes: ``arn``, ``name``, ``role``.

    :meth:`add_to_policy` takes grants from the constructs and contracts that own a resource
    (e.g. ``StateOutputs.grant_state_access``).
    """

    def __init__(self, scope: Construct, id: str, props: PipelineRoleProps) -> None:
        super().__init__(scope, id)
        self._props = props
        trust = [statement for index, t in enumerate(props.trusts) for statement in t.statements(f"Pipeline{index}")]
        self.role = IamRole(
            self,
            "role",
            name=props.role_name,
            description=props.description,
            assume_role_policy=PolicyDocument(self, "trust-policy", trust).json,
            permissions_boundary=props.permissions_boundary_arn,
            max_session_duration=props.max_session_duration,
        )
        self.arn = self.role.arn
        self.name = self.role.name
        self.policy_document = PolicyDocument(self, "policy-document", props.statements)
        IamRolePolicy(self, "policy", name=props.role_name, role=self.role.id, policy=self.policy_document.json)

    def add_to_policy(self, *statements: Statement) -> None:
        start = len(self.policy_document.statements)
        for index, statement in enumerate(statements, start=start):
            check_least_privilege(self._props.role_name, index, statement)
        self.policy_document.add_statements(*statements)
