"""The mechanics of iworkz.contract on a contract of the test's own: reads on first use, and the
check that a configured field is what the producer built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from cdktf import TerraformStack, Token

from iworkz.config import Settings
from iworkz.context import StackContext
from iworkz.contract import Configured, Contract, ContractError, Published
from iworkz.registry import plan
from tests.tf import new_app, synth_stack


def _zones(context: StackContext) -> int:
    return 2


@dataclass(frozen=True)
class Sample(Contract):
    vpc_id: Annotated[str, Published("the VPC")]
    zones: Annotated[list[str], Published("the zones", count=_zones)]
    name: Annotated[str, Published("a name consumers also know from configuration", configured=True)]
    region: Annotated[str, Configured("the region")]

    @classmethod
    def configured(cls, context: StackContext) -> Mapping[str, Any]:
        return {"name": f"{context.prefix}-sample", "region": context.env.aws.region}


@pytest.fixture
def producer(settings: Settings) -> StackContext:
    planned, _ = plan(settings, ["network"])
    return planned[0].context(settings)


def test_a_contract_read_from_state_reads_each_output_on_first_use(producer: StackContext) -> None:
    consumer = TerraformStack(new_app(), "consumer")
    contract = Sample.remote(consumer, producer)
    assert {"vpc_id", "zones"}.isdisjoint(vars(contract))  # nothing read from state yet
    assert contract.name == f"{producer.prefix}-sample" and contract.region == producer.env.aws.region
    vpc_id = contract.vpc_id
    assert Token.is_unresolved(vpc_id) and contract.vpc_id is vpc_id  # read once, then kept
    assert len(contract.zones) == 2 and all(Token.is_unresolved(zone) for zone in contract.zones)
    with pytest.raises(AttributeError, match="no attribute 'subnets'"):
        contract.subnets  # type: ignore[attr-defined]  # noqa: B018  (a field the contract does not have)
    document = synth_stack(consumer)
    assert len(document["data"]["terraform_remote_state"]) == 1


def test_an_unread_contract_still_reads_its_producers_state(producer: StackContext) -> None:
    """The data source exists whether or not a field is used: the JSON does not depend on use."""
    consumer = TerraformStack(new_app(), "consumer")
    Sample.remote(consumer, producer)
    document = synth_stack(consumer)
    assert len(document["data"]["terraform_remote_state"]) == 1


def test_publishing_a_configured_field_the_producer_built_otherwise_fails(producer: StackContext) -> None:
    stack = TerraformStack(new_app(), "producer")
    built = Sample(vpc_id="vpc-1", zones=["a", "b"], name="another-name", region=producer.env.aws.region)
    with pytest.raises(ContractError, match="consumers expect"):
        built.publish(stack, producer)
