"""The benchmark's measurement: peak memory of a whole process tree (python + its node child)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.early import measure_a_process_tree

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
MB = 1_000_000


@pytest.mark.early(command=measure_a_process_tree)
def test_peak_memory_sums_the_process_tree_and_wait4_sees_only_the_largest_process(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    assert early_result.returncode == 0, early_result.stderr
    run = json.loads(early_result.stdout.strip().splitlines()[-1])
    assert run["exit_status"] == 0, run["output_tail"]
    # wait4's ru_maxrss is the largest single process (the child, ~110 MB), not the sum
    assert 100 * MB <= run["max_single_process_rss_bytes"] < 155 * MB, run
    # the sampled tree peak sees both at once, in RSS and in PSS
    assert run["peak_tree_rss_bytes"] >= 160 * MB, run
    assert run["peak_tree_pss_bytes"] >= 155 * MB, run
    assert run["peak_processes"] >= 2
    assert run["wall_s"] >= 0.5 and run["cpu_s"] > 0


def test_a_failing_command_reports_its_exit_status_and_output() -> None:
    sys.path.insert(0, str(SCRIPTS))
    from bench import Run, measure

    run = measure(Run("fails", "test", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"], env={}), 0.05)
    assert run.exit_status == 3
    assert "boom" in asdict(run)["output_tail"]
