"""``make synth-hcl`` writes HCL that Terraform parses, with the same content as the JSON.

The HCL comes from the cdktf CLI (``cdktf synth --hcl``, started at the beginning of the
session by tests/early.py); the JSON is the session synth. Terraform's own parser checks the
syntax (``terraform fmt``); @cdktf/hcl2json (the CLI's HCL parser, in node_modules) turns each
file back into a document to compare with the JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.early import synth_hcl

TERRAFORM = shutil.which("terraform") or next(
    (path for path in ("/usr/local/bin/terraform", "/usr/bin/terraform") if os.access(path, os.X_OK)), None
)
# Blocks whose instances are addressed <type>.<name> in both forms.
ADDRESSED_BLOCKS = ("resource", "data", "ephemeral")


def _hcl_stacks(result: subprocess.CompletedProcess[str]) -> dict[str, Path]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    outdir = Path(result.args[-1])
    return {path.parent.name: path for path in sorted(outdir.glob("stacks/*/cdk.tf"))}


def _parsed(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """Each stack's HCL as @cdktf/hcl2json reads it."""
    parsed = json.loads((Path(result.args[-1]) / "hcl2json.json").read_text())
    unparsed = {Path(file).parent.name: hcl["//"]["error"] for file, hcl in parsed.items() if "//" in hcl}
    assert not unparsed, f"@cdktf/hcl2json cannot parse: {unparsed}"
    return {Path(file).parent.name: document for file, document in parsed.items()}


def _addresses(document: dict[str, Any]) -> set[str]:
    return {
        f"{block}.{kind}.{name}"
        for block in ADDRESSED_BLOCKS
        for kind, instances in (document.get(block) or {}).items()
        for name in instances
        if name != "//"
    }


def _state_moves(document: dict[str, Any]) -> dict[str, list[tuple[str, ...]]]:
    """The moved, import and removed blocks by the addresses they name (hcl2json writes ``${address}``)."""

    def address(value: Any) -> str:
        return str(value).removeprefix("${").removesuffix("}")

    return {
        kind: sorted(tuple(address(block[key]) for key in keys if key in block) for block in document.get(kind) or [])
        for kind, keys in (("moved", ("from", "to")), ("import", ("to",)), ("removed", ("from",)))
    }


def _unwrap(value: Any) -> Any:
    """HCL's JSON form without its block lists: a block given once is ``[{...}]`` in hcl2json."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return _unwrap(value[0])
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items() if key != "//"}
    return value


@pytest.mark.early(command=synth_hcl)
def test_every_stack_is_written_as_hcl(synthesized: dict[str, Any], early_result) -> None:
    assert sorted(_hcl_stacks(early_result)) == sorted(synthesized)


@pytest.mark.skipif(
    TERRAFORM is None, reason="no terraform binary on PATH or in /usr/local/bin (terraform fmt parses HCL)"
)
@pytest.mark.early(command=synth_hcl)
def test_terraform_parses_every_hcl_stack(early_result) -> None:
    """``terraform fmt`` exits 0 on HCL it can parse and 2 on a syntax error.

    It is not run with ``-check``: that also fails on formatting, and terraform fmt always
    rewrites cdktf's interpolation-only strings (``"${aws_vpc.main.id}"`` -> ``aws_vpc.main.id``).
    """
    environment = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    errors = {}
    for name, path in _hcl_stacks(early_result).items():
        formatted = subprocess.run(
            [str(TERRAFORM), "fmt", "-no-color", "-"],
            input=path.read_text(),
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        if formatted.returncode != 0:
            errors[name] = formatted.stderr.strip()[:2000]
    assert not errors, "\n\n".join(f"{name}/cdk.tf:\n{error}" for name, error in errors.items())


@pytest.mark.early(command=synth_hcl)
def test_hcl_and_json_hold_the_same_resources_state_moves_and_terraform_block(
    synthesized: dict[str, Any], early_result
) -> None:
    parsed = _parsed(early_result)
    assert sorted(parsed) == sorted(synthesized)
    for name, document in synthesized.items():
        hcl = parsed[name]
        assert _addresses(hcl) == _addresses(document), name
        assert sorted(hcl.get("output") or {}) == sorted(document.get("output") or {}), name
        assert _state_moves(hcl) == _state_moves(document), name
        assert _unwrap(hcl["terraform"]) == _unwrap(document["terraform"]), name


@pytest.mark.early(command=synth_hcl)
def test_data_stacks_require_terraform_1_11_in_both_forms(synthesized: dict[str, Any], early_result) -> None:
    """Ephemeral resources and write-only arguments (the JWT secret) need Terraform >= 1.11."""
    data_stacks = [name for name in synthesized if name.startswith("data-")]
    if not data_stacks:
        pytest.skip("no data stack selected")
    parsed = _parsed(early_result)
    for name in data_stacks:
        assert synthesized[name]["terraform"]["required_version"] == ">= 1.11"
        assert _unwrap(parsed[name]["terraform"])["required_version"] == ">= 1.11"
        assert _addresses(parsed[name]) >= {"ephemeral.aws_secretsmanager_random_password.jwt-secret"}
