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
# any other one, which only an override adds (``ephemeral``: iworkz_constructs.secret;
# ``removed``: iworkz.migrations.forget).
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

    def alarm_dashboard(self) -> None:
        """The CloudWatch dashboard ``<prefix>-<component>`` of every alarm this stack's constructs made."""
        from iworkz_constructs.alarms import AlarmDashboard, AlarmDashboardProps, alarms_below

        name = f"{self.context.prefix}-{self.context.component}"
        AlarmDashboard(self, "alarm-dashboard", AlarmDashboardProps(name, self.aws.region, alarms_below(self)))

    def require_terraform(self, version_constraint: str) -> None:
        """Sets ``terraform { required_version }`` (e.g. ``">= 1.11"``), in the JSON and the HCL."""
        TerraformVersion(self, "terraform-version", version_constraint)

    def to_hcl_terraform(self) -> Any:
        """cdktf's HCL (``cdktf synth --hcl``) with what its renderer gets wrong or leaves out.

        cdktf 0.21 writes every plain attribute of the ``terraform`` block (``required_version``)
        as ``0 = "required_version"`` and drops the top-level blocks that come from overrides
        (``ephemeral``, ``removed``): both are written here from the stack's JSON form.
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


# Arguments of the meta blocks that name an address (``removed { from = aws_iam_role.x }``),
# and the nested blocks among their arguments.
_ADDRESS_ARGUMENTS = frozenset({"from", "to"})
_NESTED_BLOCKS = frozenset({"lifecycle"})


def _hcl_blocks(kind: str, blocks: list[dict[str, Any]] | dict[str, dict[str, dict[str, Any]]]) -> str:
    """The JSON form's top-level ``kind`` as HCL: unlabeled blocks (``removed``, a list) or labeled
    ones (``ephemeral "type" "name"``)."""
    if isinstance(blocks, list):
        return "".join(f"\n{kind} {{\n{_hcl_body(kind, body)}}}\n" for body in blocks)
    return "".join(
        f'\n{kind} "{block_type}" "{name}" {{\n{_hcl_body(f"{kind}.{block_type}.{name}", body)}}}\n'
        for block_type, instances in blocks.items()
        for name, body in instances.items()
    )


def _hcl_body(where: str, body: dict[str, Any]) -> str:
    lines = []
    for argument, value in body.items():
        if argument in _NESTED_BLOCKS and isinstance(value, dict):
            lines.append(f"{argument} {{\n{_hcl_body(f'{where}.{argument}', value)}}}\n")
        elif isinstance(value, dict):
            raise ValueError(f"{where}.{argument}: a map or nested block is not written to HCL here")
        elif argument in _ADDRESS_ARGUMENTS and isinstance(value, str):
            lines.append(f"{argument} = {value}\n")
        else:
            # A JSON scalar or list is the same HCL literal; strings stay templates in both.
            lines.append(f"{argument} = {json.dumps(value)}\n")
    return "".join(lines)
