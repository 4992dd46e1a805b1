"""Typed stack contracts: the declared interface between a stack and the stacks built on it.

A contract is a frozen dataclass (see :mod:`iworkz.contracts`). Each field is one of:

- ``Annotated[T, Published("...")]``: the producer writes it as a named ``TerraformOutput``
  (:meth:`Contract.publish`), and a consumer reads it from the producer's state through one
  ``terraform_remote_state`` data source (:meth:`Contract.remote`). ``T`` is ``str``, a
  ``list[str]`` (``count`` says how many elements, from configuration) or a
  ``Mapping[str, str]`` (``keys`` says which keys);
- ``Annotated[T, Configured()]``: a fact both sides know from configuration at synth time
  (a database name, the zones of the OpenSearch domain); the contract's :meth:`Contract.configured`
  computes it for producer and consumer alike (:meth:`Contract.of` fills it in for the producer).
  ``Published(..., configured=True)`` is both: published for people and tools, while consumers
  take the configured value (a CIDR block stays a literal in their Terraform);
- another contract: its fields, with the field name as prefix of their output names.

Because a consumer never touches the producer's constructs, cdktf creates no outputs on the
producer's behalf: a stack's outputs are exactly its contract's published fields, the same in
every synth whichever stacks were selected, and a consumer builds without its producers.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Self

from iworkz.context import StackContext

if TYPE_CHECKING:
    from cdktf import TerraformRemoteState, TerraformStack


# Where a contract read from state keeps the reads of its published fields not used yet.
_REMOTE_READS = "_remote_reads"


class ContractError(RuntimeError):
    """A producer built another value than the one its consumers read from configuration (a bug)."""


@dataclass(frozen=True)
class Published:
    """A contract field the producer publishes as a Terraform output."""

    description: str
    # The output's name when it is not the (prefixed) field name, e.g. a name from the design.
    name: str | None = None
    sensitive: bool = False
    # list fields: the number of elements; mapping fields: the keys (both from configuration).
    count: Callable[[StackContext], int] | None = None
    keys: Callable[[StackContext], Sequence[str]] | None = None
    # Consumers take the value from Contract.configured instead of the producer's state.
    configured: bool = False


@dataclass(frozen=True)
class Configured:
    """A contract field known from configuration; :meth:`Contract.configured` computes it."""

    description: str = ""


@dataclass(frozen=True)
class _Field:
    path: tuple[str, ...]  # attribute names from the outermost contract
    output: str
    spec: Published
    kind: type


class Contract:
    """Base of the stack contracts: frozen dataclasses of published and configured fields."""

    # The registry component whose stack produces this contract (top-level contracts only).
    component: ClassVar[str] = ""

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        """The configured fields of this contract for the producer's ``context``."""
        return {}

    @classmethod
    def of(cls, context: StackContext, **values: Any) -> Self:
        """The producer's contract: the values it built, the configured ones filled in."""
        return cls(**{**cls.configured(context), **values})

    # --- producer side ------------------------------------------------------------------------

    def publish(self, stack: TerraformStack, context: StackContext) -> Self:
        """Writes every published field as a Terraform output of ``stack``; returns the contract.

        A field consumers take from configuration must be what the producer built: otherwise
        they would see another value than its output (a bug in the contract, not bad input).
        """
        from cdktf import TerraformOutput

        for field in _published_fields(type(self)):
            value: Any = self
            owner: Any = self
            for attribute in field.path:
                owner, value = value, getattr(value, attribute)
            if field.spec.configured:
                expected = type(owner).configured(context)[field.path[-1]]
                if value != expected:  # not an assert: the synth runs under python -O
                    raise ContractError(f"{stack.node.id}: {field.output} is {value!r}, consumers expect {expected!r}")
            TerraformOutput(
                stack,
                field.output,
                value=value,
                description=field.spec.description,
                sensitive=field.spec.sensitive or None,
            )
        return self

    # --- consumer side ------------------------------------------------------------------------

    @classmethod
    def remote(cls, consumer: TerraformStack, producer: StackContext) -> Self:
        """This contract as ``consumer`` sees it: published fields read from ``producer``'s state."""
        from iworkz.backend import remote_state

        states: dict[str, TerraformRemoteState] = consumer.__dict__.setdefault("_contract_remote_states", {})
        if producer.name not in states:
            states[producer.name] = remote_state(consumer, producer)
        return cls._read(states[producer.name], producer, ())

    @classmethod
    def _read(cls, state: TerraformRemoteState, producer: StackContext, path: tuple[str, ...]) -> Self:
        configured = cls.configured(producer)
        contract = object.__new__(cls)  # the published fields are read from state on first use
        reads: dict[str, Callable[[], Any]] = {}
        for name, (kind, spec) in _fields(cls).items():
            if isinstance(spec, Configured) or (isinstance(spec, Published) and spec.configured):
                object.__setattr__(contract, name, configured[name])
            elif isinstance(spec, type) and issubclass(spec, Contract):
                object.__setattr__(contract, name, spec._read(state, producer, (*path, name)))
            else:
                reads[name] = partial(_read_output, state, producer, _output_name((*path, name), spec), kind, spec)
        object.__setattr__(contract, _REMOTE_READS, reads)
        return contract

    if not TYPE_CHECKING:  # for mypy, a contract has exactly its declared fields

        def __getattr__(self, name: str) -> Any:
            """A published field of a contract read from state, on its first use: each read costs jsii
            round trips, and a consumer uses a few of a producer's fields (the JSON is the same)."""
            reads = self.__dict__.get(_REMOTE_READS)
            if reads is None or name not in reads:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = reads.pop(name)()
            object.__setattr__(self, name, value)
            return value

    # --- introspection (tests, docs) ----------------------------------------------------------

    @classmethod
    def output_names(cls) -> list[str]:
        """The names of the outputs a producer of this contract publishes."""
        return [field.output for field in _published_fields(cls)]


