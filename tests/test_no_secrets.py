"""No literal secret in the synthesised output or in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from iworkz.policy.secret_scan import main as secret_scan_main
from iworkz.policy.secret_scan import repository_files, scan_document, scan_source, scan_stack, scan_text
from tests.early import repository_secret_scan

ROOT = Path(__file__).resolve().parents[1]

# Planted values are assembled at run time so that this file itself stays clean.
FAKE_ACCESS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
FAKE_PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----"
FAKE_VALUE = "hunter2-" + "production"
ADMIN_PW_KEY = "adminPassword"
MASTER_PW_KEY = "master_password"


def test_synthesised_stacks_hold_no_secrets(synthesized: dict[str, Any]) -> None:
    findings = [str(f) for name, document in synthesized.items() for f in scan_stack(name, document)]
    assert not findings, "literal secrets in the synthesised output:\n" + "\n".join(findings)


@pytest.mark.early(command=repository_secret_scan)
def test_repository_holds_no_secrets(early_result: subprocess.CompletedProcess[str]) -> None:
    assert early_result.returncode == 0, "literal secrets in the repository:\n" + early_result.stderr
    files = int(re.search(r"secret scan: (\d+) files", early_result.stdout).group(1))  # type: ignore[union-attr]
    assert files == len(repository_files(ROOT)) > 100, early_result.stdout


def test_fails_the_scan_of_a_planted_file_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clean.py").write_text('password_key = "password"\n')
    (tmp_path / "leak.yaml").write_text(f"grafana:\n  {ADMIN_PW_KEY}: {FAKE_VALUE}\n")
    status = secret_scan_main([str(tmp_path / "clean.py"), str(tmp_path / "leak.yaml")])
    printed = capsys.readouterr()
    assert status == 1
    assert "leak.yaml:2: literal value of adminPassword: hunt…" in printed.err
    assert FAKE_VALUE not in printed.out + printed.err
    assert "clean.py" not in printed.err
    assert "secret scan: 2 files, 1 literal secrets" in printed.out


# --- negative tests: planted secrets are caught ------------------------------------------------


def test_fails_planted_secrets_in_a_synthesised_document() -> None:
    document = {
        "resource": {
            "aws_db_instance": {"db": {"password": FAKE_VALUE, "username": "admin"}},
            "aws_elasticache_replication_group": {"redis": {"auth_token": FAKE_VALUE}},
            "aws_secretsmanager_secret_version": {
                "db": {"secret_string": '{"username": "app", "password": "' + FAKE_VALUE + '"}'},
                "jwt": {"secret_string": FAKE_VALUE},
            },
            "azurerm_virtual_network_gateway_connection": {"vpn": {"shared_key": FAKE_VALUE}},
            "aws_iam_access_key": {"ci": {"pgp_key": FAKE_PRIVATE_KEY}},
            "helm_release": {"grafana": {"values": [f"grafana:\n  {ADMIN_PW_KEY}: {FAKE_VALUE}\n"]}},
            "aws_ssm_parameter": {"key": {"value": FAKE_ACCESS_KEY}},
        }
    }
    kinds = {f.kind for f in scan_stack("data-production", document)}
    assert {
        "literal value of password",
        "literal value of auth_token",
        "literal value of secret_string",
        "literal value of shared_key",
        "literal value of adminPassword",
        "private key",
        "AWS access key id",
    } <= kinds
    where = {f.where for f in scan_document(document, "data-production")}
    assert "data-production.resource.aws_db_instance.db.password" in where
    assert "data-production.resource.aws_secretsmanager_secret_version.db.secret_string<embedded>.password" in where
    assert all(FAKE_VALUE not in str(f) for f in scan_stack("data-production", document)), "values are masked"


def test_references_and_generated_secrets_pass() -> None:
    document = {
        "resource": {
            "aws_db_instance": {"db": {"manage_master_user_password": True, "username": "iworkz_admin"}},
            "aws_elasticache_replication_group": {
                "redis": {"auth_token": "${aws_secretsmanager_secret_version.redis.secret_string}"}
            },
            "azurerm_virtual_network_gateway_connection": {
                "vpn": {"shared_key": "${aws_vpn_connection.vpn.tunnel1_preshared_key}"}
            },
            "helm_release": {
                "grafana": {
                    "values": ["grafana:\n  admin:\n    existingSecret: grafana-admin\n    passwordKey: password\n"]
                }
            },
        }
    }
    assert list(scan_document(document, "ok")) == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("stacks/data.py", f'{MASTER_PW_KEY} = "{FAKE_VALUE}"\n'),
        ("helm_values/grafana.yaml", f"grafana:\n  {ADMIN_PW_KEY}: {FAKE_VALUE}\n"),
        ("docs/notes.md", f"key {FAKE_ACCESS_KEY} leaked\n"),
        ("id_rsa", FAKE_PRIVATE_KEY),
    ],
)
def test_fails_planted_secret_in_a_repository_file(name: str, text: str) -> None:
    findings = list(scan_source(text, name))
    assert findings and findings[0].where.startswith(f"{name}:")


def test_plain_text_mentioning_passwords_passes() -> None:
    text = 'manage_master_user_password=True\npassword_key = "password"\nsecret_name: "iworkz/jwt"\n'
    assert list(scan_source(text, "stacks/data.py")) == []
    assert list(scan_text("arn:aws:iam::111122223333:role/AKIA-not-a-key", "x")) == []
