"""The failover runbook is backed by code: every name it uses exists in the synthesised output,
and every failover and failback step names the command or the change that does it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RUNBOOK = Path(__file__).parents[1] / "docs" / "runbook-failover.md"
ENVIRONMENT = "production"
_ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<stack>[a-z-]+) \| (?P<type>[a-z0-9_]+) \|$")
# The production names the prose uses: iworkz-production-... and the storage account's compact form.
_NAME = re.compile(r"\biworkz-?production[a-z0-9-]*[a-z0-9]")


def _text() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _names(resource: dict[str, Any]) -> set[str]:
    """The strings of a resource, and the prefix of a name Terraform completes (a Job's digest)."""
    values = set(_strings({k: v for k, v in resource.items() if k != "//"}))
    return values | {v.split("-${", 1)[0] for v in values if "-${" in v}


def _backed_by() -> list[dict[str, str]]:
    section = _text().split("## Backed by", 1)[1].split("\n## ", 1)[0]
    rows = [m.groupdict() for line in section.splitlines() if (m := _ROW.match(line.strip()))]
    assert len(rows) >= 10, "the runbook's Backed by table lost its rows"
    return rows


@pytest.mark.parametrize("row", _backed_by(), ids=lambda row: row["name"])
def test_every_name_of_the_backed_by_table_is_in_its_stack(stack, row):
    doc = stack(f"{row['stack']}-{ENVIRONMENT}")
    candidates = doc.get("resource", {}).get(row["type"], {})
    assert any(row["name"] in _names(resource) for resource in candidates.values()), (
        f"{row['name']}: no {row['type']} of {row['stack']}-{ENVIRONMENT} carries it"
    )


def test_every_production_name_the_runbook_uses_is_synthesised(synthesized):
    docs = [doc for name, doc in synthesized.items() if name.endswith(f"-{ENVIRONMENT}")]
    if not any(name.startswith("dr-") for name in synthesized):
        pytest.skip("the DR stacks are not in the STACKS/ENVS selection")
    everything = {value for doc in docs for value in _strings(doc.get("resource", {}))}
    mentioned = set(_NAME.findall(_text()))
    missing = sorted(name for name in mentioned if not any(name in value for value in everything))
    assert not missing, f"the runbook names what no stack synthesises: {missing}"


@pytest.mark.parametrize("section", ["## Failover", "## Failback"])
def test_every_step_names_its_command_or_change(section):
    body = _text().split(section, 1)[1].split("\n## ", 1)[0]
    steps = re.split(r"\n(?=\d+\. \*\*)", body.strip())
    steps = [step for step in steps if re.match(r"\d+\. \*\*", step)]
    assert len(steps) >= 5
    for step in steps:
        title = step.split("**")[1]
        assert "`" in step, f"{section} step {title!r} names no command or change"