def _output_name(path: tuple[str, ...], spec: Published) -> str:
    return spec.name or "_".join(path)


def _read_output(state: TerraformRemoteState, producer: StackContext, output: str, kind: type, spec: Published) -> Any:
    """The value of ``output`` of the producer's state, as a string, a list or a mapping of strings."""
    from cdktf import Fn, Token

    if kind is list:
        assert spec.count is not None, f"{output}: a list field needs count"
        whole = state.get_list(output)
        return [Token.as_string(Fn.element(whole, i)) for i in range(spec.count(producer))]
    if kind is Mapping:
        assert spec.keys is not None, f"{output}: a mapping field needs keys"
        whole_map = state.get(output)
        return {key: Token.as_string(Fn.lookup(whole_map, key)) for key in spec.keys(producer)}
    return state.get_string(output)


def _fields(cls: type[Contract]) -> dict[str, tuple[type, Published | Configured | type[Contract]]]:
    """Each dataclass field with its kind (str, list or Mapping) and its Published/Configured marker."""
    assert dataclasses.is_dataclass(cls), f"{cls.__name__} must be a dataclass"
    hints = typing.get_type_hints(cls, include_extras=True)
    found: dict[str, tuple[type, Published | Configured | type[Contract]]] = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if isinstance(hint, type) and issubclass(hint, Contract):
            found[field.name] = (hint, hint)
            continue
        assert typing.get_origin(hint) is typing.Annotated, f"{cls.__name__}.{field.name} needs a marker"
        base, *markers = typing.get_args(hint)
        marker = next(m for m in markers if isinstance(m, Published | Configured))
        origin = typing.get_origin(base) or base
        kind: type = list if origin is list else Mapping if origin in (dict, Mapping) else str
        found[field.name] = (kind, marker)
    return found


def _published_fields(cls: type[Contract], path: tuple[str, ...] = ()) -> Iterator[_Field]:
    for name, (kind, spec) in _fields(cls).items():
        if isinstance(spec, Published):
            yield _Field((*path, name), _output_name((*path, name), spec), spec, kind)
        elif isinstance(spec, type):
            yield from _published_fields(spec, (*path, name))
