"""The synth-time rules for what must never be missing (backup coverage, vault locks, bucket
replication, Azure delete locks, the audit trail), on small stack documents, and on the session synth."""

from __future__ import annotations

from typing import Any

import pytest

from iworkz.policy.rules import (
    AUDIT_TRAIL,
    AZURE_DELETE_LOCK,
    BACKUP_COVERAGE,
    BACKUP_VAULT_LOCK,
    BUCKET_REPLICATION,
    StackDocument,
    evaluate,
)


def _findings(resource: dict[str, Any], rule: str) -> list[str]:
    return sorted(f.address for f in evaluate(StackDocument("test", {"resource": resource})) if f.rule == rule)


BUCKETS: dict[str, Any] = {
    "aws_s3_bucket": {"data": {"bucket": "d"}, "logs": {"bucket": "l"}, "copy": {"bucket": "c"}},
    "aws_s3_bucket_logging": {
        "x": {"bucket": "${aws_s3_bucket.data.id}", "target_bucket": "${aws_s3_bucket.logs.bucket}"}
    },
    "aws_s3_bucket_replication_configuration": {
        "r": {"bucket": "${aws_s3_bucket.data.id}", "rule": [{"destination": {"bucket": "${aws_s3_bucket.copy.arn}"}}]}
    },
}


def test_backup_coverage_finds_a_data_store_outside_every_selection():
    resource = {
        **BUCKETS,
        "aws_db_instance": {"primary": {}, "replica": {"replicate_source_db": "${aws_db_instance.primary.identifier}"}},
    }
    assert _findings(resource, BACKUP_COVERAGE) == ["aws_db_instance.primary", "aws_s3_bucket.data"]
    covered = {
        **resource,
        "aws_backup_selection": {"s": {"resources": ["${aws_db_instance.primary.arn}", "${aws_s3_bucket.data.arn}"]}},
    }
    assert _findings(covered, BACKUP_COVERAGE) == []


def test_backup_coverage_requires_the_backup_tag_on_ebs_storage_classes():
    untagged = {"kubernetes_storage_class_v1": {"gp3": {"storage_provisioner": "ebs.csi.aws.com", "parameters": {}}}}
    assert _findings(untagged, BACKUP_COVERAGE) == ["kubernetes_storage_class_v1.gp3"]
    tagged = {
        "kubernetes_storage_class_v1": {
            "gp3": {"storage_provisioner": "ebs.csi.aws.com", "parameters": {"tagSpecification_1": "iworkz:backup=x"}}
        }
    }
    assert _findings(tagged, BACKUP_COVERAGE) == []


def test_vault_lock_needs_a_compliance_lock_and_every_plan_rule_a_copy():
    vault = {"aws_backup_vault": {"v": {"name": "v"}}}
    assert _findings(vault, BACKUP_VAULT_LOCK) == ["aws_backup_vault.v"]
    governance = {
        **vault,
        "aws_backup_vault_lock_configuration": {"l": {"backup_vault_name": "${aws_backup_vault.v.name}"}},
    }
    assert _findings(governance, BACKUP_VAULT_LOCK) == ["aws_backup_vault.v"]
    locked = {
        **vault,
        "aws_backup_vault_lock_configuration": {
            "l": {"backup_vault_name": "${aws_backup_vault.v.name}", "changeable_for_days": 3}
        },
        "aws_backup_plan": {"p": {"rule": [{"rule_name": "daily"}]}},
    }
    assert _findings(locked, BACKUP_VAULT_LOCK) == ["aws_backup_plan.p"]


def test_bucket_replication_asks_only_the_buckets_that_hold_data():
    assert _findings(BUCKETS, BUCKET_REPLICATION) == []
    unreplicated = {k: v for k, v in BUCKETS.items() if k != "aws_s3_bucket_replication_configuration"}
    assert _findings(unreplicated, BUCKET_REPLICATION) == ["aws_s3_bucket.copy", "aws_s3_bucket.data"]


def test_azure_delete_lock():
    server: dict[str, Any] = {"azurerm_postgresql_flexible_server": {"pg": {}}}
    assert _findings(server, AZURE_DELETE_LOCK) == ["azurerm_postgresql_flexible_server.pg"]
    read_only = {
        **server,
        "azurerm_management_lock": {
            "l": {"scope": "${azurerm_postgresql_flexible_server.pg.id}", "lock_level": "ReadOnly"}
        },
    }
    assert _findings(read_only, AZURE_DELETE_LOCK) == ["azurerm_postgresql_flexible_server.pg"]
    locked = {
        **server,
        "azurerm_management_lock": {
            "l": {"scope": "${azurerm_postgresql_flexible_server.pg.id}", "lock_level": "CanNotDelete"}
        },
    }
    assert _findings(locked, AZURE_DELETE_LOCK) == []


def test_audit_trail_needs_every_region_validation_kms_and_a_compliance_locked_bucket():
    trail = {
        "aws_cloudtrail": {"t": {"s3_bucket_name": "${aws_s3_bucket.audit.bucket}"}},
        "aws_s3_bucket": {"audit": {"bucket": "a"}},
    }
    attributes = {f.attribute for f in evaluate(StackDocument("test", {"resource": trail})) if f.rule == AUDIT_TRAIL}
    assert attributes == {
        "is_multi_region_trail",
        "enable_log_file_validation",
        "include_global_service_events",
        "kms_key_id",
        "s3_bucket_name",
    }
    good = {
        "aws_cloudtrail": {
            "t": {
                "s3_bucket_name": "${aws_s3_bucket.audit.bucket}",
                "is_multi_region_trail": True,
                "enable_log_file_validation": True,
                "include_global_service_events": True,
                "kms_key_id": "${aws_kms_key.k.arn}",
            }
        },
        "aws_s3_bucket": {"audit": {"bucket": "a"}},
        "aws_s3_bucket_object_lock_configuration": {
            "l": {
                "bucket": "${aws_s3_bucket.audit.id}",
                "rule": {"default_retention": {"mode": "COMPLIANCE", "days": 2555}},
            }
        },
    }
    assert _findings(good, AUDIT_TRAIL) == []


@pytest.mark.parametrize(
    "rule", [BACKUP_COVERAGE, BACKUP_VAULT_LOCK, BUCKET_REPLICATION, AZURE_DELETE_LOCK, AUDIT_TRAIL]
)
def test_the_session_synth_breaks_none_and_suppresses_only_with_reasons(synth_outdir, session_synth, rule):
    import json

    report = json.loads((synth_outdir / "policy-report.json").read_text())
    assert report["violations"] == []
    assert rule in report["rules"]
    for entry in report["suppressions"]:
        if entry["rule"] == rule:
            assert len(entry["reason"]) >= 10 and entry["suppressed_findings"], entry
