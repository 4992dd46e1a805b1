"""Helpers to read synthesised Terraform JSON in tests."""

from __future__ import annotations

import json
import re
from typing import Any

from cdktf import App, TerraformStack, Testing

StackJson = dict[str, Any]

# The securityContext every container of this repository runs with, as the kubernetes provider writes it.
HARDENED_CONTAINER = {
    "run_as_non_root": True,
    "allow_privilege_escalation": False,
    "privileged": False,
    "read_only_root_filesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def resources(doc: StackJson, resource_type: str) -> dict[str, dict[str, Any]]:
    """All resources of one type, by logical ID."""
    return {name: body for name, body in doc.get("resource", {}).get(resource_type, {}).items()}


def one(doc: StackJson, resource_type: str) -> dict[str, Any]:
    """The only resource of a type (fails if there are none or several)."""
    found = resources(doc, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def data_sources(doc: StackJson, data_type: str) -> dict[str, dict[str, Any]]:
    return dict(doc.get("data", {}).get(data_type, {}))


def outputs(doc: StackJson) -> dict[str, dict[str, Any]]:
    return dict(doc.get("output", {}))


def synth_stack(stack: TerraformStack) -> StackJson:
    """Synthesises one hand-built test stack (construct unit tests)."""
    return json.loads(Testing.synth(stack))


def new_app() -> App:
    return Testing.app()


_POLICY_DOCUMENT = re.compile(r"^\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}$")


def policy_json(doc: StackJson, value: str) -> dict[str, Any]:
    """The IAM JSON of a ``policy`` argument: a JSON string, or ``${data.aws_iam_policy_document.X.json}``
    read back from the data source's statement blocks (one identifier, action... as a string, as
    IAM writes it)."""
    match = _POLICY_DOCUMENT.match(value)
    if match is None:
        return dict(json.loads(value))
    document = doc["data"]["aws_iam_policy_document"][match.group(1)]
    return {
        "Version": document.get("version", "2012-10-17"),
        "Statement": [_statement(s) for s in document["statement"]],
    }


def trusted_service_accounts(doc: StackJson, role: dict[str, Any]) -> list[str]:
    """The service accounts an IRSA role's trust policy admits (``<issuer>:sub``; ``<issuer>:aud`` is STS)."""
    subjects = []
    for statement in policy_json(doc, role["assume_role_policy"])["Statement"]:
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        claims = {key.rsplit(":", 1)[1]: value for key, value in statement["Condition"]["StringEquals"].items()}
        assert claims["aud"] == "sts.amazonaws.com"
        subjects.append(claims["sub"])
    return subjects


def _statement(block: dict[str, Any]) -> dict[str, Any]:
    def single(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else list(values)

    def principals(blocks: list[dict[str, Any]]) -> Any:
        if [(b["type"], b["identifiers"]) for b in blocks] == [("*", ["*"])]:
            return "*"
        return {b["type"]: single(b["identifiers"]) for b in blocks}

    statement: dict[str, Any] = {}
    if block.get("sid"):
        statement["Sid"] = block["sid"]
    statement["Effect"] = block.get("effect", "Allow")
    for key, name in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        if block.get(key):
            statement[name] = principals(block[key])
    for key, name in (
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ):
        if block.get(key):
            statement[name] = single(block[key])
    if block.get("condition"):
        conditions: dict[str, dict[str, Any]] = {}
        for condition in block["condition"]:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = single(condition["values"])
        statement["Condition"] = conditions
    return statement


_REMOTE_OUTPUT = re.compile(
    r"^\$\{(?:element\()?data\.terraform_remote_state\.[\w-]+\.outputs\.(?P<output>\w+)(?:, (?P<index>\d+)\))?"
    r"(?:\.(?P<key>[\w-]+))?\}$"
)


def through_contract(reference: str, producer: StackJson) -> Any:
    """The producer's own value behind a consumer's reference to one of its outputs.

    ``${data.terraform_remote_state.<p>.outputs.<o>}``, ``${element(...outputs.<o>, <i>)}`` and
    ``${...outputs.<o>.<key>}`` resolve to the output's value, its i-th element or its key.
    """
    match = _REMOTE_OUTPUT.match(reference)
    assert match, f"{reference} is not a reference to a remote output"
    value = producer["output"][match["output"]]["value"]
    if match["index"] is not None:
        return value[int(match["index"])]
    if match["key"] is not None:
        return value[match["key"]]
    return value
