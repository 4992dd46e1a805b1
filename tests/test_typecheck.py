"""The type checker sees every call from a stack into a construct (constructs/ is imported as
iworkz_constructs, an alias mypy follows through .mypy-path): a wrong-typed prop fails `make lint`."""

from __future__ import annotations

import subprocess

import pytest

from tests.early import planted_wrong_prop


@pytest.mark.early(command=planted_wrong_prop)
def test_a_planted_wrong_typed_prop_fails_the_type_check(early_result: subprocess.CompletedProcess[str]) -> None:
    assert early_result.returncode == 1, early_result.stdout + early_result.stderr
    assert 'Argument "cidr_block" to "VpcProps" has incompatible type "int"; expected "str"' in early_result.stdout
    assert "network_planted.py" in early_result.stdout
