"""First contact: what a new user runs before reading the Makefile works or says what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_CONSTRUCTS = (
    "import runpy, sys; sys.modules['iworkz_constructs'] = None; "
    "sys.argv = ['main.py', '--stacks', 'state']; runpy.run_path('main.py', run_name='__main__')"
)


@pytest.mark.parametrize(
    "argv",
    [["-S", "main.py"], ["-c", WITHOUT_CONSTRUCTS]],
    ids=["no-site-packages", "no-iworkz_constructs"],
)
def test_main_outside_the_virtualenv_says_how_to_run_it(argv):
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "not the project's virtualenv" in result.stderr and "make synth" in result.stderr


def test_npx_runs_node_with_cdktf_telemetry_off():
    # .npmrc preloads iworkz/cdktf_cli_quiet.js into every node process npx starts here, so the
    # cdktf CLI (which reads CHECKPOINT_DISABLE when it loads) makes no checkpoint call.
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx is not installed")
    environment = {k: v for k, v in os.environ.items() if k not in ("CHECKPOINT_DISABLE", "CDKTF_DISABLE_TELEMETRY")}
    environment["PWD"] = str(ROOT)
    script = "console.log(process.env.CHECKPOINT_DISABLE, process.env.CDKTF_DISABLE_TELEMETRY)"
    result = subprocess.run(
        [npx, "--no-install", "node", "-e", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "true"]
    cli = (ROOT / "node_modules" / "cdktf-cli" / "bundle" / "bin" / "cmds" / "handlers.js").read_text()
    assert "process.env.CHECKPOINT_DISABLE" in cli


def test_nothing_points_outside_the_repository():
    patterns = ["\\.\\./" + "shared", "DESIGN" + "\\.md"]
    found = subprocess.run(
        ["git", "grep", "-nE", "|".join(patterns)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.returncode == 1, f"references outside the repository:\n{found.stdout}"
