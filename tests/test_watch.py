"""Watch mode: one re-synth cycle (without the file-watching loop) and the module reload."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.configs import write_config
from tests.early import watch_reload_probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from watch import Watcher

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
PROJECT_ROOT = SCRIPTS.parent


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


def test_the_watch_covers_runtime_scripts_without_reloading_the_app_for_them() -> None:
    from watch import _watch_filter, needs_reload, watched_folders

    assert PROJECT_ROOT / "runtime" in watched_folders(PROJECT_ROOT / "config")
    assert _watch_filter(None, str(PROJECT_ROOT / "runtime" / "sigv4.py"))
    # runtime/ holds files the synth reads into ConfigMaps, not modules of the app
    assert not needs_reload([PROJECT_ROOT / "runtime" / "sigv4.py", PROJECT_ROOT / "config" / "dev.yaml"])
    assert needs_reload([PROJECT_ROOT / "constructs" / "redis_exporter.py"])


def test_a_cycle_after_a_runtime_edit_reports_the_configmap_that_embeds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthesized: dict[str, Any], synth_outdir: Path
) -> None:
    from snapshots import normalise, path_replacements

    import iworkz_constructs.runtime_files as runtime_files

    if "monitoring-dev" not in synthesized:
        pytest.skip("monitoring-dev is not in the STACKS/ENVS selection")
    runtime = tmp_path / "runtime"
    shutil.copytree(runtime_files.RUNTIME_DIR, runtime)
    script = runtime / "sigv4.py"
    script.write_text(script.read_text(encoding="utf-8").replace("Signature Version 4", "SigV4", 1), encoding="utf-8")
    monkeypatch.setattr(runtime_files, "RUNTIME_DIR", runtime)

    watcher = Watcher(PROJECT_ROOT / "config", ["monitoring"], ["dev"], tmp_path / "cdktf.out")
    # the session synth (same configuration) stands for the cycle before the edit
    watcher.previous = {"monitoring-dev": normalise(synthesized["monitoring-dev"], path_replacements(synth_outdir))}
    result = watcher.cycle([script])
    assert result.error is None, result.error
    assert result.report is not None
    (stack,) = [stack for stack in result.report.stacks if stack.name == "monitoring-dev"]
    changed = {(change.address.split(".")[0], path) for change in stack.resources for path in change.paths}
    assert ("kubernetes_config_map_v1", "data.sigv4.py") in changed
    # besides the ConfigMaps, only the checksum annotations that roll the pods using the script
    others = {path for kind, path in changed if kind != "kubernetes_config_map_v1"}
    assert all(path.startswith("spec.template.metadata.annotations.") and "sha256" in path for path in others), changed
    assert "~ kubernetes_config_map_v1." in result.render()
