"""What `make synth` leaves in cdktf.out holds together: every stack as a full synth writes it,
the tree published whole, nothing stale, nothing Terraform keeps lost, one synth at a time."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from iworkz import publish as publishing
from iworkz.config import load_settings
from iworkz.errors import UserError
from iworkz.policy.references import check_all
from iworkz.registry import BY_COMPONENT, plan
from iworkz.synth import synthesize
from tests.configs import write_config
from tests.early import interrupted_parallel_synth, interrupted_synth


def _documents(outdir: Path) -> dict[str, dict[str, Any]]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


def _manifest(outdir: Path) -> dict[str, Any]:
    return json.loads((outdir / "manifest.json").read_text())


# --- a stack's Terraform does not depend on the selection ----------------------------------------


@pytest.mark.parametrize(
    ("stacks", "envs"),
    [("network", "production"), ("eks-production", None), ("dr-azure", None), ("workloads", "staging")],
)
def test_a_selection_writes_exactly_its_stacks_as_the_full_synth_writes_them(
    tmp_path, settings, session_synth, synth_outdir, stacks, envs
):
    selected = load_settings(environments=[envs]) if envs else settings
    planned, names = plan(selected, [stacks])
    written = synthesize(selected, planned, tmp_path / "cdktf.out")
    assert {w.name for w in written} == names
    assert set(_documents(tmp_path / "cdktf.out")) == names  # producers are read, not republished
    for name in names:
        assert (tmp_path / "cdktf.out" / "stacks" / name / "cdk.tf.json").read_bytes() == (
            synth_outdir / "stacks" / name / "cdk.tf.json"
        ).read_bytes(), name


def test_no_stack_reads_an_output_its_producer_lacks_after_a_selective_synth(
    tmp_path, settings, session_synth, synth_outdir
):
    """A selective synth over a full tree: every consumer still finds every output it reads."""
    outdir = tmp_path / "cdktf.out"
    publishing._link_tree(synth_outdir, outdir)
    planned, _ = plan(settings, ["network"])
    synthesize(settings, planned, outdir)
    documents = _documents(outdir)
    assert set(documents) == set(_documents(synth_outdir))
    assert not check_all(documents)


def test_every_published_output_is_declared_by_the_producers_contract(synthesized):
    for name, document in synthesized.items():
        component = name if name in BY_COMPONENT else name.rsplit("-", 1)[0]
        contract = BY_COMPONENT[component].contract
        assert contract is not None, name
        assert set(document.get("output", {})) == set(contract.output_names()), name


def test_the_manifest_orders_deploys_by_the_contracts_read(session_synth, synth_outdir):
    stacks = _manifest(synth_outdir)["stacks"]
    assert stacks["eks-production"]["dependencies"] == ["network-production", "alerts-production"]
    assert stacks["workloads-dev"]["dependencies"] == ["network-dev", "eks-dev", "data-dev", "platform-dev", "ai-dev"]
    assert stacks["ai-dev"]["dependencies"] == ["network-dev", "data-dev"]
    assert stacks["alerts-dev"]["dependencies"] == []
    assert stacks["state"]["dependencies"] == []


# --- the tree is published whole --------------------------------------------------------------


def _tree(root: Path, stacks: dict[str, str]) -> Path:
    """A synth output with one ``cdk.tf.json`` per stack (its text) and a manifest."""
    for name, text in stacks.items():
        (root / "stacks" / name).mkdir(parents=True)
        (root / "stacks" / name / "cdk.tf.json").write_text(text)
    manifest = {"version": "0.21.0", "stacks": {name: {"name": name, "dependencies": []} for name in stacks}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def _contents(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _no_dependencies(name: str) -> list[str]:
    return []


def test_a_failure_while_publishing_leaves_the_old_tree_and_the_next_synth_cleans_up(tmp_path, monkeypatch):
    outdir = _tree(tmp_path / "cdktf.out", {"network-dev": "old", "eks-dev": "old"})
    before = _contents(outdir)
    staging = _tree(publishing.staging_folder(outdir), {"network-dev": "new", "eks-dev": "new"})

    def crash(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(publishing, "_exchange", crash)
    with pytest.raises(OSError, match="disk full"):
        publishing.publish(
            staging, outdir, ["network-dev", "eks-dev"], keep_others=False, dependencies=_no_dependencies
        )
    assert _contents(outdir) == before
    # An interrupted synth's staging folder (its process is gone) goes with the next publish.
    dead = tmp_path / ".cdktf.out.staging-999999999"
    dead.mkdir()
    monkeypatch.undo()
    publishing.publish(staging, outdir, ["network-dev", "eks-dev"], keep_others=False, dependencies=_no_dependencies)
    assert _contents(outdir)["stacks/network-dev/cdk.tf.json"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cdktf.out.lock", "cdktf.out"]


def test_a_full_synth_leaves_exactly_the_stacks_that_exist_and_a_selection_keeps_the_others(tmp_path):
    outdir = _tree(tmp_path / "cdktf.out", {"network-qa": "old", "network-dev": "old"})
    staging = _tree(publishing.staging_folder(outdir), {"network-dev": "new"})
    publishing.publish(staging, outdir, ["network-dev"], keep_others=True, dependencies=_no_dependencies)
    assert set(_manifest(outdir)["stacks"]) == {"network-dev", "network-qa"}
    assert _contents(outdir)["stacks/network-qa/cdk.tf.json"] == "old"
    staging = _tree(publishing.staging_folder(outdir), {"network-dev": "newer"})
    publishing.publish(staging, outdir, ["network-dev"], keep_others=False, dependencies=_no_dependencies)
    assert set(_manifest(outdir)["stacks"]) == {"network-dev"}
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["network-dev"]


def test_what_terraform_keeps_in_a_stack_folder_survives_a_re_synth(tmp_path):
    outdir = _tree(tmp_path / "cdktf.out", {"state": "old"})
    folder = outdir / "stacks" / "state"
    (folder / ".terraform" / "providers").mkdir(parents=True)
    (folder / ".terraform" / "terraform.tfstate").write_text('{"backend": {"type": "local"}}')
    (folder / ".terraform.lock.hcl").write_text("# lock")
    (folder / "terraform.tfstate").write_text('{"version": 4}')
    staging = _tree(publishing.staging_folder(outdir), {"state": "new"})
    publishing.publish(staging, outdir, ["state"], keep_others=False, dependencies=_no_dependencies)
    assert _contents(outdir) == {
        "manifest.json": _contents(outdir)["manifest.json"],
        "stacks/state/.terraform/terraform.tfstate": '{"backend": {"type": "local"}}',
        "stacks/state/.terraform.lock.hcl": "# lock",
        "stacks/state/cdk.tf.json": "new",
        "stacks/state/terraform.tfstate": '{"version": 4}',
    }


def test_a_read_only_output_is_one_clear_error(tmp_path, monkeypatch):
    outdir = _tree(tmp_path / "cdktf.out", {"network-dev": "old"})
    staging = _tree(publishing.staging_folder(outdir), {"network-dev": "new"})

    def read_only(*args: Any) -> None:
        raise PermissionError(13, "Permission denied", str(outdir))

    monkeypatch.setattr(publishing, "_exchange", read_only)
    with pytest.raises(UserError) as error:
        publishing.publish(staging, outdir, ["network-dev"], keep_others=False, dependencies=_no_dependencies)
    message = error.value.render()
    assert f"{outdir}: (folder)" in message and "must be writable" in message and "CDKTF_OUTDIR" in message
    assert _contents(outdir)["stacks/network-dev/cdk.tf.json"] == "old"


def test_two_synths_take_turns_and_the_second_says_whom_it_waits_for(tmp_path, capsys):
    outdir = tmp_path / "cdktf.out"
    order: list[str] = []
    with publishing._lock(outdir):
        second = threading.Thread(target=lambda: _take_lock(outdir, order))
        second.start()
        time.sleep(0.3)
        order.append("first done")
    second.join(5)
    assert order == ["first done", "second"]
    assert f"waiting for the synth of pid {os.getpid()} to finish writing {outdir}" in capsys.readouterr().err


def _take_lock(outdir: Path, order: list[str]) -> None:
    with publishing._lock(outdir):
        order.append("second")


@pytest.mark.early(command=interrupted_synth)
def test_ctrl_c_prints_one_line_exits_130_and_leaves_the_old_tree(early_result: subprocess.CompletedProcess[str]):
    _assert_interrupted_cleanly(early_result)


@pytest.mark.early(command=interrupted_parallel_synth)
def test_an_interrupted_parallel_synth_stops_its_processes_and_leaves_the_old_tree(
    early_result: subprocess.CompletedProcess[str],
):
    report = _assert_interrupted_cleanly(early_result)
    assert report["started"] >= 2, report  # two synth processes (and their nodes) were running
    assert report["stderr"].strip().splitlines() == [f"interrupted: {report['outdir']} is as it was before this synth"]


def _assert_interrupted_cleanly(early_result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(early_result.stdout.strip().splitlines()[-1])
    assert report["status"] == 130, report
    assert report["stderr"].strip().splitlines()[-1].startswith("interrupted: "), report["stderr"]
    assert "Traceback" not in report["stderr"]
    assert report["unchanged"] is True
    assert report["leftovers"] == []
    assert report["survivors"] == [], report
    return report


# --- the state stack keeps its state ----------------------------------------------------------


def test_the_state_stack_moves_into_its_own_bucket_with_one_switch(tmp_path):
    config = write_config(tmp_path, None, {"backend": {"state_stack": "s3"}})
    settings = load_settings(config, ["dev"])
    planned, _ = plan(settings, ["state"])
    (written,) = synthesize(settings, planned, tmp_path / "cdktf.out")
    backend = json.loads(written.path.read_text())["terraform"]["backend"]
    assert backend == {
        "s3": {
            "bucket": "iworkz-terraform-state",
            "key": "state.tfstate",
            "region": "ap-northeast-1",
            "encrypt": True,
            "dynamodb_table": "terraform-lock",
            "use_lockfile": True,
        }
    }


def test_the_bootstrap_state_lives_outside_cdktf_out(stack):
    path = stack("state")["terraform"]["backend"]["local"]["path"]
    working_directory = Path("/repo/cdktf.out/stacks/state")
    assert (working_directory / path).resolve() == Path("/repo/state-bootstrap/terraform.tfstate")
