"""Stable Terraform addresses of stateful resources (a rename destroys and recreates the data).

``tests/stateful_addresses.json`` lists, per stack, the addresses (``type.logical_id``) of
every resource of :data:`~iworkz.policy.rules.STATEFUL_TYPES`. ``scripts/stateful_addresses.py
--update`` regenerates it; tests compare it with the synthesised stacks both ways.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iworkz.policy.rules import STATEFUL_TYPES

ADDRESSES_FILE = Path(__file__).resolve().parents[2] / "tests" / "stateful_addresses.json"

KEEP_ADDRESS_HELP = (
    "Terraform would destroy the old resource and create a new, empty one. To keep the address: "
    "keep the construct id (and its parents' ids) unchanged; or call "
    "resource.override_logical_id('<old logical id>') on the resource; or, to rename on purpose, "
    "resource.move_from_id('<old address>') (a `moved` block) and then run "
    "`python scripts/stateful_addresses.py --update`."
)
NEW_ADDRESS_HELP = (
    "Review that it is a new resource (not a renamed one), then run "
    "`python scripts/stateful_addresses.py --update` and commit tests/stateful_addresses.json."
)


def stateful_addresses(document: Mapping[str, Any]) -> list[str]:
    """The sorted addresses of the stateful resources of one synthesised stack."""
    resources = document.get("resource") or {}
    return sorted(f"{t}.{name}" for t in STATEFUL_TYPES for name in resources.get(t) or {})


def moved_to(document: Mapping[str, Any]) -> dict[str, str]:
    """``moved`` blocks of a stack: old address -> new address."""
    moves = document.get("moved") or []
    return {str(m.get("from")): str(m.get("to")) for m in moves if isinstance(m, dict)}


def collect(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    return {
        name: stateful_addresses(documents[name]) for name in sorted(documents) if stateful_addresses(documents[name])
    }


def load(path: Path = ADDRESSES_FILE) -> dict[str, list[str]]:
    return dict(json.loads(path.read_text())) if path.exists() else {}


def save(addresses: Mapping[str, list[str]], path: Path = ADDRESSES_FILE) -> None:
    path.write_text(json.dumps({k: sorted(v) for k, v in sorted(addresses.items())}, indent=2) + "\n")


def disappeared(expected: Mapping[str, list[str]], documents: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Listed addresses missing from the synthesised stacks (stacks not synthesised are not judged)."""
    problems = []
    for stack, addresses in sorted(expected.items()):
        if stack not in documents:
            continue
        present = set(stateful_addresses(documents[stack]))
        moves = moved_to(documents[stack])
        for address in addresses:
            if address in present or moves.get(address) in present:
                continue
            problems.append(f"{stack}: {address} disappeared or was renamed")
    return problems


def unlisted(expected: Mapping[str, list[str]], documents: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Stateful resources of the synthesised stacks that the checked-in list lacks."""
    problems = []
    for stack in sorted(documents):
        listed = set(expected.get(stack, []))
        for address in stateful_addresses(documents[stack]):
            if address not in listed:
                problems.append(f"{stack}: {address} is not in tests/stateful_addresses.json")
    return problems


def merge(expected: Mapping[str, list[str]], documents: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """The list with the synthesised stacks' addresses replacing theirs; other stacks kept."""
    merged = {stack: list(addresses) for stack, addresses in expected.items() if stack not in documents}
    merged.update(collect(documents))
    return merged
