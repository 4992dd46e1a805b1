"""ACCESS_LOGGING: S3 buckets log server access."""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, finding, first, for_bucket

ID = "ACCESS_LOGGING"
DESCRIPTION = "S3 buckets log server access"
FIX = "add an aws_s3_bucket_logging to an access-log bucket (SecureBucket access_log_bucket)"


def check(stack: StackDocument) -> Iterator[Finding]:
    logging = for_bucket(stack, "aws_s3_bucket_logging")
    for bucket in stack.of("aws_s3_bucket"):
        if bucket.name not in logging and not first(bucket.get("logging")):
            yield finding(
                stack,
                bucket,
                ID,
                "aws_s3_bucket_logging",
                None,
                DESCRIPTION,
                "add an aws_s3_bucket_logging to an access-log bucket (SecureBucket access_log_bucket)",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
