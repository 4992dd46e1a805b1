"""AUDIT_TRAIL: CloudTrail trails cover every region, sign their log files, encrypt them with a
customer-managed key and deliver into a bucket whose Object Lock is in COMPLIANCE mode."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import (
    Finding,
    Rule,
    StackDocument,
    finding,
    first,
    for_bucket,
    is_set,
    is_true,
    referenced,
)

ID = "AUDIT_TRAIL"
DESCRIPTION = "CloudTrail is multi-region, validated, KMS-encrypted and delivered into a COMPLIANCE-locked bucket"
FIX = "use iworkz_constructs.audit_trail (multi-region, log file validation, KMS, Object Lock bucket)"


def check(stack: StackDocument) -> Iterator[Finding]:
    locks = for_bucket(stack, "aws_s3_bucket_object_lock_configuration")
    for trail in stack.of("aws_cloudtrail"):
        for attribute in ("is_multi_region_trail", "enable_log_file_validation", "include_global_service_events"):
            if not is_true(trail.get(attribute)):
                yield finding(stack, trail, ID, attribute, trail.get(attribute), DESCRIPTION, f"set {attribute} = true")
        if not is_set(trail.get("kms_key_id")):
            yield finding(stack, trail, ID, "kms_key_id", None, DESCRIPTION, "encrypt with a customer-managed key")
        bucket = referenced(trail.get("s3_bucket_name"), "aws_s3_bucket")
        modes = [
            first(first(lock.get("rule")).get("default_retention")).get("mode") for lock in locks.get(bucket or "", [])
        ]
        if "COMPLIANCE" not in modes:
            yield finding(
                stack,
                trail,
                ID,
                "s3_bucket_name",
                trail.get("s3_bucket_name"),
                "the trail's bucket has no COMPLIANCE-mode Object Lock: log files could be deleted",
                "deliver into a bucket of this stack with SecureBucket object_lock_days",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
