"""Finds literal secrets in text and in synthesised Terraform JSON.

Two kinds of finding:
- a pattern that is a secret wherever it appears: a private key block, an AWS access key id,
  an AWS secret access key assignment, GitHub/Slack/Google tokens;
- a password-like attribute (``password``, ``auth_token``, ``secret_string``, ``shared_key``,
  ``client_secret``, ``adminPassword``, ...) holding a literal value instead of a reference
  (``${...}``) or a lookup from a secret store. Strings that hold YAML or JSON documents
  (Helm values, Kubernetes manifests, policies) are parsed and searched the same way.

``python -m iworkz.policy.secret_scan [FILE ...]`` (part of ``make lint``) scans the given
files, or every file git tracks or would add (``.gitignore`` respected); exit status 1 on a
finding, printed with its place and a masked excerpt.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
    ),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
}

# Attribute names (snake_case after normalisation) whose value must never be a literal.
_SENSITIVE_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|auth_token|secret_string|shared_key|client_secret|secret_access_key|"
    r"private_key|api_key|access_token|sas_token|bearer_token|admin_password|master_password)$"
)
# Values that are not secrets: references, templates, placeholders in angle brackets, and
# names of Terraform types (e.g. a constant naming aws_secretsmanager_random_password).
_NOT_LITERAL = re.compile(
    r"^\s*(?:\$\{.*\}|\{\{.*\}\}|\$\(.*\)|<[a-z0-9_-]+>|(?:aws|azurerm|kubernetes|helm|random)_[a-z0-9_]+)\s*$",
    re.DOTALL,
)
_PYTHON_ASSIGNMENT = re.compile(
    r"""(?ix)\b([a-z_]*(?:password|passwd|auth_token|secret_string|shared_key|client_secret|secret_access_key))
    \s*[:=]\s*["']([^"'\n]{4,})["']"""
)
# safe_load_all through libyaml (in PyYAML's wheels) when available: the output holds ~300 YAML
# documents (Helm values, manifests), which the pure-Python parser reads ~8x slower.
_YAML_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
_YAML_ASSIGNMENT = re.compile(r"""(?m)^[ \t-]*([A-Za-z_][\w-]*)[ \t]*:[ \t]*["']?([^"'#\n]+?)["']?[ \t]*(?:#.*)?$""")


@dataclass(frozen=True)
class SecretFinding:
    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.excerpt}"


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()


def is_sensitive_name(name: str) -> bool:
    return bool(_SENSITIVE_NAME.search(snake(name)))


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 4 else "…"


def scan_text(text: str, where: str) -> Iterator[SecretFinding]:
    """Secret patterns anywhere in a text."""
    for kind, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield SecretFinding(f"{where}:{line}", kind, _mask(match.group(0)))


def scan_source(text: str, where: str) -> Iterator[SecretFinding]:
    """Patterns, plus assignments of quoted literals to password-like names in source and YAML files."""
    yield from scan_text(text, where)
    for match in _PYTHON_ASSIGNMENT.finditer(text):
        name, value = match.group(1), match.group(2)
        if is_sensitive_name(name) and not _NOT_LITERAL.match(value):
            line = text.count("\n", 0, match.start()) + 1
            yield SecretFinding(f"{where}:{line}", f"literal value of {name}", _mask(value))
    if where.endswith((".yaml", ".yml")):
        for match in _YAML_ASSIGNMENT.finditer(text):
            name, value = match.group(1), match.group(2).strip()
            if is_sensitive_name(name) and value and value not in ("null", "~", '""') and not _NOT_LITERAL.match(value):
                line = text.count("\n", 0, match.start()) + 1
                yield SecretFinding(f"{where}:{line}", f"literal value of {name}", _mask(value))


def scan_document(document: Any, where: str) -> Iterator[SecretFinding]:
    """Password-like attributes with literal values anywhere in a JSON-like document."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "//":
                continue
            path = f"{where}.{key}" if where else str(key)
            embedded = _parse_embedded(value) if isinstance(value, str) else None
            if embedded is not None:
                # e.g. secret_string = jsonencode({...}): the fields inside are judged, not the document.
                yield from scan_document(embedded, f"{path}<embedded>")
                continue
            if isinstance(key, str) and is_sensitive_name(key) and _is_literal(value):
                yield SecretFinding(path, f"literal value of {key}", _mask(str(value)))
            yield from scan_document(value, path)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from scan_document(value, f"{where}[{index}]")
    elif isinstance(document, str):
        embedded = _parse_embedded(document)
        if embedded is not None:
            yield from scan_document(embedded, f"{where}<embedded>")


def _is_literal(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and value.strip() != "" and not _NOT_LITERAL.match(value)


def _parse_embedded(text: str) -> Any:
    """A JSON or YAML mapping/list held in a string (None for plain strings)."""
    if "\n" not in text and not text.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        documents = [d for d in yaml.load_all(text, Loader=_YAML_LOADER) if d is not None]
    except yaml.YAMLError:
        return None
    if not documents or all(isinstance(d, str) for d in documents):
        return None
    return documents if len(documents) > 1 else documents[0]


def scan_stack(name: str, document: dict[str, Any]) -> list[SecretFinding]:
    """Everything in one synthesised stack: patterns in its text and literal password-like values."""
    text = json.dumps(document, indent=1)
    return [*scan_text(text, f"{name}/cdk.tf.json"), *scan_document(document, name)]


MAX_FILE_BYTES = 2_000_000  # larger files are generated or vendored, not written by hand


def repository_files(root: Path) -> list[Path]:
    """Every file git tracks or would add under ``root`` (ignored files left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = [root / name for name in listed.split("\0") if name]
    return [f for f in files if f.is_file() and f.stat().st_size <= MAX_FILE_BYTES]


def scan_files(files: list[Path], root: Path) -> list[SecretFinding]:
    findings: list[SecretFinding] = []
    for path in files:
        raw = path.read_bytes()
        if b"\0" in raw:
            continue  # binary
        where = str(path.resolve().relative_to(root)) if path.resolve().is_relative_to(root) else str(path)
        findings.extend(scan_source(raw.decode("utf-8", errors="replace"), where))
    return findings


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    root = Path.cwd().resolve()
    files = [Path(name) for name in arguments] if arguments else repository_files(root)
    findings = scan_files(files, root)
    for finding in findings:
        print(f"error: {finding}", file=sys.stderr)
    print(f"secret scan: {len(files)} files, {len(findings)} literal secrets")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
