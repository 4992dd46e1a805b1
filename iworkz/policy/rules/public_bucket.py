"""PUBLIC_BUCKET: every bucket blocks public access (all four public access block settings true)."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, finding, for_bucket, is_false, is_true

ID = "PUBLIC_BUCKET"
DESCRIPTION = "every bucket blocks public access (all four public access block settings true)"
FIX = "block all public access and use private ACLs (SecureBucket does both)"


_PUBLIC_ACCESS_SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def check(stack: StackDocument) -> Iterator[Finding]:
    blocks_by_bucket = for_bucket(stack, "aws_s3_bucket_public_access_block")
    acls_by_bucket = for_bucket(stack, "aws_s3_bucket_acl")
    for bucket in stack.of("aws_s3_bucket"):
        settings = blocks_by_bucket.get(bucket.name, [])
        if not any(all(is_true(pab.get(key)) for key in _PUBLIC_ACCESS_SETTINGS) for pab in settings):
            yield finding(
                stack,
                bucket,
                ID,
                "aws_s3_bucket_public_access_block",
                [{key: pab.get(key) for key in _PUBLIC_ACCESS_SETTINGS} for pab in settings] or None,
                DESCRIPTION,
                "add an aws_s3_bucket_public_access_block with all four settings true (SecureBucket does this)",
            )
        for acl in acls_by_bucket.get(bucket.name, []):
            if str(acl.get("acl", "")).startswith("public"):
                yield finding(stack, bucket, ID, "acl", acl.get("acl"), DESCRIPTION, "use a private ACL")
    for r in stack.of("azurerm_storage_account"):
        if not is_false(r.get("allow_nested_items_to_be_public")):
            yield finding(
                stack,
                r,
                ID,
                "allow_nested_items_to_be_public",
                r.get("allow_nested_items_to_be_public"),
                "blobs can be made public (azurerm defaults this to true)",
                "set allow_nested_items_to_be_public = false",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
