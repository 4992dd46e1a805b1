"""What ``terraform validate`` would catch without a binary: references that resolve.

Every ``${...}`` expression of a synthesised stack must refer to something the stack
declares: a resource (``type.name``), a data source (``data.type.name``), a variable
(``var.x``), a local (``local.x``), a module (``module.x``) or an ephemeral resource
(``ephemeral.type.name``, Terraform >= 1.10). ``depends_on`` entries and
``provider`` aliases are checked the same way. A cross-stack reference
(``data.terraform_remote_state.<name>.outputs.<output>``) must name an ``output`` of the
stack whose state it reads (``<environment>/<component>.tfstate`` -> ``<component>-<environment>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

StackJson = Mapping[str, Any]

IGNORED_ROOTS = frozenset({"each", "count", "self", "path", "terraform", "true", "false", "null"})
_KEYWORDS = frozenset({"for", "in", "if", "endfor", "endif", "else"})
_TRAVERSAL = re.compile(r"[A-Za-z_][\w-]*(?:\s*(?:\.\s*(?:[A-Za-z_][\w-]*|\d+|\*)|\[[^\[\]]*\]))*")
_FOR_VARIABLES = re.compile(r"\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b")


@dataclass(frozen=True)
class BrokenReference:
    stack: str
    where: str  # JSON path of the value holding the expression
    reference: str
    problem: str

    def __str__(self) -> str:
        return f"{self.stack}: {self.where}: {self.reference}: {self.problem}"


def expressions(text: str) -> Iterator[str]:
    """The bodies of the ``${...}`` interpolations in a string (nested ones included, ``$${`` skipped)."""
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return
        if start > 0 and text[start - 1] == "$":
            i = start + 2
            continue
        end = _closing_brace(text, start + 2)
        body = text[start + 2 : end]
        yield body
        i = end + 1


def _closing_brace(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _end_of_string(text, i + 1)
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(text)


def _end_of_string(text: str, i: int) -> int:
    """Index of the closing quote of a quoted string starting after ``i - 1`` (skips ``${...}`` inside)."""
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("${", i):
            i = _closing_brace(text, i + 2) + 1
            continue
        if text[i] == '"':
            return i
        i += 1
    return len(text)


def _strip_strings(expression: str) -> tuple[str, list[str]]:
    """The expression with quoted strings blanked, and the strings' contents (to scan recursively)."""
    out: list[str] = []
    strings: list[str] = []
    i = 0
    while i < len(expression):
        if expression[i] == '"':
            end = _end_of_string(expression, i + 1)
            strings.append(expression[i + 1 : end])
            out.append('""')
            i = end + 1
        else:
            out.append(expression[i])
            i += 1
    return "".join(out), strings


def traversals(expression: str) -> Iterator[str]:
    """The variable traversals (``a.b.c``, ``a.b[0].c``) of one expression, functions and locals left out."""
    code, strings = _strip_strings(expression)
    iteration_variables = {name for match in _FOR_VARIABLES.finditer(code) for name in match.groups() if name}
    for match in _TRAVERSAL.finditer(code):
        text = match.group(0)
        before = code[: match.start()].rstrip()
        if before.endswith(".") or (
            match.start() > 0 and (code[match.start() - 1].isalnum() or code[match.start() - 1] in "_-")
        ):
            continue  # the middle of a traversal or of a number
        after = code[match.end() :].lstrip()
        root = re.split(r"[\s.\[]", text, maxsplit=1)[0]
        if after.startswith("(") or root in _KEYWORDS or root in IGNORED_ROOTS or root in iteration_variables:
            continue
        if "." not in text and "[" not in text:
            continue  # a bare name: an object key or an iteration variable, never an address
        yield re.sub(r"\s+", "", text)
    for string in strings:
        for inner in expressions(string):
            yield from traversals(inner)


def _parts(traversal: str) -> list[str]:
    return [p for p in re.split(r"\.|\[[^\]]*\]", traversal) if p]


def _walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "//":
                continue
            yield from _walk(inner, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _walk(inner, f"{where}[{index}]")


def stack_for_state_key(key: str, stacks: set[str]) -> str | None:
    """``production/network.tfstate`` -> ``network-production``, ``delivery.tfstate`` -> ``delivery``
    (a stack once per account), when that stack exists."""
    match = re.fullmatch(r"(?:(?:.*/)?([^/]+)/)?([^/]+)\.tfstate", key)
    if match:
        environment, component = match.groups()
        candidate = f"{component}-{environment}" if environment else component
        return candidate if candidate in stacks else None
    return None


def remote_state_sources(document: StackJson, stacks: set[str]) -> dict[str, str | None]:
    """Remote-state data sources of a stack -> the stack whose state they read (None: not ours)."""
    sources: dict[str, str | None] = {}
    remote = ((document.get("data") or {}).get("terraform_remote_state")) or {}
    for name, body in remote.items():
        config = body.get("config") or {}
        source = None
        if isinstance(config.get("key"), str):
            source = stack_for_state_key(config["key"], stacks)
        workspace = (
            ((config.get("workspaces") or {}).get("name")) if isinstance(config.get("workspaces"), dict) else None
        )
        if source is None and isinstance(workspace, str):
            source = next((s for s in sorted(stacks, key=len, reverse=True) if workspace.endswith(s)), None)
        if source is None and isinstance(config.get("path"), str):
            source = next((s for s in stacks if s in config["path"]), None)
        sources[name] = source
    return sources


def check_document(stack: str, document: StackJson, all_documents: Mapping[str, StackJson]) -> list[BrokenReference]:
    """Every reference of one stack that does not resolve."""
    resources = document.get("resource") or {}
    data = document.get("data") or {}
    ephemeral = document.get("ephemeral") or {}
    variables = document.get("variable") or {}
    locals_ = document.get("locals") or {}
    modules = document.get("module") or {}
    providers = document.get("provider") or {}
    remote = remote_state_sources(document, set(all_documents))
    broken: list[BrokenReference] = []

    def resolve(where: str, traversal: str) -> None:
        parts = _parts(traversal)
        root = parts[0]
        problem = None
        if root == "var":
            if len(parts) < 2 or parts[1] not in variables:
                problem = "no such variable"
        elif root == "local":
            if len(parts) < 2 or parts[1] not in locals_:
                problem = "no such local"
        elif root == "module":
            if len(parts) < 2 or parts[1] not in modules:
                problem = "no such module"
        elif root == "ephemeral":
            if len(parts) < 3 or parts[2] not in (ephemeral.get(parts[1]) or {}):
                problem = "no such ephemeral resource"
        elif root == "data":
            if len(parts) < 3 or parts[2] not in (data.get(parts[1]) or {}):
                problem = "no such data source"
            elif parts[1] == "terraform_remote_state":
                problem = _remote_output_problem(parts, remote, all_documents)
        elif len(parts) < 2 or parts[1] not in (resources.get(root) or {}):
            problem = "no such resource"
        if problem:
            broken.append(BrokenReference(stack, where, traversal, problem))

    for where, text in _walk({k: v for k, v in document.items() if k != "//"}, ""):
        if "${" not in text:
            continue
        for expression in expressions(text):
            for traversal in traversals(expression):
                resolve(where, traversal)
    for where, entry in _depends_on(document):
        resolve(where, entry)
    for where, alias in _provider_aliases(document):
        kind, _, name = alias.partition(".")
        declared = {p.get("alias") for p in (providers.get(kind) or []) if isinstance(p, dict)}
        if name not in declared:
            broken.append(BrokenReference(stack, where, alias, "no such provider alias"))
    return broken


def _remote_output_problem(
    parts: list[str], remote: Mapping[str, str | None], all_documents: Mapping[str, StackJson]
) -> str | None:
    if len(parts) < 5 or parts[3] != "outputs":
        return None
    source = remote.get(parts[2])
    if source is None or source not in all_documents:
        return None  # state of a stack outside this synthesis (or not ours): cannot be judged here
    if parts[4] not in (all_documents[source].get("output") or {}):
        return f"stack {source} has no output {parts[4]!r}"
    return None


def _depends_on(document: StackJson) -> Iterator[tuple[str, str]]:
    for block in ("resource", "data"):
        for resource_type, instances in (document.get(block) or {}).items():
            for name, body in instances.items():
                for index, entry in enumerate(body.get("depends_on") or []):
                    if isinstance(entry, str) and "${" not in entry:
                        yield f"{block}.{resource_type}.{name}.depends_on[{index}]", entry


def _provider_aliases(document: StackJson) -> Iterator[tuple[str, str]]:
    for block in ("resource", "data"):
        for resource_type, instances in (document.get(block) or {}).items():
            for name, body in instances.items():
                provider = body.get("provider")
                if isinstance(provider, str) and "." in provider:
                    yield f"{block}.{resource_type}.{name}.provider", provider


def check_all(documents: Mapping[str, StackJson]) -> list[BrokenReference]:
    return [item for name in sorted(documents) for item in check_document(name, documents[name], documents)]
