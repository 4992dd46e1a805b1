"""AWS credentials from the pod's IRSA identity and Signature Version 4, standard library only.

The in-cluster helpers of this directory run in a stock Python image: nothing is installed at
start-up and no AWS SDK is needed. They need two things from AWS:

- credentials: the EKS pod identity webhook mounts a projected service-account token and sets
  ``AWS_ROLE_ARN`` and ``AWS_WEB_IDENTITY_TOKEN_FILE``; :class:`WebIdentityCredentials` trades the
  token for temporary credentials (STS ``AssumeRoleWithWebIdentity``, an unsigned call) and renews
  them before they expire;
- signatures: :func:`sign_headers` for REST requests (OpenSearch) and :func:`presign_url` for
  presigned URLs (an ElastiCache IAM authentication token is one).

tests/runtime/test_sigv4.py checks both signatures against botocore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
STS_API_VERSION = "2011-06-15"
STS_NAMESPACE = "{https://sts.amazonaws.com/doc/2011-06-15/}"
# Renew this long before the credentials expire, so a signature never uses dying credentials.
RENEW_BEFORE = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None
    expiration: dt.datetime | None = None


def _quote(value: str) -> str:
    """RFC 3986 encoding as SigV4 wants it: everything but unreserved characters."""
    return urllib.parse.quote(value, safe="-_.~")


def _amz_date(now: dt.datetime) -> tuple[str, str]:
    utc = now.astimezone(dt.UTC)
    return utc.strftime("%Y%m%dT%H%M%SZ"), utc.strftime("%Y%m%d")


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{key}={value}" for key, value in sorted((_quote(k), _quote(v)) for k, v in pairs))


def _host(parts: urllib.parse.SplitResult) -> str:
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    return host if parts.port in (None, default_port) else f"{host}:{parts.port}"


def _signature(
    credentials: Credentials,
    method: str,
    parts: urllib.parse.SplitResult,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    payload_hash: str,
    scope: str,
    amz_date: str,
) -> str:
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in sorted(headers))
    canonical_request = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/~"),
            _canonical_query(query),
            canonical_headers,
            ";".join(sorted(headers)),
            payload_hash,
        ]
    )
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + credentials.secret_key).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign_headers(
    method: str,
    url: str,
    credentials: Credentials,
    region: str,
    service: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers to send with a request: the given ones plus Host, X-Amz-Date, the session token
    and Authorization (every header is signed)."""
    parts = urllib.parse.urlsplit(url)
    amz_date, date = _amz_date(now or dt.datetime.now(dt.UTC))
    scope = f"{date}/{region}/{service}/aws4_request"
    sent = {**(headers or {}), "Host": _host(parts), "X-Amz-Date": amz_date}
    if credentials.token:
        sent["X-Amz-Security-Token"] = credentials.token
    signed = {name.lower(): " ".join(value.split()) for name, value in sent.items()}
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    payload_hash = hashlib.sha256(body).hexdigest()
    signature = _signature(credentials, method, parts, query, signed, payload_hash, scope, amz_date)
    sent["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(sorted(signed))}, Signature={signature}"
    )
    return sent


def presign_url(
    url: str,
    credentials: Credentials,
    region: str,
    service: str,
    *,
    expires: int,
    now: dt.datetime | None = None,
) -> str:
    """``url`` (a GET) with the SigV4 query parameters that authorise it for ``expires`` seconds."""
    parts = urllib.parse.urlsplit(url)
    amz_date, date = _amz_date(now or dt.datetime.now(dt.UTC))
    scope = f"{date}/{region}/{service}/aws4_request"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.token:
        query.append(("X-Amz-Security-Token", credentials.token))
    payload_hash = hashlib.sha256(b"").hexdigest()
    signature = _signature(credentials, "GET", parts, query, {"host": _host(parts)}, payload_hash, scope, amz_date)
    signed_query = _canonical_query([*query, ("X-Amz-Signature", signature)])
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", signed_query, ""))


class WebIdentityCredentials:
    """Temporary credentials of the pod's IAM role (IRSA), renewed ahead of their expiry.

    Reads ``AWS_ROLE_ARN``, ``AWS_WEB_IDENTITY_TOKEN_FILE`` and ``AWS_REGION`` as the AWS SDKs do;
    ``AWS_ENDPOINT_URL_STS`` overrides the regional STS endpoint (also as in the SDKs).
    """

    def __init__(self, session_name: str, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        try:
            self.role_arn = env["AWS_ROLE_ARN"]
            self.token_file = env["AWS_WEB_IDENTITY_TOKEN_FILE"]
            region = env["AWS_REGION"]
        except KeyError as missing:
            raise RuntimeError(
                f"{missing.args[0]} is not set: the pod's service account needs the annotation "
                "eks.amazonaws.com/role-arn (IRSA) and AWS_REGION"
            ) from None
        self.endpoint = env.get("AWS_ENDPOINT_URL_STS") or f"https://sts.{region}.amazonaws.com/"
        self.session_name = session_name
        self._current: Credentials | None = None

    def get(self, now: dt.datetime | None = None) -> Credentials:
        now = now or dt.datetime.now(dt.UTC)
        current = self._current
        if current is None or current.expiration is None or current.expiration - RENEW_BEFORE <= now:
            self._current = current = self._assume_role()
        return current

    def _assume_role(self) -> Credentials:
        # The kubelet rotates the projected token: read it afresh each time.
        with open(self.token_file, encoding="utf-8") as token_file:
            token = token_file.read().strip()
        form = urllib.parse.urlencode(
            {
                "Action": "AssumeRoleWithWebIdentity",
                "Version": STS_API_VERSION,
                "RoleArn": self.role_arn,
                "RoleSessionName": self.session_name,
                "WebIdentityToken": token,
            }
        ).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=form,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            document = ElementTree.fromstring(response.read())
        found = document.find(f"{STS_NAMESPACE}AssumeRoleWithWebIdentityResult/{STS_NAMESPACE}Credentials")
        if found is None:
            raise RuntimeError(f"STS answered without credentials: {ElementTree.tostring(document)[:200]!r}")

        def field(name: str) -> str:
            return found.findtext(f"{STS_NAMESPACE}{name}") or ""

        return Credentials(
            access_key=field("AccessKeyId"),
            secret_key=field("SecretAccessKey"),
            token=field("SessionToken"),
            expiration=dt.datetime.fromisoformat(field("Expiration").replace("Z", "+00:00")),
        )
