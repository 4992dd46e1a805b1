"""ENCRYPTION_CMK: data at rest is encrypted with a customer-managed KMS key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iworkz.policy.rules.base import (
    Finding,
    Resource,
    Rule,
    StackDocument,
    blocks,
    finding,
    first,
    for_bucket,
    is_set,
    is_true,
)

ID = "ENCRYPTION_CMK"
DESCRIPTION = "data at rest is encrypted with a customer-managed KMS key"
FIX = "give the resource a customer-managed KMS key (KmsKey) for its encryption at rest"


_KMS_ATTRIBUTE: dict[str, str] = {
    "aws_cloudwatch_log_group": "kms_key_id",
    "aws_secretsmanager_secret": "kms_key_id",
    "aws_backup_vault": "kms_key_arn",
    "aws_sns_topic": "kms_master_key_id",
    # The endpoint's ML storage volume (the instance types the configuration admits take a key).
    "aws_sagemaker_endpoint_configuration": "kms_key_arn",
    "aws_bedrock_guardrail": "kms_key_arn",
}


def check(stack: StackDocument) -> Iterator[Finding]:
    def missing(resource: Resource, attribute: str, value: object, fix: str) -> Finding:
        return finding(stack, resource, ID, attribute, value, DESCRIPTION, fix)

    for resource_type, attribute in _KMS_ATTRIBUTE.items():
        for r in stack.of(resource_type):
            if not is_set(r.get(attribute)):
                yield missing(r, attribute, r.get(attribute), f"set {attribute} to a customer-managed KMS key ARN")
    for r in [*stack.of("aws_db_instance"), *stack.of("aws_rds_cluster")]:
        if not is_set(r.get("replicate_source_db")) and not is_true(r.get("storage_encrypted")):
            yield missing(r, "storage_encrypted", r.get("storage_encrypted"), "set storage_encrypted = true")
        if not is_set(r.get("kms_key_id")):
            yield missing(r, "kms_key_id", r.get("kms_key_id"), "set kms_key_id to a customer-managed KMS key ARN")
        if is_true(r.get("performance_insights_enabled")) and not is_set(r.get("performance_insights_kms_key_id")):
            yield missing(
                r,
                "performance_insights_kms_key_id",
                None,
                "set performance_insights_kms_key_id to a customer-managed KMS key ARN",
            )
    for r in stack.of("aws_elasticache_replication_group"):
        if not is_true(r.get("at_rest_encryption_enabled")):
            value = r.get("at_rest_encryption_enabled")
            yield missing(r, "at_rest_encryption_enabled", value, "set at_rest_encryption_enabled = true")
        if not is_set(r.get("kms_key_id")):
            yield missing(r, "kms_key_id", r.get("kms_key_id"), "set kms_key_id to a customer-managed KMS key ARN")
    for r in stack.of("aws_opensearch_domain"):
        rest = first(r.get("encrypt_at_rest"))
        if not is_true(rest.get("enabled")) or not is_set(rest.get("kms_key_id")):
            yield missing(
                r,
                "encrypt_at_rest",
                rest or None,
                "set encrypt_at_rest { enabled = true, kms_key_id = <customer-managed key ARN> }",
            )
    for r in stack.of("aws_dynamodb_table"):
        sse = first(r.get("server_side_encryption"))
        if not is_true(sse.get("enabled")) or not is_set(sse.get("kms_key_arn")):
            yield missing(
                r,
                "server_side_encryption",
                sse or None,
                "set server_side_encryption { enabled = true, kms_key_arn = <customer-managed key ARN> }",
            )
    for r in stack.of("aws_eks_cluster"):
        configs = blocks(r.get("encryption_config"))
        covered = any(
            "secrets" in (c.get("resources") or []) and is_set(first(c.get("provider")).get("key_arn")) for c in configs
        )
        if not covered:
            yield missing(
                r,
                "encryption_config",
                configs or None,
                'add encryption_config { resources = ["secrets"], provider { key_arn = <customer-managed key ARN> } }',
            )
    for r in stack.of("aws_ebs_volume"):
        if not is_true(r.get("encrypted")) or not is_set(r.get("kms_key_id")):
            yield missing(r, "kms_key_id", r.get("kms_key_id"), "set encrypted = true and kms_key_id")
    for r in stack.of("aws_launch_template"):
        mappings = blocks(r.get("block_device_mappings"))
        volumes = [first(m.get("ebs")) for m in mappings if m.get("ebs") is not None]
        if not volumes:
            yield missing(
                r,
                "block_device_mappings",
                None,
                "add block_device_mappings for the root volume with ebs { encrypted = true, kms_key_id = <key ARN> }",
            )
        for ebs in volumes:
            if not is_true(ebs.get("encrypted")) or not is_set(ebs.get("kms_key_id")):
                yield missing(
                    r,
                    "block_device_mappings.ebs",
                    ebs,
                    "set ebs { encrypted = true, kms_key_id = <customer-managed key ARN> }",
                )
    for bucket, sse in _bucket_encryption(stack):
        algorithm = sse.get("sse_algorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse") or not is_set(sse.get("kms_master_key_id")):
            yield missing(
                bucket,
                "server_side_encryption_configuration",
                sse or None,
                "add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = aws:kms and "
                "kms_master_key_id = <customer-managed key ARN> (SecureBucket does this when given kms_key_arn)",
            )


def _bucket_encryption(stack: StackDocument) -> Iterator[tuple[Resource, dict[str, Any]]]:
    configs = for_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration")
    for bucket in stack.of("aws_s3_bucket"):
        rules = [rule for config in configs.get(bucket.name, []) for rule in blocks(config.get("rule"))]
        inline = first(bucket.get("server_side_encryption_configuration"))
        rules.extend(blocks(inline.get("rule")))
        defaults = [first(rule.get("apply_server_side_encryption_by_default")) for rule in rules]
        yield bucket, (defaults[0] if defaults else {})


RULE = Rule(ID, DESCRIPTION, FIX, check)
