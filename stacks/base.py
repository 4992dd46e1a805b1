"""The base of every stack: its name, its backend, its Terraform version and its AWS providers."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cdktf import TerraformElement, TerraformStack
from constructs import Construct

from iworkz.backend import configure_backend
from iworkz.context import StackContext
from iworkz.contract import Contract

if TYPE_CHECKING:  # the aws provider loads only in stacks that use it
    from stacks.aws_providers import AwsProviders

# Plain attributes of the terraform block, which cdktf 0.21's HCL renderer cannot write.
PLAIN_SETTINGS = ("required_version",)
# The top-level blocks that cdktf 0.21's HCL renderer writes (and its metadata, "//"); it drops
# any other one (e.g. ``ephemeral``: cdktf has no class for it, iworkz_constructs.secret adds it).
HCL_RENDERED_BLOCKS = frozenset(
    {"//", "terraform", "locals", "provider", "resource", "data", "module", "output", "moved", "import", "variable"}
)


class IworkzStack(TerraformStack):
    """A stack named ``<component>-<environment>`` with its backend (:mod:`iworkz.backend`).

    The registry constructs it, then calls :meth:`build` with the contracts of the stacks it
    reads (keyword arguments named after their components) and publishes what it returns.
    """

    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context.name)
        self.context = context
        self.outputs: Contract | None = None
        configure_backend(self, context)

    # build(<component>=<contract>, ...): wires configuration and the producers' contracts into
    # constructs and returns this stack's contract. Each stack defines it with typed parameters.
    build: Callable[..., Contract | None]

    @cached_property
    def aws(self) -> AwsProviders:
        from stacks.aws_providers import AwsProviders

        return AwsProviders(self, self.context)

    def require_terraform(self, version_constraint: str) -> None:
        """Sets ``terraform { required_version }`` (e.g. ``">= 1.11"``), in the JSON and the HCL."""
        TerraformVersion(self, "terraform-version", version_constraint)

    def to_hcl_terraform(self) -> Any:
        """cdktf's HCL (``cdktf synth --hcl``) with what its renderer gets wrong or leaves out.

        cdktf 0.21 writes every plain attribute of the ``terraform`` block (``required_version``)
        as ``0 = "required_version"`` and drops the top-level blocks it has no class for
        (``ephemeral``): both are written here from the stack's JSON form.
        """
        rendered = super().to_hcl_terraform()
        document = super().to_terraform()
        settings = {key: value for key, value in (document.get("terraform") or {}).items() if key in PLAIN_SETTINGS}
        hcl = str(rendered["hcl"])
        if settings:
            head = "terraform {\n"
            if not hcl.startswith(head):
                raise AssertionError(f"{self.node.id}: cdktf's HCL no longer starts with the terraform block")
            hcl = head + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()) + hcl[len(head) :]
        dropped = {key: value for key, value in document.items() if key not in HCL_RENDERED_BLOCKS}
        return {**rendered, "hcl": hcl + "".join(_hcl_blocks(kind, blocks) for kind, blocks in dropped.items())}


class TerraformVersion(TerraformElement):
    """``terraform { required_version = <constraint> }`` of its stack (cdktf 0.21 has no API for it).

    The JSON form takes the fragment as it takes a backend's; the HCL form is written by
    :meth:`IworkzStack.to_hcl_terraform`, since cdktf's renderer cannot write the attribute.
    """

    def __init__(self, scope: Construct, id: str, version_constraint: str) -> None:
        super().__init__(scope, id)
        self.version_constraint = version_constraint

    def to_terraform(self) -> Any:
        return {"terraform": {"required_version": self.version_constraint}}


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
