"""runtime/opensearch_bootstrap.py against a stand-in OpenSearch that checks every SigV4 signature."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import opensearch_bootstrap
from tests.runtime.conftest import RUNTIME_DIR, irsa_environ

# What the stand-in STS of conftest hands out.
STS_CREDENTIALS = BotoCredentials("ASIAFROMSTS", "secret-from-sts", "token-from-sts")
CONFIG: dict[str, Any] = {
    "roles": {"iworkz_log_writer": {"cluster_permissions": ["cluster_composite_ops"]}},
    "role_mappings": {"iworkz_log_writer": {"backend_roles": ["arn:aws:iam::123456789012:role/fluent-bit"]}},
    "ism_policies": {
        "iworkz-logs": {
            "policy": {"description": "logs", "states": [], "ism_template": [{"index_patterns": ["logs-*"]}]}
        }
    },
}


class FakeOpenSearch:
    """Keeps roles, mappings and ISM policies; answers 403 to any request botocore would not sign alike."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.seq_no: dict[str, int] = {}
        self.log: list[str] = []
        self.forbid: str | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _signed_by_botocore(self, body: bytes) -> bool:
                signed_at = dt.datetime.strptime(self.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
                url = f"http://{self.headers['Host']}{self.path}"
                request = AWSRequest(
                    method=self.command, url=url, headers={"Content-Type": self.headers["Content-Type"]}, data=body
                )
                with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
                    SigV4Auth(STS_CREDENTIALS, "es", "ap-northeast-1").add_auth(request)
                return request.headers["Authorization"] == self.headers["Authorization"]

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path, _, query = self.path.partition("?")
                fake.log.append(f"{self.command} {self.path}")
                if not self._signed_by_botocore(body) or path == fake.forbid:
                    return self._answer(403, {"error": "no permissions"})
                if self.command == "GET":
                    if path not in fake.documents:
                        return self._answer(404, {"error": "not found"})
                    return self._answer(200, {"_seq_no": fake.seq_no[path], "_primary_term": 1, **fake.documents[path]})
                params = dict(urllib.parse.parse_qsl(query))
                if "if_seq_no" in params and int(params["if_seq_no"]) != fake.seq_no.get(path):
                    return self._answer(409, {"error": "version conflict"})
                fake.documents[path] = json.loads(body)
                fake.seq_no[path] = fake.seq_no.get(path, -1) + 1
                return self._answer(200, {"status": "OK"})

            do_GET = do_PUT = do_POST = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def opensearch():
    fake = FakeOpenSearch()
    threading.Thread(target=fake.server.serve_forever, args=(0.01,), daemon=True).start()
    yield fake
    fake.server.shutdown()


def _environ(sts, opensearch, tmp_path, config: dict[str, Any]) -> dict[str, str]:
    sts_endpoint, _ = sts
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    return {
        **irsa_environ(tmp_path, sts_endpoint),
        "CONFIG_FILE": str(config_file),
        "OPENSEARCH_ENDPOINT": "vpc-iworkz-production-search.ap-northeast-1.es.amazonaws.com",
        "OPENSEARCH_URL": opensearch.url,
    }


def _run(sts, opensearch, tmp_path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """As the Job runs it: a fresh interpreter, the pod's environment."""
    return subprocess.run(
        [sys.executable, str(RUNTIME_DIR / "opensearch_bootstrap.py")],
        env={"PATH": os.environ["PATH"], **_environ(sts, opensearch, tmp_path, config)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _run_here(sts, opensearch, tmp_path, monkeypatch, capsys, config: dict[str, Any]) -> tuple[int, str, str]:
    """The same, in this process (the fresh-process run is proven once above)."""
    for name, value in _environ(sts, opensearch, tmp_path, config).items():
        monkeypatch.setenv(name, value)
    status = opensearch_bootstrap.main()
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_applies_roles_mappings_and_policies_with_signed_requests(sts, opensearch, tmp_path) -> None:
    result = _run(sts, opensearch, tmp_path, CONFIG)
    assert result.returncode == 0, result.stderr
    assert opensearch.documents == {
        "/_plugins/_security/api/roles/iworkz_log_writer": CONFIG["roles"]["iworkz_log_writer"],
        "/_plugins/_security/api/rolesmapping/iworkz_log_writer": CONFIG["role_mappings"]["iworkz_log_writer"],
        "/_plugins/_ism/policies/iworkz-logs": CONFIG["ism_policies"]["iworkz-logs"],
    }
    assert result.stdout.splitlines() == [
        "roles/iworkz_log_writer",
        "role_mappings/iworkz_log_writer",
        "ism_policies/iworkz-logs created",
    ]


def test_a_second_run_updates_the_policy_in_place(sts, opensearch, tmp_path, monkeypatch, capsys) -> None:
    assert _run_here(sts, opensearch, tmp_path, monkeypatch, capsys, CONFIG)[0] == 0
    policy = {"description": "changed", "states": [], "ism_template": [{"index_patterns": ["logs-*"]}]}
    changed = {**CONFIG, "ism_policies": {"iworkz-logs": {"policy": policy}}}
    status, out, err = _run_here(sts, opensearch, tmp_path, monkeypatch, capsys, changed)
    assert status == 0, err
    assert "ism_policies/iworkz-logs updated; indices logs-* moved to it" in out
    assert "POST /_plugins/_ism/change_policy/logs-%2A" in opensearch.log
    assert opensearch.documents["/_plugins/_ism/change_policy/logs-%2A"] == {"policy_id": "iworkz-logs"}
    assert "PUT /_plugins/_ism/policies/iworkz-logs?if_seq_no=0&if_primary_term=1" in opensearch.log
    assert opensearch.documents["/_plugins/_ism/policies/iworkz-logs"]["policy"]["description"] == "changed"


def test_fails_on_a_reserved_role(sts, opensearch, tmp_path, monkeypatch, capsys) -> None:
    config = {"role_mappings": {"all_access": {"backend_roles": ["x"]}}}
    status, _, err = _run_here(sts, opensearch, tmp_path, monkeypatch, capsys, config)
    assert status == 1
    assert "role_mappings.all_access: reserved role, managed by the domain itself" in err
    assert opensearch.documents == {}


def test_fails_with_the_domain_answer_when_refused(sts, opensearch, tmp_path, monkeypatch, capsys) -> None:
    opensearch.forbid = "/_plugins/_security/api/rolesmapping/iworkz_log_writer"
    status, _, err = _run_here(sts, opensearch, tmp_path, monkeypatch, capsys, CONFIG)
    assert status == 1
    assert "PUT /_plugins/_security/api/rolesmapping/iworkz_log_writer: HTTP 403" in err
    assert "no permissions" in err
