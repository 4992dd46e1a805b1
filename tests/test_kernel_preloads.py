"""The scripts preloaded into the jsii kernel's node (iworkz/jsii_node.py) patch exactly their cdktf module.

Each runs here in a plain node over a fake cdktf tree laid out as the kernel loads it, and its
pattern is checked against the real module of the pinned cdktf.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from iworkz import jsii_node

ROOT = Path(__file__).resolve().parents[1]
CDKTF_LIB = ROOT / "node_modules" / "cdktf" / "lib"

FAKE_VALIDATION = """
let runs = 0;
class ValidateBinaryVersion {
  constructor(binary, constraint) { this.binary = binary; this.versionCommand = "version";
    this.versionConstraint = constraint; this.hint = "h"; }
  validate() { runs += 1; return [`checked ${this.versionConstraint}`]; }
}
exports.ValidateBinaryVersion = ValidateBinaryVersion;
exports.runs = () => runs;
"""
FAKE_STACK_TRACE = 'exports.captureStackTrace = function captureStackTrace() { return ["frame"]; };\n'
CHECK = """
const lib = process.argv[1];
const { ValidateBinaryVersion, runs } = require(lib + "/validations/validate-binary-version.js");
const first = new ValidateBinaryVersion("terraform", ">=1.5").validate();
const again = new ValidateBinaryVersion("terraform", ">=1.5").validate();
again.push("the caller's own");
const other = new ValidateBinaryVersion("terraform", ">=1.9").validate();
const third = new ValidateBinaryVersion("terraform", ">=1.5").validate();
const traces = require(lib + "/tokens/private/stack-trace.js");
console.log(JSON.stringify({ first, third, other, runs: runs(), stack: traces.captureStackTrace() }));
"""


def _run(tmp_path: Path, *preloads: Path) -> dict[str, object]:
    lib = tmp_path / "node_modules" / "cdktf" / "lib"
    (lib / "validations").mkdir(parents=True)
    (lib / "tokens" / "private").mkdir(parents=True)
    (lib / "validations" / "validate-binary-version.js").write_text(FAKE_VALIDATION)
    (lib / "tokens" / "private" / "stack-trace.js").write_text(FAKE_STACK_TRACE)
    options = " ".join(f"--require {json.dumps(str(script))}" for script in preloads)
    env = {**os.environ, "NODE_OPTIONS": options}
    result = subprocess.run(["node", "-e", CHECK, str(lib)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_without_the_preloads_cdktf_runs_as_it_ships(tmp_path: Path) -> None:
    report = _run(tmp_path)
    assert report["runs"] == 4 and report["stack"] == ["frame"]


def test_each_distinct_version_validation_runs_once(tmp_path: Path) -> None:
    report = _run(tmp_path, jsii_node.TERRAFORM_VERSION_ONCE)
    assert report["runs"] == 2  # >=1.5 once, >=1.9 once
    assert report["first"] == report["third"] == ["checked >=1.5"]  # a caller's push changed no later result
    assert report["other"] == ["checked >=1.9"]
    assert report["stack"] == ["frame"]


def test_tokens_record_no_creation_stack(tmp_path: Path) -> None:
    report = _run(tmp_path, jsii_node.TERRAFORM_VERSION_ONCE, jsii_node.NO_TOKEN_CREATION_STACKS)
    assert report["stack"] == []
    assert report["runs"] == 2  # both preloads share one module hook


@pytest.mark.parametrize(
    ("script", "module"),
    [
        (jsii_node.TERRAFORM_VERSION_ONCE, "validations/validate-binary-version.js"),
        (jsii_node.NO_TOKEN_CREATION_STACKS, "tokens/private/stack-trace.js"),
    ],
)
def test_the_pattern_names_the_module_of_the_pinned_cdktf(script: Path, module: str) -> None:
    """The patched module exists under that name in cdktf 0.21 and exports what the patch replaces."""
    real = CDKTF_LIB / module
    source = real.read_text(encoding="utf-8")
    (pattern,) = re.findall(r"^const [A-Z_]+ = /(.+)/;$", script.read_text(encoding="utf-8"), re.MULTILINE)
    assert re.search(pattern, str(real)), (pattern, real)
    exported = "ValidateBinaryVersion" if "validations" in module else "captureStackTrace"
    assert f"exports.{exported} = {exported}" in source
