"""scripts/ci_terraform.py: the plan job saves a plan, the deploy job applies exactly that one.

A stand-in ``terraform`` on PATH records its arguments and plays the part Terraform plays
(``plan -out`` writes the file, ``-detailed-exitcode`` says whether something changes).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import ci_terraform

FAKE_TERRAFORM = """#!/bin/sh
echo "$*" >> "$TERRAFORM_CALLS"
case "$1" in
  plan) for arg in "$@"; do case "$arg" in -out=*) echo "plan of $PWD" > "${arg#-out=}";; esac; done
        exit "${PLAN_EXIT:-2}";;
  show) echo "  + resource planned";;
esac
exit 0
"""


@pytest.fixture
def stacks_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text(FAKE_TERRAFORM)
    terraform.chmod(terraform.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TERRAFORM_CALLS", str(tmp_path / "calls"))
    monkeypatch.setenv("CI_COMMIT_SHA", "abc123")
    monkeypatch.setenv("CI_PIPELINE_ID", "42")
    folder = tmp_path / "stacks" / "network-dev"
    folder.mkdir(parents=True)
    return tmp_path / "stacks"


def calls(stacks_dir: Path) -> list[str]:
    return (stacks_dir.parent / "calls").read_text().splitlines()


def test_a_plan_is_saved_with_what_identifies_it(stacks_dir: Path) -> None:
    assert ci_terraform.plan("network-dev", speculative=False, drift=False, stacks_dir=stacks_dir) == 0
    folder = stacks_dir / "network-dev"
    meta = json.loads((folder / ci_terraform.PLAN_META).read_text())
    assert meta == {
        "stack": "network-dev",
        "commit_sha": "abc123",
        "pipeline_id": "42",
        "plan_sha256": ci_terraform.sha256(folder / ci_terraform.PLAN_FILE),
        "changes": True,
    }
    assert (folder / ci_terraform.PLAN_TEXT).read_text() == "  + resource planned\n"
    plan_call = next(call for call in calls(stacks_dir) if call.startswith("plan"))
    assert "-out=plan.tfplan" in plan_call and "-refresh=false" not in plan_call
    assert not (folder / ci_terraform.DRIFT_FILE).exists()


def test_a_merge_request_plan_does_not_refresh(stacks_dir: Path) -> None:
    ci_terraform.plan("network-dev", speculative=True, drift=False, stacks_dir=stacks_dir)
    assert "-refresh=false" in next(call for call in calls(stacks_dir) if call.startswith("plan"))


def test_the_reviewed_plan_is_applied(stacks_dir: Path) -> None:
    ci_terraform.plan("network-dev", speculative=False, drift=False, stacks_dir=stacks_dir)
    assert ci_terraform.apply("network-dev", stacks_dir=stacks_dir) == 0
    assert calls(stacks_dir)[-2:] == [
        "init -input=false -lockfile=readonly",
        "apply -input=false -lock-timeout=5m plan.tfplan",
    ]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda folder, env: (folder / ci_terraform.PLAN_FILE).write_text("another plan"), "plan_sha256"),
        (lambda folder, env: env.setenv("CI_COMMIT_SHA", "def456"), "commit_sha"),
        (lambda folder, env: env.setenv("CI_PIPELINE_ID", "43"), "pipeline_id"),
        (lambda folder, env: (folder / ci_terraform.PLAN_META).unlink(), "no saved plan"),
    ],
    ids=["changed-plan-file", "other-commit", "other-pipeline", "no-plan"],
)
def test_another_plan_is_refused(
    stacks_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tamper, expected: str
) -> None:
    ci_terraform.plan("network-dev", speculative=False, drift=False, stacks_dir=stacks_dir)
    tamper(stacks_dir / "network-dev", monkeypatch)
    assert ci_terraform.apply("network-dev", stacks_dir=stacks_dir) == 2
    assert expected in capsys.readouterr().err
    assert not [call for call in calls(stacks_dir) if call.startswith("apply")]


def test_a_plan_of_another_stack_is_refused(stacks_dir: Path) -> None:
    ci_terraform.plan("network-dev", speculative=False, drift=False, stacks_dir=stacks_dir)
    other = stacks_dir / "eks-dev"
    (stacks_dir / "network-dev").rename(other)
    with pytest.raises(ci_terraform.PlanRefused, match="stack 'network-dev'"):
        ci_terraform.check_plan("eks-dev", other)


def test_drift_is_recorded_never_failed_for_and_reported(
    stacks_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ci_terraform.plan("network-dev", speculative=False, drift=True, stacks_dir=stacks_dir) == 0
    (stacks_dir / "eks-dev").mkdir()
    monkeypatch.setenv("PLAN_EXIT", "0")
    assert ci_terraform.plan("eks-dev", speculative=False, drift=True, stacks_dir=stacks_dir) == 0
    assert json.loads((stacks_dir / "eks-dev" / ci_terraform.DRIFT_FILE).read_text()) == {
        "stack": "eks-dev",
        "drift": False,
    }
    assert ci_terraform.drift_report(stacks_dir) == 1
    out = capsys.readouterr()
    assert "drift in 1 of 2 stacks: network-dev" in out.out and "IWORKZ_DRIFT_WEBHOOK_URL is not set" in out.err


def test_no_drift_is_quiet_and_a_failed_plan_fails(stacks_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAN_EXIT", "0")
    ci_terraform.plan("network-dev", speculative=False, drift=True, stacks_dir=stacks_dir)
    assert ci_terraform.drift_report(stacks_dir) == 0
    monkeypatch.setenv("PLAN_EXIT", "1")
    assert ci_terraform.plan("network-dev", speculative=False, drift=True, stacks_dir=stacks_dir) == 1
