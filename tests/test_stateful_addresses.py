"""Stateful resources keep their Terraform addresses (a rename would destroy the data)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from iworkz.policy.addresses import (
    ADDRESSES_FILE,
    KEEP_ADDRESS_HELP,
    NEW_ADDRESS_HELP,
    collect,
    disappeared,
    load,
    merge,
    stateful_addresses,
    unlisted,
)
from iworkz.policy.rules import STATEFUL_TYPES

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "stateful_addresses.py"


def test_no_listed_stateful_address_disappears(synthesized: dict[str, Any]) -> None:
    problems = disappeared(load(), synthesized)
    assert not problems, "\n".join([*problems, KEEP_ADDRESS_HELP])


def test_every_stateful_resource_is_listed(synthesized: dict[str, Any]) -> None:
    problems = unlisted(load(), synthesized)
    assert not problems, "\n".join([*problems, NEW_ADDRESS_HELP])


def test_no_listed_stack_is_missing_from_a_full_synth(synthesized: dict[str, Any]) -> None:
    if os.environ.get("STACKS"):
        return  # a selection synthesises only some stacks
    missing = sorted(set(load()) - set(synthesized))
    assert not missing, f"stacks with stateful resources were not synthesised: {missing}. {KEEP_ADDRESS_HELP}"


def test_the_list_is_sorted_and_only_holds_stateful_types() -> None:
    listed = load()
    assert listed, f"{ADDRESSES_FILE} is empty"
    for stack, addresses in listed.items():
        assert addresses == sorted(set(addresses)), stack
        assert all(address.split(".")[0] in STATEFUL_TYPES for address in addresses), stack


# --- negative tests on hand-made documents ----------------------------------------------------


def _doc(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resources}


def test_fails_when_a_bucket_is_renamed() -> None:
    before = {"data-production": _doc(aws_s3_bucket={"uploads_bucket_1A2B3C4D": {}}, aws_kms_key={"key_5E6F": {}})}
    expected = collect(before)
    assert expected == {"data-production": ["aws_kms_key.key_5E6F", "aws_s3_bucket.uploads_bucket_1A2B3C4D"]}
    renamed = {"data-production": _doc(aws_s3_bucket={"files_bucket_9999": {}}, aws_kms_key={"key_5E6F": {}})}
    assert disappeared(expected, renamed) == [
        "data-production: aws_s3_bucket.uploads_bucket_1A2B3C4D disappeared or was renamed"
    ]
    assert unlisted(expected, renamed) == [
        "data-production: aws_s3_bucket.files_bucket_9999 is not in tests/stateful_addresses.json"
    ]
    for hint in ("construct id", "override_logical_id", "moved", "--update"):
        assert hint in KEEP_ADDRESS_HELP


def test_a_moved_block_keeps_the_address() -> None:
    expected = {"data-production": ["aws_db_instance.postgres_OLD"]}
    moved = _doc(aws_db_instance={"postgres_NEW": {}})
    moved["moved"] = [{"from": "aws_db_instance.postgres_OLD", "to": "aws_db_instance.postgres_NEW"}]
    assert disappeared(expected, {"data-production": moved}) == []


def test_merge_keeps_stacks_that_were_not_synthesised() -> None:
    expected = {"state": ["aws_s3_bucket.a"], "data-dev": ["aws_s3_bucket.old"]}
    merged = merge(expected, {"data-dev": _doc(aws_s3_bucket={"new": {}})})
    assert merged == {"state": ["aws_s3_bucket.a"], "data-dev": ["aws_s3_bucket.new"]}


def test_only_stateful_types_are_collected() -> None:
    document = _doc(aws_s3_bucket={"b": {}}, aws_s3_bucket_policy={"p": {}}, azurerm_key_vault={"kv": {}})
    assert stateful_addresses(document) == ["aws_s3_bucket.b", "azurerm_key_vault.kv"]


def test_the_script_reports_a_rename_and_updates_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("iworkz_stateful_addresses_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    listed = tmp_path / "stateful_addresses.json"
    listed.write_text(json.dumps({"data-dev": ["aws_s3_bucket.uploads_1A"]}))
    stack = tmp_path / "cdktf.out" / "stacks" / "data-dev"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(_doc(aws_s3_bucket={"files_2B": {}})))
    arguments = ["--from-outdir", str(tmp_path / "cdktf.out"), "--file", str(listed)]

    assert script.main(arguments) == 1
    output = capsys.readouterr().out
    assert "data-dev: aws_s3_bucket.uploads_1A disappeared or was renamed" in output
    assert "override_logical_id" in output
    assert script.main([*arguments, "--update"]) == 0
    assert json.loads(listed.read_text()) == {"data-dev": ["aws_s3_bucket.files_2B"]}
    assert script.main(arguments) == 0
