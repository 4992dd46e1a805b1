"""Watch mode: one re-synth cycle (without the file-watching loop) and the module reload."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from configs import write_config

from tests.early import watch_reload_probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from watch import Watcher

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_a_cycle_reports_the_changed_stack_and_survives_a_config_error(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    watcher = Watcher(config_dir, ["state"], ["production"], tmp_path / "cdktf.out")

    first = watcher.cycle(reload=False)
    assert first.error is None, first.error
    assert first.first and first.written == ["state"]
    assert "synthesised 1 stacks" in first.render()

    write_config(tmp_path, None, {"state": {"noncurrent_version_expiration_days": 120}})
    changed = watcher.cycle([config_dir / "common.yaml"], reload=False)
    assert changed.error is None, changed.error
    assert changed.report is not None and not changed.first
    (stack,) = changed.report.stacks
    assert stack.status == "changed"
    paths = [path for change in stack.resources for path in change.paths]
    assert any("noncurrent_days" in path for path in paths), paths
    text = changed.render()
    assert "changed   state" in text and "~ aws_s3_bucket_lifecycle_configuration." in text

    write_config(tmp_path, None, {"state": {"noncurrent_version_expiration_days": "soon"}})
    broken = watcher.cycle([config_dir / "common.yaml"], reload=False)
    assert broken.error is not None
    assert "common.yaml" in broken.error and "noncurrent_version_expiration_days" in broken.error
    assert "still watching" in broken.render()

    write_config(tmp_path, None, {"state": {"noncurrent_version_expiration_days": 120}})
    same = watcher.cycle([config_dir / "common.yaml"], reload=False)
    assert same.error is None and same.report is not None
    assert [stack.status for stack in same.report.stacks] == ["unchanged"]
    assert "unchanged state" in same.render()


@pytest.mark.early(command=watch_reload_probe)
def test_reload_forgets_project_modules_and_keeps_libraries(early_result: subprocess.CompletedProcess[str]) -> None:
    assert early_result.returncode == 0, early_result.stderr
    assert early_result.stdout.strip() == "ok"


def test_the_watch_reacts_to_sources_configuration_and_values_only() -> None:
    from watch import _watch_filter

    assert _watch_filter(None, "/repo/stacks/network.py")
    assert _watch_filter(None, "/repo/config/production.yaml")
    assert _watch_filter(None, "/repo/helm_values/kube-prometheus-stack.yaml")
    assert not _watch_filter(None, "/repo/stacks/__pycache__/network.cpython-311.pyc")
    assert not _watch_filter(None, "/repo/config/.production.yaml.swp")
    assert not _watch_filter(None, "/repo/stacks/.#network.py")
