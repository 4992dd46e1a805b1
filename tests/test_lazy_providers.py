"""Lazy provider import (iworkz/lazy_providers.py): a provider package loads its jsii assembly but only the submodules used.

The same holds in the jsii kernel's node (iworkz/lazy_provider_exports.js): only the provider's
JavaScript modules that the stacks use are required.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from iworkz.lazy_providers import NODE_PRELOAD
from tests.early import network_only_report, network_only_synth

MB = 1_000_000


@pytest.mark.early(command=network_only_synth)
def test_only_the_used_submodules_load_and_the_resources_synthesise(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    probe = network_only_report(early_result)
    network = json.loads((probe["outdir"] / "stacks" / "network-production" / "cdk.tf.json").read_text())
    (vpc,) = network["resource"]["aws_vpc"].values()
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert {"cdktf_cdktf_provider_aws.provider", "cdktf_cdktf_provider_aws.vpc"} <= set(probe["aws_submodules"])
    # the network stack uses ~25 resource types; without the finder the package imports all ~2,200
    assert len(probe["aws_submodules"]) < 40, probe["aws_submodules"]
    # one node: the kernel runs in the node jsii starts (iworkz/jsii_kernel.js), not behind jsii's
    # launcher; it holds ~650 MB when it requires every aws module, ~180 MB with the preload
    assert len(probe["node_rss"]) == 1, probe
    assert max(probe["node_rss"]) < 400 * MB, probe


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
