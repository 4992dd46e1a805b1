"""Lazy provider import (iworkz/lazy_providers.py): a provider package loads its jsii assembly but only the submodules used."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
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
print(json.dumps({"loaded": sorted(loaded), "vpc": doc["resource"]["aws_vpc"]["vpc"]["cidr_block"]}))
"""


def test_only_the_used_submodules_load_and_the_resource_synthesises() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vpc"] == "10.0.0.0/16"
    assert {"cdktf_cdktf_provider_aws.provider", "cdktf_cdktf_provider_aws.vpc"} <= set(report["loaded"])
    # without the finder the package imports all of its ~2,200 submodules
    assert len(report["loaded"]) < 20, report["loaded"]
