"""An IAM policy document as a Terraform expression: an ``aws_iam_policy_document`` data source.

Constructs describe policies in IAM's own JSON shape (``{"Sid", "Effect", "Action",
"Resource", "Principal", "Condition"}``), the form AWS documents and reviewers read;
:class:`PolicyDocument` turns those statements into the statement blocks of an
``aws_iam_policy_document`` data source, and its :attr:`~PolicyDocument.json` is what a
``policy``, ``assume_role_policy`` or ``access_policies`` argument takes.

Why a data source rather than a Python ``json.dumps`` string or ``Fn.jsonencode``:

- A ``json.dumps`` string with cdktf tokens inside (``arn:aws:iam::${...}:root``) is a JSON
  document with Terraform interpolations in its string literals. The JSON output accepts it,
  but cdktf 0.21's HCL conversion (``cdktf synth --hcl``) mangles every such string into
  invalid HCL.
- ``Fn.jsonencode`` renders valid HCL, but as one opaque ``${jsonencode({...})}`` string:
  the synth-time policy rules (iworkz.policy) and checkov would have to evaluate a Terraform
  expression to see a statement, so neither could check a policy any more.
- The data source renders in both JSON and HCL as ordinary nested blocks; the provider
  evaluates it locally at plan time (no API call) and normalises the JSON it returns. The
  rules read its ``statement`` blocks (e.g. the TLS-only bucket policy), and checkov checks
  every document with its IAM policy checks.

A document can grow after it is created (:meth:`PolicyDocument.add_statements`), so a
construct that owns a resource can grant access to it by adding a statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementNotPrincipals,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

Statement = Mapping[str, Any]

_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)


class PolicyDocument(DataAwsIamPolicyDocument):
    """``data "aws_iam_policy_document"`` built from IAM-JSON-shaped statements.

    Attributes: ``json`` (the rendered policy, a token), ``statements`` (what was added, in order).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        statements: Sequence[Statement] = (),
        provider: AwsProvider | None = None,
    ) -> None:
        self.statements: list[Statement] = [dict(s) for s in statements]
        super().__init__(scope, id, statement=[statement_block(s) for s in self.statements], provider=provider)

    def add_statements(self, *statements: Statement) -> None:
        """Appends statements (e.g. a grant by the construct that owns the resource)."""
        self.statements.extend(dict(s) for s in statements)
        self.put_statement([statement_block(s) for s in self.statements])


def statement_block(statement: Statement) -> DataAwsIamPolicyDocumentStatement:
    """One IAM JSON statement as the data source's ``statement`` block; refuses unknown keys."""
    unknown = sorted(set(statement) - _STATEMENT_KEYS)
    if unknown:
        raise ValueError(f"policy statement {statement.get('Sid', '')!r}: unknown keys {unknown}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise ValueError(f"policy statement {statement.get('Sid', '')!r}: Effect must be Allow or Deny")
    return DataAwsIamPolicyDocumentStatement(
        sid=statement.get("Sid"),
        effect=statement["Effect"],
        actions=_optional_list(statement.get("Action")),
        not_actions=_optional_list(statement.get("NotAction")),
        resources=_optional_list(statement.get("Resource")),
        not_resources=_optional_list(statement.get("NotResource")),
        principals=[
            DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=ids)
            for kind, ids in _principals(statement.get("Principal"))
        ]
        or None,
        not_principals=[
            DataAwsIamPolicyDocumentStatementNotPrincipals(type=kind, identifiers=ids)
            for kind, ids in _principals(statement.get("NotPrincipal"))
        ]
        or None,
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=_as_list(values))
            for test, by_variable in (statement.get("Condition") or {}).items()
            for variable, values in by_variable.items()
        ]
        or None,
    )


def _principals(principal: Any) -> list[tuple[str, list[str]]]:
    """``"*"`` (anyone) or ``{"AWS" | "Service" | "Federated": id or [ids]}``."""
    if principal is None:
        return []
    if principal == "*":
        return [("*", ["*"])]
    if not isinstance(principal, Mapping):
        raise ValueError(f"policy principal {principal!r}: give '*' or a mapping of principal type to identifiers")
    return [(kind, _as_list(ids)) for kind, ids in principal.items()]


def _as_list(value: Any) -> list[str]:
    values = [value] if isinstance(value, (str, bool)) else list(value)
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def _optional_list(value: Any) -> list[str] | None:
    return None if value is None else _as_list(value)


def service_trust(service: str, *, tag_session: bool = False, condition: Mapping[str, Any] | None = None) -> Statement:
    """The trust statement that lets one AWS service assume a role, optionally pinned by a condition."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def account_trust_with_mfa(account_id: str) -> Statement:
    """The trust statement that lets the account's principals assume a role when signed in with MFA."""
    return {
        "Sid": "AccountPrincipalsWithMfa",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }
