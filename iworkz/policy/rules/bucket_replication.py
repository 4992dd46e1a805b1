"""BUCKET_REPLICATION: S3 buckets that hold data replicate to another region.

checkov's CKV_AWS_144 asks the same of every bucket, replicas and access-log targets included,
and cannot be skipped per bucket in terraform_json; this rule asks it of the buckets that hold
data of their own (neither an access-log target nor a replication destination).
"""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import Finding, Rule, StackDocument, data_buckets, finding, for_bucket

ID = "BUCKET_REPLICATION"
DESCRIPTION = "S3 buckets that hold data replicate to another region"
FIX = "replicate the bucket to the backup region (iworkz_constructs.bucket_replication)"


def check(stack: StackDocument) -> Iterator[Finding]:
    replicated = for_bucket(stack, "aws_s3_bucket_replication_configuration")
    for bucket in data_buckets(stack):
        if bucket.name not in replicated:
            yield finding(stack, bucket, ID, "aws_s3_bucket_replication_configuration", None, DESCRIPTION, FIX)


RULE = Rule(ID, DESCRIPTION, FIX, check)
