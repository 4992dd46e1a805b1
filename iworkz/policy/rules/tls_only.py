"""TLS_ONLY: data travels only over TLS."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from iworkz.policy.rules.base import (
    Finding,
    Rule,
    StackDocument,
    blocks,
    finding,
    first,
    for_bucket,
    is_false,
    is_set,
    is_true,
    referenced,
)

ID = "TLS_ONLY"
DESCRIPTION = "data travels only over TLS"
FIX = "require TLS on the resource (bucket policy, parameter group, transit encryption, endpoint options)"


def check(stack: StackDocument) -> Iterator[Finding]:
    policies = for_bucket(stack, "aws_s3_bucket_policy")
    for bucket in stack.of("aws_s3_bucket"):
        if not any(_denies_insecure_transport(stack, policy.get("policy")) for policy in policies.get(bucket.name, [])):
            yield finding(
                stack,
                bucket,
                ID,
                "aws_s3_bucket_policy",
                None,
                "no bucket policy denies requests with aws:SecureTransport = false",
                "add a bucket policy statement Deny s3:* when Bool aws:SecureTransport = false (SecureBucket does)",
            )
    groups = {g.name: g for g in stack.of("aws_db_parameter_group")}
    groups_by_literal = {str(g.get("name")): g for g in groups.values() if is_set(g.get("name"))}
    for r in stack.of("aws_db_instance"):
        value = r.get("parameter_group_name")
        group = groups.get(referenced(value, "aws_db_parameter_group") or "") or groups_by_literal.get(str(value))
        parameters = {str(p.get("name")): str(p.get("value")) for p in blocks(group.get("parameter"))} if group else {}
        if parameters.get("rds.force_ssl") != "1":
            yield finding(
                stack,
                r,
                ID,
                "parameter_group_name",
                value,
                "the instance's parameter group does not set rds.force_ssl = 1",
                "use an aws_db_parameter_group in this stack with parameter rds.force_ssl = 1",
            )
    for r in stack.of("aws_elasticache_replication_group"):
        if not is_true(r.get("transit_encryption_enabled")) or r.get("transit_encryption_mode") == "preferred":
            yield finding(
                stack,
                r,
                ID,
                "transit_encryption_enabled",
                r.get("transit_encryption_enabled"),
                DESCRIPTION,
                'set transit_encryption_enabled = true (transit_encryption_mode "required")',
            )
    for r in stack.of("aws_opensearch_domain"):
        options = first(r.get("domain_endpoint_options"))
        policy = str(options.get("tls_security_policy", ""))
        if not is_true(options.get("enforce_https")) or "TLS-1-0" in policy:
            yield finding(
                stack,
                r,
                ID,
                "domain_endpoint_options",
                options or None,
                DESCRIPTION,
                'set domain_endpoint_options { enforce_https = true, tls_security_policy = "Policy-Min-TLS-1-2-2019-07" }',
            )
        if not is_true(first(r.get("node_to_node_encryption")).get("enabled")):
            yield finding(
                stack,
                r,
                ID,
                "node_to_node_encryption",
                r.get("node_to_node_encryption"),
                DESCRIPTION,
                "set node_to_node_encryption { enabled = true }",
            )
    for r in stack.of("azurerm_storage_account"):
        if r.get("min_tls_version") not in ("TLS1_2", "TLS1_3") or is_false(r.get("https_traffic_only_enabled")):
            yield finding(
                stack,
                r,
                ID,
                "min_tls_version",
                r.get("min_tls_version"),
                DESCRIPTION,
                'set min_tls_version = "TLS1_2" and keep https_traffic_only_enabled = true',
            )


def _denies_insecure_transport(stack: StackDocument, policy: Any) -> bool:
    document_name = None
    if isinstance(policy, str):
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}", policy)
        document_name = match.group(1) if match else None
    if document_name is not None:
        document = ((stack.doc.get("data") or {}).get("aws_iam_policy_document") or {}).get(document_name) or {}
        for statement in blocks(document.get("statement")):
            for condition in blocks(statement.get("condition")):
                if (
                    statement.get("effect") == "Deny"
                    and condition.get("variable") == "aws:SecureTransport"
                    and [str(v).lower() for v in condition.get("values") or []] == ["false"]
                ):
                    return True
        return False
    try:
        parsed = json.loads(policy) if isinstance(policy, str) else policy
    except json.JSONDecodeError:
        return False
    if not isinstance(parsed, dict):
        return False
    statements = parsed.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if str(condition.get("aws:SecureTransport", "")).lower() == "false":
            return True
    return False


RULE = Rule(ID, DESCRIPTION, FIX, check)
