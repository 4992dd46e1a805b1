"""Core of the iWORKZ cdktf application: configuration, stack registry and synth driver."""

import os
from pathlib import Path

from iworkz import jsii_node, lazy_providers

# jsii starts `node` from PATH on the first cdktf import. Put the project's Node 22
# (package.json) first so that no end-of-life banner appears and providers load faster.
_PROJECT_NODE_BIN = Path(__file__).resolve().parents[1] / "node_modules" / ".bin"
if (_PROJECT_NODE_BIN / "node").exists() and not os.environ.get("PATH", "").startswith(str(_PROJECT_NODE_BIN)):
    os.environ["PATH"] = f"{_PROJECT_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
# The jsii runtime calls util.isArray, which Node 22 reports as deprecated on every run.
os.environ.setdefault("NODE_OPTIONS", "--no-deprecation")
# Provider packages load only the resource modules the stacks use, in Python and in node (see
# lazy_providers and the README's Performance section for what it saves).
lazy_providers.install()
# cdktf runs `terraform version` for every import and moved block's validation: once is enough.
jsii_node.preload(jsii_node.TERRAFORM_VERSION_ONCE)
# Tokens made from Python carry the jsii kernel's frames as their creation stack: not worth recording.
jsii_node.preload(jsii_node.NO_TOKEN_CREATION_STACKS)
# One node, not jsii's launcher and a kernel process behind it relaying every round trip.
jsii_node.run_kernel_directly()
