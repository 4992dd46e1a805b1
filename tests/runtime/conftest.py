"""The helpers in runtime/ run as flat scripts in their pod (``python /opt/iworkz/<script>.py``),
importing each other by module name; the tests import them the same way. So do the Lambda
functions of runtime/lambdas/<function>/ (each folder is the function's package)."""

import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime"
sys.path.insert(0, str(RUNTIME_DIR))
# The Lambda functions' folders: each is one package (its modules import each other flat).
LAMBDAS_DIR = RUNTIME_DIR / "lambdas"
sys.path.extend(str(folder) for folder in sorted(LAMBDAS_DIR.iterdir()) if folder.is_dir())

STS_RESPONSE = """<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAFROMSTS</AccessKeyId>
      <SecretAccessKey>secret-from-sts</SecretAccessKey>
      <SessionToken>token-from-sts</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"""


@pytest.fixture
def sts() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A local stand-in for STS that records the forms it receives."""
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))
            body = STS_RESPONSE.format(expiration="2026-11-28T16:04:05Z").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", received
    server.shutdown()


def irsa_environ(tmp_path, endpoint: str) -> dict[str, str]:
    token_file = tmp_path / "token"
    token_file.write_text("projected-service-account-token\n")
    return {
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/iworkz-production-redis-exporter",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_REGION": "ap-northeast-1",
        "AWS_ENDPOINT_URL_STS": endpoint,
    }
