"""Applies the OpenSearch security roles, their IAM role mappings and the ISM policies.

Fine-grained access control keeps roles, role mappings and ISM policies inside the domain, behind
its REST API: no AWS API and no pinned Terraform provider manages them. The monitoring stack runs
this script as a Kubernetes Job whose service account assumes the domain's master role (IRSA);
every request is signed with SigV4 (``runtime/sigv4.py``).

Idempotent: roles and role mappings are replaced (PUT), an existing ISM policy is updated with
its sequence number (optimistic concurrency) and the indices of its template are moved to the
new version (change_policy), a missing one is created. ``all_access`` and the
other reserved roles are never touched: the master user's own mapping stays as AWS made it.

Environment: OPENSEARCH_ENDPOINT (host name), AWS_REGION, AWS_ROLE_ARN and
AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), CONFIG_FILE (JSON: ``roles``, ``role_mappings``,
``ism_policies``, each name -> request body), OPENSEARCH_URL (optional, overrides
``https://<endpoint>``).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from sigv4 import WebIdentityCredentials, sign_headers

RESERVED_ROLES = frozenset({"all_access", "security_manager", "manage_snapshots", "kibana_server"})
SERVICE = "es"


class OpenSearchError(RuntimeError):
    pass


class Client:
    """Signed JSON requests to one OpenSearch domain."""

    def __init__(self, base_url: str, region: str, credentials: Callable[[], Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.region = region
        self.credentials = credentials

    def request(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> tuple[int, Any]:
        url = f"{self.base_url}{path}"
        data = b"" if body is None else json.dumps(body).encode()
        headers = sign_headers(
            method,
            url,
            self.credentials(),
            self.region,
            SERVICE,
            headers={"Content-Type": "application/json"},
            body=data,
        )
        request = urllib.request.Request(url, data=data if body is not None else None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status not in ok:
            raise OpenSearchError(f"{method} {path}: HTTP {status}: {text[:500]}")
        return status, json.loads(text) if text else None


def apply(client: Client, config: dict[str, Any]) -> list[str]:
    """Applies the configuration; returns one line per change for the Job's log."""
    done = []
    for section, path in (("roles", "roles"), ("role_mappings", "rolesmapping")):
        for name, body in config.get(section, {}).items():
            if name in RESERVED_ROLES:
                raise OpenSearchError(f"{section}.{name}: reserved role, managed by the domain itself")
            client.request("PUT", f"/_plugins/_security/api/{path}/{urllib.parse.quote(name)}", body)
            done.append(f"{section}/{name}")
    for policy_id, body in config.get("ism_policies", {}).items():
        path = f"/_plugins/_ism/policies/{urllib.parse.quote(policy_id)}"
        status, current = client.request("GET", path, ok=(200, 404))
        if status == 404:
            client.request("PUT", path, body)
            done.append(f"ism_policies/{policy_id} created")
        else:
            query = urllib.parse.urlencode(
                {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
            )
            client.request("PUT", f"{path}?{query}", body)
            # Indices keep the policy version they started with: move the managed ones to the new one.
            patterns = [p for t in body.get("policy", {}).get("ism_template", []) for p in t.get("index_patterns", [])]
            for pattern in patterns:
                change = f"/_plugins/_ism/change_policy/{urllib.parse.quote(pattern, safe='')}"
                client.request("POST", change, {"policy_id": policy_id})
            done.append(f"ism_policies/{policy_id} updated; indices {', '.join(patterns) or '(none)'} moved to it")
    return done


def main() -> int:
    environ = dict(os.environ)
    with open(environ["CONFIG_FILE"], encoding="utf-8") as config_file:
        config = json.load(config_file)
    credentials = WebIdentityCredentials("opensearch-bootstrap", environ)
    base_url = environ.get("OPENSEARCH_URL") or f"https://{environ['OPENSEARCH_ENDPOINT']}"
    client = Client(base_url, environ["AWS_REGION"], credentials.get)
    try:
        for line in apply(client, config):
            print(line, flush=True)
    except (OpenSearchError, urllib.error.URLError) as error:
        print(f"opensearch bootstrap failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
