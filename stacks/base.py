"""The base of every stack: its name, its backend, its Terraform version and its AWS providers."""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from constructs import Construct

from iworkz.app import StackContext
from iworkz.registry import STATE_STACK

if TYPE_CHECKING:  # the aws provider loads only in stacks that use it
    from stacks.aws_providers import AwsProviders

LOCAL_STATE_FILE = "terraform.state.tfstate"
# The top-level blocks that cdktf 0.21's HCL renderer writes (and its metadata, "//"); it silently drops any other one
# (e.g. ``ephemeral``, which cdktf has no class for and iworkz_constructs.secret adds by override).
HCL_RENDERED_BLOCKS = frozenset(
    {"//", "terraform", "locals", "provider", "resource", "data", "module", "output", "moved", "import", "variable"}
)


class IworkzStack(TerraformStack):
    """A stack named ``<component>-<environment>`` whose state lives in the shared backend."""

    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context.name)
        self.context = context
        self.required_version: str | None = None
        if context.component == STATE_STACK:
            # The state stack creates the bucket the others use: it keeps its own state
            # locally until it is migrated (README: bootstrapping the state backend).
            LocalBackend(self, path=LOCAL_STATE_FILE)
        else:
            use_shared_backend(self, context)

    @cached_property
    def aws(self) -> AwsProviders:
        from stacks.aws_providers import AwsProviders

        return AwsProviders(self, self.context)

    def require_terraform(self, version_constraint: str) -> None:
        """Sets ``terraform { required_version }`` (e.g. ``">= 1.11"``) in the JSON and the HCL.

        cdktf 0.21 has no API for it, and its HCL renderer writes every plain attribute of the
        ``terraform`` block given by ``add_override`` as ``0 = "required_version"``: the stack
        adds it to both documents itself (:meth:`to_terraform`, :meth:`to_hcl_terraform`).
        """
        self.required_version = version_constraint

    def to_terraform(self) -> Any:
        document = super().to_terraform()
        if self.required_version is not None:
            document.setdefault("terraform", {})["required_version"] = self.required_version
        return document

    def to_hcl_terraform(self) -> Any:
        """cdktf's HCL (``cdktf synth --hcl``) with what its renderer leaves out added back:
        ``required_version`` and the top-level blocks it does not know (``ephemeral``)."""
        rendered = super().to_hcl_terraform()
        hcl = str(rendered["hcl"])
        if self.required_version is not None:
            head = "terraform {\n"
            if not hcl.startswith(head):
                raise AssertionError(f"{self.node.id}: cdktf's HCL no longer starts with the terraform block")
            hcl = f"{head}required_version = {json.dumps(self.required_version)}\n{hcl[len(head) :]}"
        dropped = {key: value for key, value in super().to_terraform().items() if key not in HCL_RENDERED_BLOCKS}
        return {**rendered, "hcl": hcl + "".join(_hcl_blocks(kind, blocks) for kind, blocks in dropped.items())}


def use_shared_backend(stack: TerraformStack, context: StackContext) -> None:
    """S3 (key ``<environment>/<component>.tfstate``) or Terraform Cloud, from config/common.yaml."""
    backend = context.common.backend
    if backend.type == "cloud":
        assert backend.cloud is not None
        CloudBackend(
            stack,
            organization=backend.cloud.organization,
            hostname=backend.cloud.hostname,
            workspaces=NamedCloudWorkspace(f"{backend.cloud.workspace_prefix}{context.name}"),
        )
        return
    s3 = backend.s3
    S3Backend(
        stack,
        bucket=s3.bucket,
        key=f"{context.environment_name}/{context.component}.tfstate",
        region=s3.region,
        encrypt=True,
        dynamodb_table=s3.lock_table,
    )
    if s3.use_lockfile:
        # cdktf 0.21 predates S3-native locking (Terraform >= 1.11); the DynamoDB table stays.
        stack.add_override("terraform.backend.s3.use_lockfile", True)


def _hcl_blocks(kind: str, blocks: dict[str, dict[str, dict[str, Any]]]) -> str:
    """``kind "type" "name" { ... }`` for each block of the JSON form (attributes only)."""
    rendered = []
    for block_type, instances in blocks.items():
        for name, body in instances.items():
            lines = []
            for attribute, value in body.items():
                if isinstance(value, dict):
                    raise ValueError(f"{kind}.{block_type}.{name}.{attribute}: nested blocks are not rendered to HCL")
                # A JSON scalar or list is the same HCL literal; strings stay templates in both.
                lines.append(f"{attribute} = {json.dumps(value)}\n")
            rendered.append(f'\n{kind} "{block_type}" "{name}" {{\n{"".join(lines)}}}\n')
    return "".join(rendered)
