"""runtime_files: the runtime/ helpers as ConfigMap data; check_name."""

from __future__ import annotations

import pytest

from iworkz_constructs import runtime_files as module
from iworkz_constructs.runtime_files import RUNTIME_DIR, check_name, runtime_files


def test_files_are_read_from_runtime():
    assert runtime_files("sigv4.py") == {"sigv4.py": (RUNTIME_DIR / "sigv4.py").read_text(encoding="utf-8")}


def test_terraform_template_sequences_are_escaped(tmp_path, monkeypatch):
    (tmp_path / "script.py").write_text('print(f"${HOME} %{ x }")\n')
    monkeypatch.setattr(module, "RUNTIME_DIR", tmp_path)
    assert runtime_files("script.py") == {"script.py": 'print(f"$${HOME} %%{ x }")\n'}


def test_fails_on_a_missing_file():
    with pytest.raises(FileNotFoundError):
        runtime_files("no_such_helper.py")


@pytest.mark.parametrize(("value", "max_length"), [("Upper", 63), ("trailing-", 63), ("a" * 64, 63), ("abc", 2)])
def test_fails_on_a_bad_kubernetes_name(value, max_length):
    with pytest.raises(ValueError, match="is not a Kubernetes name"):
        check_name("name", value, max_length)
    check_name("name", "redis-exporter")
