"""Sidecar of redis_exporter: keeps an ElastiCache IAM authentication token in its password file.

The data stack's Redis has no password (ElastiCache RBAC with IAM authentication). A client
authenticates with its user id and a token: a SigV4-presigned ``connect`` request, valid for
15 minutes, signed with the pod's IRSA role (which may ``elasticache:Connect`` as that user).
redis_exporter opens a new connection on every scrape and reads passwords from a JSON file
(``--redis.password-file``: redis URI with user -> password), re-read on ``POST /-/reload``.

This loop writes a fresh token every ``REFRESH_SECONDS`` (well inside the 15 minutes) and
asks the exporter to reload it. The pod runs it twice: ``--once`` as an init container, so the
exporter starts with a token (it refuses to start without its file), then as a sidecar.

Environment: REDIS_HOST, REDIS_PORT, REDIS_USER, REPLICATION_GROUP_ID (from the data stack's
connection secret), AWS_REGION, AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (IRSA),
PASSWORD_FILE, EXPORTER_RELOAD_URL, REFRESH_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sigv4 import Credentials, WebIdentityCredentials, presign_url

TOKEN_LIFETIME_SECONDS = 900  # the longest ElastiCache accepts


def auth_token(
    replication_group_id: str, user_id: str, region: str, credentials: Credentials, now: dt.datetime | None = None
) -> str:
    """ElastiCache's IAM token: the presigned ``connect`` URL without its scheme."""
    query = urllib.parse.urlencode({"Action": "connect", "User": user_id})
    url = presign_url(
        f"http://{replication_group_id}/?{query}",
        credentials,
        region,
        "elasticache",
        expires=TOKEN_LIFETIME_SECONDS,
        now=now,
    )
    return url.removeprefix("http://")


def password_file_key(host: str, port: str, user: str) -> str:
    """The key redis_exporter looks a password up by: its REDIS_ADDR with the user added."""
    return f"rediss://{urllib.parse.quote(user, safe='')}@{host}:{port}"


def write_password_file(path: Path, passwords: dict[str, str]) -> None:
    """Replaces the file atomically: the exporter never reads half a file."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(passwords), encoding="utf-8")
    staging.chmod(0o600)
    os.replace(staging, path)


def reload_exporter(url: str) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        # Not up yet (first round): it reads the file when it starts.
        return False


def refresh_once(environ: dict[str, str], credentials: WebIdentityCredentials) -> bool:
    token = auth_token(environ["REPLICATION_GROUP_ID"], environ["REDIS_USER"], environ["AWS_REGION"], credentials.get())
    key = password_file_key(environ["REDIS_HOST"], environ["REDIS_PORT"], environ["REDIS_USER"])
    write_password_file(Path(environ["PASSWORD_FILE"]), {key: token})
    return reload_exporter(environ["EXPORTER_RELOAD_URL"])


def main(argv: list[str]) -> int:
    environ = dict(os.environ)
    refresh = int(environ.get("REFRESH_SECONDS", "300"))
    if not 0 < refresh < TOKEN_LIFETIME_SECONDS:
        print(f"REFRESH_SECONDS={refresh}: must be 1-{TOKEN_LIFETIME_SECONDS - 1}", file=sys.stderr)
        return 2
    credentials = WebIdentityCredentials("redis-exporter", environ)
    if argv == ["--once"]:
        refresh_once(environ, credentials)
        return 0
    while True:
        try:
            reloaded = refresh_once(environ, credentials)
            print(f"token refreshed; exporter reloaded: {reloaded}", flush=True)
        except Exception as error:  # keep the last token; it stays valid for the rest of its 15 minutes
            print(f"token refresh failed: {error}", file=sys.stderr, flush=True)
        time.sleep(refresh)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
