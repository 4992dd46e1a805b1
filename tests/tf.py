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
