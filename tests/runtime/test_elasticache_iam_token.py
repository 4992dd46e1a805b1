"""runtime/elasticache_iam_token.py: the token redis_exporter authenticates to the IAM-only Redis with."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import elasticache_iam_token
import sigv4
from tests.runtime.conftest import RUNTIME_DIR, irsa_environ

RG = "iworkz-production-redis"
USER = "iworkz-production-redis-monitoring"
HOST = "clustercfg.iworkz-production-redis.abc123.apne1.cache.amazonaws.com"


def _botocore_token(credentials: sigv4.Credentials, when: dt.datetime) -> str:
    """The recipe of the ElastiCache documentation: presign a GET of connect, drop the scheme."""
    request = AWSRequest(method="GET", url=f"http://{RG}/", params={"Action": "connect", "User": USER})
    boto = BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        SigV4QueryAuth(boto, "elasticache", "ap-northeast-1", expires=900).add_auth(request)
    return request.url.removeprefix("http://")


def _query(token: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(f"http://{token}").query))


def test_auth_token_is_the_documented_presigned_connect() -> None:
    now = dt.datetime(2026, 11, 28, 15, 4, 5, tzinfo=dt.UTC)
    credentials = sigv4.Credentials("ASIAEXAMPLEKEY", "secret", "session-token")
    token = elasticache_iam_token.auth_token(RG, USER, "ap-northeast-1", credentials, now)
    expected = _botocore_token(credentials, now)
    assert token.split("?")[0] == expected.split("?")[0] == f"{RG}/"
    assert _query(token) == _query(expected)
    assert _query(token)["X-Amz-Expires"] == "900"


def test_password_file_key_is_what_redis_exporter_looks_up() -> None:
    # redis_exporter: REDIS_ADDR rediss://<host>:<port> with REDIS_USER set as the URL's user.
    assert elasticache_iam_token.password_file_key(HOST, "6379", USER) == f"rediss://{USER}@{HOST}:6379"


@pytest.fixture
def exporter():
    """A stand-in for redis_exporter's /-/reload endpoint, recording the reloads."""
    reloads: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            reloads.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/-/reload", reloads
    server.shutdown()


def _pod_environ(tmp_path, sts_endpoint: str, reload_url: str) -> dict[str, str]:
    return {
        **irsa_environ(tmp_path, sts_endpoint),
        "REDIS_HOST": HOST,
        "REDIS_PORT": "6379",
        "REDIS_USER": USER,
        "REPLICATION_GROUP_ID": RG,
        "PASSWORD_FILE": str(tmp_path / "passwords.json"),
        "EXPORTER_RELOAD_URL": reload_url,
    }


def test_once_writes_a_valid_token_and_reloads_the_exporter(sts, exporter, tmp_path) -> None:
    """As the init container runs it: a fresh process, the pod's environment, python <script> --once."""
    sts_endpoint, received = sts
    reload_url, reloads = exporter
    environ = _pod_environ(tmp_path, sts_endpoint, reload_url)
    result = subprocess.run(
        [sys.executable, str(RUNTIME_DIR / "elasticache_iam_token.py"), "--once"],
        env={"PATH": os.environ["PATH"], **environ},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert len(received) == 1 and reloads == ["/-/reload"]
    password_file = tmp_path / "passwords.json"
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    (key, token), *more = json.loads(password_file.read_text()).items()
    assert not more and key == f"rediss://{USER}@{HOST}:6379"
    # The token is what botocore signs with the STS credentials at the token's own timestamp.
    signed_at = dt.datetime.strptime(_query(token)["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    sts_credentials = sigv4.Credentials("ASIAFROMSTS", "secret-from-sts", "token-from-sts")
    assert _query(token) == _query(_botocore_token(sts_credentials, signed_at))


def test_refresh_keeps_working_when_the_exporter_is_not_up(sts, tmp_path) -> None:
    sts_endpoint, _ = sts
    environ = _pod_environ(tmp_path, sts_endpoint, "http://127.0.0.1:9/-/reload")
    credentials = sigv4.WebIdentityCredentials("redis-exporter", environ)
    assert elasticache_iam_token.refresh_once(environ, credentials) is False
    assert (tmp_path / "passwords.json").exists()


@pytest.mark.parametrize("refresh", ["0", "900"])
def test_fails_with_a_refresh_period_outside_the_token_lifetime(refresh: str, tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, str(RUNTIME_DIR / "elasticache_iam_token.py")],
        env={"PATH": os.environ["PATH"], "REFRESH_SECONDS": refresh},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"REFRESH_SECONDS={refresh}: must be 1-899" in result.stderr
