"""The base of every stack: its name, its backend and its AWS providers."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from cdktf import TerraformStack
from constructs import Construct

from iworkz.backend import configure_backend
from iworkz.context import StackContext
from iworkz.contract import Contract

if TYPE_CHECKING:  # the aws provider loads only in stacks that use it
    from stacks.aws_providers import AwsProviders


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
