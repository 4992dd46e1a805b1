"""BACKUP_COVERAGE: every data store AWS Backup can protect is in a backup selection of its stack.

The stores: primary RDS instances and Aurora clusters (read replicas copy them), DynamoDB
tables, EFS file systems, EBS volumes and the S3 buckets that hold data of their own (not
access-log targets, not replicas). A selection covers a store when its ``resources`` reference
the store's ARN. ElastiCache and OpenSearch have no AWS Backup support: their own snapshots
cover them (snapshot retention, automated domain snapshots). EBS volumes that the EBS CSI
driver creates are selected by tag: each EBS StorageClass must set the backup tag
(``tagSpecification_*`` ``iworkz:backup=<prefix>``) that the data stack's selection matches.
"""

from __future__ import annotations

from collections.abc import Iterator

from iworkz.policy.rules.base import (
    Finding,
    Rule,
    StackDocument,
    data_buckets,
    finding,
    is_set,
    referenced,
)

ID = "BACKUP_COVERAGE"
DESCRIPTION = "every data store AWS Backup supports is in a backup selection (or its volumes carry the backup tag)"
FIX = "add the resource's ARN to the stack's aws_backup_selection (iworkz_constructs.backup_plan)"
BACKUP_TAG_KEY = "iworkz:backup"
_EBS_PROVISIONER = "ebs.csi.aws.com"


# AWS Backup's resource types that a stack here can hold (S3 buckets: those of data_buckets).
_BACKED_UP = ("aws_db_instance", "aws_rds_cluster", "aws_dynamodb_table", "aws_efs_file_system", "aws_ebs_volume")


def check(stack: StackDocument) -> Iterator[Finding]:
    selected = {
        (resource_type, name)
        for selection in stack.of("aws_backup_selection")
        for value in selection.get("resources") or []
        for resource_type in (*_BACKED_UP, "aws_s3_bucket")
        if (name := referenced(value, resource_type)) is not None
    }
    stores = [r for t in _BACKED_UP for r in stack.of(t) if not is_set(r.get("replicate_source_db"))]
    for store in [*stores, *data_buckets(stack)]:
        if (store.type, store.name) not in selected:
            yield finding(
                stack, store, ID, "aws_backup_selection", None, f"{store.type} is in no backup selection", FIX
            )
    for storage_class in stack.of("kubernetes_storage_class_v1"):
        if storage_class.get("storage_provisioner") != _EBS_PROVISIONER:
            continue
        parameters = storage_class.get("parameters") or {}
        tags = [v for k, v in parameters.items() if k.startswith("tagSpecification_") and isinstance(v, str)]
        if not any(tag.startswith(f"{BACKUP_TAG_KEY}=") for tag in tags):
            yield finding(
                stack,
                storage_class,
                ID,
                "parameters.tagSpecification_*",
                tags,
                "the EBS volumes of this StorageClass carry no backup tag, so no backup selection matches them",
                f"add the parameter tagSpecification_1 = {BACKUP_TAG_KEY}=<prefix> (the data stack's backup tag)",
            )


RULE = Rule(ID, DESCRIPTION, FIX, check)
