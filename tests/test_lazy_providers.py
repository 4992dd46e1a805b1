"""Lazy provider import (iworkz/lazy_providers.py): a provider package loads its jsii assembly but only the submodules used.

The same holds in the jsii kernel's node (iworkz/lazy_provider_exports.js): only the provider's
JavaScript modules that the stacks use are required.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iworkz.lazy_providers import NODE_PRELOAD

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
PROBE = f"""
import json, os, sys
import iworkz  # installs the lazy provider import and puts the project's Node first on PATH
from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.vpc import Vpc
app = Testing.app()
stack = TerraformStack(app, "probe")
AwsProvider(stack, "aws", region="ap-northeast-1")
vpc = Vpc(stack, "vpc", cidr_block="10.0.0.0/16")
doc = json.loads(Testing.synth(stack))
loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.") and m.count(".") == 1]
sys.path.insert(0, {str(ROOT / "scripts")!r})
from bench import _rss, tree_pids
node_rss = [_rss(pid) for pid in tree_pids(os.getpid()) if open(f"/proc/{{pid}}/comm").read().strip() == "node"]
print(json.dumps({{"loaded": sorted(loaded), "vpc": doc["resource"]["aws_vpc"]["vpc"]["cidr_block"], "node_rss": node_rss}}))
"""


def _probe() -> list[str]:
    return [sys.executable, "-c", PROBE]


@pytest.mark.early(command=_probe)
def test_only_the_used_submodules_load_and_the_resource_synthesises(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    assert early_result.returncode == 0, early_result.stderr
    report = json.loads(early_result.stdout.strip().splitlines()[-1])
    assert report["vpc"] == "10.0.0.0/16"
    assert {"cdktf_cdktf_provider_aws.provider", "cdktf_cdktf_provider_aws.vpc"} <= set(report["loaded"])
    # without the finder the package imports all of its ~2,200 submodules
    assert len(report["loaded"]) < 20, report["loaded"]
    # jsii's node wrapper and its kernel process; the kernel holds ~650 MB when it requires
    # every aws module, ~160 MB with the preload
    assert len(report["node_rss"]) == 2, report
    assert max(report["node_rss"]) < 400 * MB, report


# A provider package as the jsii kernel lays it out; each module records that it was loaded.
FAKE_MODULE = 'globalThis.loaded = [...(globalThis.loaded || []), __filename.split("/").pop()];\nexports.Thing = 1;\n'
FAKE_INDEX = """"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.beta = exports.alpha = void 0;
exports.alpha = require("./alpha");
exports.beta = require("./beta");
"""
CHECK = """
const index = require(process.argv[1]);
const report = { before: [...(globalThis.loaded || [])], keys: Object.keys(index).sort() };
report.alpha = index.alpha.Thing;
report.after = [...globalThis.loaded];
report.again = index.alpha === index.alpha;
console.log(JSON.stringify(report));
"""


def _run_fake_package(tmp_path: Path, package: str) -> dict[str, object]:
    lib = tmp_path / "node_modules" / package / "lib"
    lib.mkdir(parents=True)
    (lib / "index.js").write_text(FAKE_INDEX)
    for name in ("alpha", "beta"):
        (lib / f"{name}.js").write_text(FAKE_MODULE)
    env = {**os.environ, "NODE_OPTIONS": f"--require {json.dumps(str(NODE_PRELOAD))}"}
    result = subprocess.run(
        ["node", "-e", CHECK, str(lib / "index.js")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_a_provider_index_requires_each_module_on_first_use(tmp_path: Path) -> None:
    report = _run_fake_package(tmp_path, "@cdktf/provider-fake")
    assert report["before"] == [], "nothing is required before it is used"
    assert report["keys"] == ["alpha", "beta"]  # every export is still listed
    assert report["alpha"] == 1
    assert report["after"] == ["alpha.js"]
    assert report["again"] is True


def test_other_packages_load_as_before(tmp_path: Path) -> None:
    report = _run_fake_package(tmp_path, "not-a-provider")
    assert report["before"] == ["alpha.js", "beta.js"]


def test_the_finder_survives_importlib_invalidate_caches() -> None:
    """pytest's monkeypatch.syspath_prepend and importlib.invalidate_caches() call every meta-path finder."""
    import importlib

    importlib.invalidate_caches()
