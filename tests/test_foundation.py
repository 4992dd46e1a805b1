"""Foundation: packaging, the shared state backend of every stack, provider defaults, the state stack."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from iworkz.config import load_settings
from iworkz.context import StackContext
from iworkz.registry import plan
from tests.configs import ENVIRONMENTS, write_config
from tests.tf import new_app, one, outputs, policy_json, resources, synth_stack

ROOT = Path(__file__).resolve().parents[1]


def test_constructs_package_is_not_shadowed():
    import constructs

    import iworkz_constructs.kms_key

    assert "site-packages" in constructs.__file__, constructs.__file__
    assert Path(iworkz_constructs.kms_key.__file__).parent == ROOT / "constructs"
    assert not (ROOT / "constructs" / "__init__.py").exists(), "constructs/__init__.py would shadow PyPI's constructs"


def test_dependencies_are_pinned_exactly():
    text = (ROOT / "pyproject.toml").read_text()
    for pin in (
        "cdktf==0.21.0",
        "cdktf-cdktf-provider-aws==21.22.1",
        "cdktf-cdktf-provider-azurerm==14.23.1",
        "cdktf-cdktf-provider-kubernetes==12.1.1",
        "cdktf-cdktf-provider-helm==12.1.2",
    ):
        assert f'"{pin}"' in text
    package = json.loads((ROOT / "package.json").read_text())
    assert package["devDependencies"]["cdktf-cli"] == "0.21.0"  # the CLI: not what a synth needs
    assert set(package["dependencies"]) == {"node"}
    assert re.fullmatch(r"2[2-9]\.\d+\.\d+", package["dependencies"]["node"])


def test_every_stack_of_every_environment_is_synthesised(synthesized, settings):
    if os.environ.get("STACKS") or os.environ.get("ENVS"):
        pytest.skip("a STACKS/ENVS selection synthesises only part of the app")
    planned, _ = plan(settings, None)
    assert sorted(synthesized) == sorted(stack.name for stack in planned)
    assert "state" in synthesized
    for env in settings.environments:
        assert f"network-{env}" in synthesized


def test_every_stack_but_state_uses_the_shared_s3_backend(synthesized):
    for name, doc in synthesized.items():
        backend = doc["terraform"]["backend"]
        if name == "state":
            # Bootstrap state outside cdktf.out (iworkz/backend.py): no synth or `make clean` deletes it.
            assert backend == {"local": {"path": "../../../state-bootstrap/terraform.tfstate"}}
            continue
        match = re.fullmatch(rf"(.+)-({'|'.join(ENVIRONMENTS)})", name)
        # once per account (delivery, security): <component>.tfstate at the top of the bucket
        key = f"{match.group(2)}/{match.group(1)}.tfstate" if match else f"{name}.tfstate"
        assert backend["s3"] == {
            "bucket": "iworkz-terraform-state",
            "key": key,
            "region": "ap-northeast-1",
            "encrypt": True,
            "dynamodb_table": "terraform-lock",
            "use_lockfile": True,
        }, name


def test_aws_providers_carry_the_seed_default_tags(synthesized):
    for name, doc in synthesized.items():
        for provider in doc.get("provider", {}).get("aws", []):
            tags = provider["default_tags"][0]["tags"]
            environment = name.rsplit("-", 1)[1] if re.search(rf"-({'|'.join(ENVIRONMENTS)})$", name) else "shared"
            assert {k: tags[k] for k in ("Project", "Environment", "ManagedBy", "Owner")} == {
                "Project": "iWORKZ",
                "Environment": environment,
                "ManagedBy": "Terraform",
                "Owner": "DevOps",
            }, name


def test_every_stack_is_an_iworkz_stack(session_synth):
    """So the backend tests below, on the base class, hold for every stack."""
    from stacks.base import IworkzStack

    assert all(isinstance(written.stack, IworkzStack) for written in session_synth)


def _terraform_block_of_a_stack(config_dir: Path) -> dict[str, Any]:
    """The ``terraform`` block of IworkzStack, the base of every stack, as network-dev under ``config_dir``."""
    from stacks.base import IworkzStack

    context = StackContext(load_settings(config_dir, ["dev"]), "network-dev", "network", "dev")
    return dict(synth_stack(IworkzStack(new_app(), context))["terraform"])


def test_one_setting_switches_every_stack_to_terraform_cloud(tmp_path):
    config = write_config(
        tmp_path,
        None,
        {
            "backend": {"type": "cloud", "cloud": {"organization": "iworkz-platform"}},
            "delivery": {"terraform_cloud": {"notify_members": ["oncall@iworkz.example"]}},
        },
    )
    terraform = _terraform_block_of_a_stack(config)
    assert "backend" not in terraform
    assert terraform["cloud"] == {
        "organization": "iworkz-platform",
        "hostname": "app.terraform.io",
        "workspaces": {"name": "iworkz-network-dev"},
    }


def test_s3_native_locking_can_be_switched_off(tmp_path):
    s3 = _terraform_block_of_a_stack(write_config(tmp_path, None, {"backend": {"s3": {"use_lockfile": False}}}))
    assert s3["backend"]["s3"]["key"] == "dev/network.tfstate"
    assert "use_lockfile" not in s3["backend"]["s3"] and s3["backend"]["s3"]["dynamodb_table"] == "terraform-lock"


@pytest.fixture(scope="module")
def doc(stack):
    return stack("state")


class TestStateStack:
    def test_bucket_is_named_and_cannot_be_destroyed(self, doc):
        buckets = {body["bucket"]: body for body in resources(doc, "aws_s3_bucket").values()}
        state = buckets["iworkz-terraform-state"]
        assert state["lifecycle"]["prevent_destroy"] is True
        assert state["force_destroy"] is False

    def test_bucket_is_versioned_encrypted_private_and_owner_enforced(self, doc):
        for versioning in resources(doc, "aws_s3_bucket_versioning").values():
            assert versioning["versioning_configuration"]["status"] == "Enabled"
        encryption = [
            e["rule"][0]["apply_server_side_encryption_by_default"]
            for e in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values()
        ]
        assert {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.state-key_753BFC90.arn}"} in encryption
        for block in resources(doc, "aws_s3_bucket_public_access_block").values():
            assert all(
                block[k] is True
                for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
            )
        for ownership in resources(doc, "aws_s3_bucket_ownership_controls").values():
            assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"

    def test_bucket_policy_denies_non_tls_access(self, doc):
        for policy in resources(doc, "aws_s3_bucket_policy").values():
            statements = policy_json(doc, policy["policy"])["Statement"]
            deny = next(s for s in statements if s["Sid"] == "DenyInsecureTransport")
            assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    def test_noncurrent_versions_expire(self, doc):
        days = [
            rule["noncurrent_version_expiration"][0]["noncurrent_days"]
            for lifecycle in resources(doc, "aws_s3_bucket_lifecycle_configuration").values()
            for rule in lifecycle["rule"]
        ]
        assert 90 in days

    def test_kms_keys_rotate_and_the_replica_key_is_in_osaka(self, doc):
        keys = resources(doc, "aws_kms_key")
        assert len(keys) == 2
        assert all(
            k["enable_key_rotation"] is True and k["lifecycle"]["prevent_destroy"] is True for k in keys.values()
        )
        assert [k.get("provider") for k in keys.values()].count("aws.backup") == 1

    def test_state_bucket_replicates_to_osaka(self, doc):
        buckets = {b["bucket"]: n for n, b in resources(doc, "aws_s3_bucket").items()}
        [replication] = resources(doc, "aws_s3_bucket_replication_configuration").values()
        assert replication["bucket"] == f"${{aws_s3_bucket.{buckets['iworkz-terraform-state']}.id}}"
        [rule] = replication["rule"]
        replica = buckets["iworkz-terraform-state-ap-northeast-3"]
        assert rule["destination"]["bucket"] == f"${{aws_s3_bucket.{replica}.arn}}"
        assert resources(doc, "aws_s3_bucket")[replica]["provider"] == "aws.backup"

    def test_lock_table(self, doc):
        table = one(doc, "aws_dynamodb_table")
        assert table["name"] == "terraform-lock"
        assert table["hash_key"] == "LockID" and table["attribute"] == [{"name": "LockID", "type": "S"}]
        assert table["billing_mode"] == "PAY_PER_REQUEST"
        assert table["point_in_time_recovery"] == {"enabled": True}
        assert table["server_side_encryption"]["enabled"] is True
        assert table["deletion_protection_enabled"] is True
        assert table["lifecycle"]["prevent_destroy"] is True

    def test_outputs(self, doc):
        assert set(outputs(doc)) >= {"state_bucket", "lock_table", "state_kms_key_arn"}
