"""runtime/sigv4.py against botocore, the reference implementation of SigV4."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from unittest import mock

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import sigv4
from tests.runtime.conftest import irsa_environ

NOW = dt.datetime(2026, 11, 28, 15, 4, 5, tzinfo=dt.UTC)
SESSION = sigv4.Credentials("ASIAEXAMPLEKEY", "secret/with+chars=", "session-token/+=")
LONG_TERM = sigv4.Credentials("AKIDEXAMPLE", "example/long-term+secret=")


def _boto(credentials: sigv4.Credentials) -> BotoCredentials:
    return BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token)


def _botocore_headers(method: str, url: str, headers: dict[str, str], body: bytes, credentials, service: str):
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(_boto(credentials), service, "ap-northeast-1").add_auth(request)
    return dict(request.headers)


@pytest.mark.parametrize("credentials", [SESSION, LONG_TERM], ids=["session", "long-term"])
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "https://vpc-search.ap-northeast-1.es.amazonaws.com/_plugins/_ism/policies/iworkz-logs", b""),
        (
            "PUT",
            "https://vpc-search.ap-northeast-1.es.amazonaws.com/_plugins/_ism/policies/iworkz-logs?if_seq_no=7&if_primary_term=1",
            b'{"policy": {"description": "\xe3\x83\xad\xe3\x82\xb0"}}',
        ),
        ("POST", "https://example.com:8443/a%20b/_doc/", b"{}"),
    ],
)
def test_sign_headers_matches_botocore(method: str, url: str, body: bytes, credentials: sigv4.Credentials) -> None:
    headers = {"Content-Type": "application/json"}
    ours = sigv4.sign_headers(method, url, credentials, "ap-northeast-1", "es", headers=headers, body=body, now=NOW)
    theirs = _botocore_headers(method, url, headers, body, credentials, "es")
    assert ours["Authorization"] == theirs["Authorization"]
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == theirs.get("X-Amz-Security-Token")


def test_sign_headers_changes_with_the_body() -> None:
    url = "https://search.example.com/_plugins/_security/api/rolesmapping/all_access"
    signed = [
        sigv4.sign_headers("PUT", url, SESSION, "ap-northeast-1", "es", body=body, now=NOW)["Authorization"]
        for body in (b"{}", b'{"users": []}')
    ]
    assert signed[0] != signed[1]


@pytest.mark.parametrize("credentials", [SESSION, LONG_TERM], ids=["session", "long-term"])
def test_presign_url_matches_botocore(credentials: sigv4.Credentials) -> None:
    """The ElastiCache IAM token recipe of the AWS documentation, through botocore."""
    url = "http://iworkz-production-redis/?Action=connect&User=iworkz-production-redis-monitoring"
    ours = sigv4.presign_url(url, credentials, "ap-northeast-1", "elasticache", expires=900, now=NOW)
    request = AWSRequest(method="GET", url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4QueryAuth(_boto(credentials), "elasticache", "ap-northeast-1", expires=900).add_auth(request)
    ours_parts, theirs_parts = urllib.parse.urlsplit(ours), urllib.parse.urlsplit(request.url)
    assert (ours_parts.scheme, ours_parts.netloc, ours_parts.path) == (
        theirs_parts.scheme,
        theirs_parts.netloc,
        theirs_parts.path,
    )
    # Same parameters (the order of a presigned URL's parameters is not signed).
    assert dict(urllib.parse.parse_qsl(ours_parts.query)) == dict(urllib.parse.parse_qsl(theirs_parts.query))


def test_presign_url_expires_as_asked() -> None:
    url = sigv4.presign_url("http://rg/?Action=connect&User=u", SESSION, "ap-northeast-1", "elasticache", expires=900)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["X-Amz-Expires"] == "900"
    assert query["X-Amz-Credential"].endswith("/ap-northeast-1/elasticache/aws4_request")


def test_web_identity_credentials_assume_the_pod_role(sts, tmp_path) -> None:
    endpoint, received = sts
    provider = sigv4.WebIdentityCredentials("redis-exporter", irsa_environ(tmp_path, endpoint))
    credentials = provider.get(now=NOW)
    assert credentials == sigv4.Credentials(
        "ASIAFROMSTS", "secret-from-sts", "token-from-sts", dt.datetime(2026, 11, 28, 16, 4, 5, tzinfo=dt.UTC)
    )
    assert received == [
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::123456789012:role/iworkz-production-redis-exporter",
            "RoleSessionName": "redis-exporter",
            "WebIdentityToken": "projected-service-account-token",
        }
    ]


def test_web_identity_credentials_are_reused_then_renewed(sts, tmp_path) -> None:
    endpoint, received = sts
    provider = sigv4.WebIdentityCredentials("redis-exporter", irsa_environ(tmp_path, endpoint))
    provider.get(now=NOW)
    provider.get(now=NOW + dt.timedelta(minutes=30))  # expires 16:04:05, renewed from 15:54:05
    assert len(received) == 1
    provider.get(now=NOW + dt.timedelta(minutes=51))
    assert len(received) == 2


def test_fails_without_irsa_environment() -> None:
    with pytest.raises(RuntimeError, match=r"AWS_ROLE_ARN is not set.*eks\.amazonaws\.com/role-arn"):
        sigv4.WebIdentityCredentials("redis-exporter", {"AWS_REGION": "ap-northeast-1"})
