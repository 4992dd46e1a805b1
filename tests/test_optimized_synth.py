"""The synth runs as ``python -O``: jsii's generated argument checks (``if __debug__:`` blocks) are
skipped there. The test suite runs without -O, so the same checks run over every stack here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

from tests.tf import new_app

ROOT = Path(__file__).resolve().parents[1]


def test_the_synth_entry_points_run_python_optimized() -> None:
    assert json.loads((ROOT / "cdktf.json").read_text())["app"] == ".venv/bin/python -O main.py"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("synth", "scan"):
        recipe = re.search(rf"^{target}: .*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe and "$(PY) -O main.py" in recipe.group(1), target


def test_the_tests_run_jsii_argument_checks() -> None:
    assert __debug__, "run the tests without -O: they are where jsii's type checks run"
    with pytest.raises(TypeError, match="argument bucket"):
        S3Bucket(TerraformStack(new_app(), "checks"), "bucket", bucket=123)  # type: ignore[arg-type]
