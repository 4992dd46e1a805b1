"""security: audit trail, GuardDuty, Security Hub, AWS Config, account guards and findings alerts,
on the synthesised JSON of the account-level stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iworkz.config import ConfigError, load_settings
from iworkz.config.security import CONFIG_RULES, GUARDDUTY_FEATURES
from tests.configs import write_config
from tests.tf import one, outputs, resources


@pytest.fixture(scope="module")
def sec(stack):
    return stack("security")


def _by_name(doc: dict[str, Any], resource_type: str, attribute: str = "bucket") -> dict[str, dict[str, Any]]:
    return {body[attribute]: body for body in resources(doc, resource_type).values()}


def _bucket_ref(doc: dict[str, Any], name: str) -> str:
    [logical] = [n for n, b in resources(doc, "aws_s3_bucket").items() if b["bucket"] == name]
    return logical


def bucket_id(doc: dict[str, Any], name: str = "iworkz-audit-logs") -> str:
    return f"${{aws_s3_bucket.{_bucket_ref(doc, name)}.id}}"


def _satellite(doc: dict[str, Any], resource_type: str, bucket: str) -> dict[str, Any]:
    logical = _bucket_ref(doc, bucket)
    [found] = [b for b in resources(doc, resource_type).values() if b["bucket"] == f"${{aws_s3_bucket.{logical}.id}}"]
    return found


# --- CloudTrail --------------------------------------------------------------------------------


def test_trail_covers_every_region_with_validation_and_a_customer_key(sec):
    trail = one(sec, "aws_cloudtrail")
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["kms_key_id"].startswith("${aws_kms_key.audit-key_") and trail["kms_key_id"].endswith(".arn}")
    assert trail["s3_bucket_name"] == f"${{aws_s3_bucket.{_bucket_ref(sec, 'iworkz-audit-logs')}.bucket}}"
    assert trail["cloud_watch_logs_group_arn"].endswith(".arn}:*")
    # CloudTrail checks the bucket policy when the trail is created.
    [policy] = [n for n, b in resources(sec, "aws_s3_bucket_policy").items() if b["bucket"] == bucket_id(sec)]
    assert trail["depends_on"] == [f"aws_s3_bucket_policy.{policy}"]


def test_trail_logs_management_events_and_the_data_events_of_every_environments_data_buckets(sec, settings):
    management, data = one(sec, "aws_cloudtrail")["advanced_event_selector"]
    assert management["field_selector"] == [{"field": "eventCategory", "equals": ["Management"]}]
    fields = {selector["field"]: selector for selector in data["field_selector"]}
    assert fields["eventCategory"]["equals"] == ["Data"]
    assert fields["resources.type"]["equals"] == ["AWS::S3::Object"]
    expected = {
        f"arn:aws:s3:::iworkz-{env}-{bucket}{suffix}/"
        for env, config in settings.every_environment.items()
        for bucket in config.data.buckets
        for suffix in ("", f"-{config.aws.backup_region}")
    }
    assert set(fields["resources.ARN"]["starts_with"]) == expected
    assert "arn:aws:s3:::iworkz-production-documents/" in expected
    # The trail's own bucket is not a data-event source (it would log its own deliveries).
    assert not any("audit" in arn for arn in expected)


def test_audit_bucket_is_locked_in_compliance_mode_for_the_audit_retention_in_both_regions(sec, settings):
    audit = settings.common.security.audit_trail
    for name in ("iworkz-audit-logs", "iworkz-audit-logs-ap-northeast-3"):
        assert _by_name(sec, "aws_s3_bucket")[name]["object_lock_enabled"] is True
        lock = _satellite(sec, "aws_s3_bucket_object_lock_configuration", name)
        assert lock["rule"] == {"default_retention": {"mode": "COMPLIANCE", "days": audit.object_lock_days}}
        [rule] = _satellite(sec, "aws_s3_bucket_lifecycle_configuration", name)["rule"]
        assert rule["expiration"] == [{"days": audit.retention_days}]
        assert [(t["days"], t["storage_class"]) for t in rule["transition"]] == [(30, "STANDARD_IA"), (365, "GLACIER")]
    assert audit.object_lock_days >= audit.retention_days >= 7 * 365


def test_audit_bucket_is_access_logged_and_replicated_to_osaka_with_its_locks(sec):
    logging = _satellite(sec, "aws_s3_bucket_logging", "iworkz-audit-logs")
    assert logging["target_bucket"] == f"${{aws_s3_bucket.{_bucket_ref(sec, 'iworkz-audit-logs-access-logs')}.bucket}}"
    replica_logging = _satellite(sec, "aws_s3_bucket_logging", "iworkz-audit-logs-ap-northeast-3")
    replica_target = _bucket_ref(sec, "iworkz-audit-logs-access-logs-ap-northeast-3")
    assert replica_logging["target_bucket"] == f"${{aws_s3_bucket.{replica_target}.bucket}}"
    replication = _satellite(sec, "aws_s3_bucket_replication_configuration", "iworkz-audit-logs")
    [rule] = replication["rule"]
    assert (
        rule["destination"]["bucket"]
        == f"${{aws_s3_bucket.{_bucket_ref(sec, 'iworkz-audit-logs-ap-northeast-3')}.arn}}"
    )
    assert _by_name(sec, "aws_s3_bucket")["iworkz-audit-logs-ap-northeast-3"]["provider"] == "aws.backup"
    [role_policy] = [
        doc
        for name, doc in (sec["data"]["aws_iam_policy_document"]).items()
        if name.startswith("audit-replication_policy")
    ]
    read = next(s for s in role_policy["statement"] if s["sid"] == "ReadSourceVersions")
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold"} <= set(read["actions"])


def test_only_the_trail_and_config_of_this_account_write_into_the_audit_bucket(sec):
    reference = _satellite(sec, "aws_s3_bucket_policy", "iworkz-audit-logs")["policy"]
    policy = sec["data"]["aws_iam_policy_document"][reference.split(".")[2]]
    by_sid = {s["sid"]: s for s in policy["statement"]}
    writes = by_sid["CloudTrailWrites"]
    assert writes["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
    conditions = {c["variable"]: c["values"] for c in writes["condition"]}
    assert conditions["aws:SourceArn"] == [
        "arn:aws:cloudtrail:ap-northeast-1:${data.aws_caller_identity.current.account_id}:trail/iworkz-audit"
    ]
    assert conditions["s3:x-amz-acl"] == ["bucket-owner-full-control"]
    assert {c["variable"] for c in by_sid["ConfigWrites"]["condition"]} == {"aws:SourceAccount", "s3:x-amz-acl"}
    assert by_sid["DenyInsecureTransport"]["effect"] == "Deny"


def test_trail_log_group_is_encrypted_kept_a_year_and_alarms_reach_the_findings_topic(sec, settings):
    groups = _by_name(sec, "aws_cloudwatch_log_group", "name")
    group = groups["/aws/cloudtrail/iworkz-audit"]
    assert group["retention_in_days"] == settings.common.security.audit_trail.log_group_retention_days == 365
    assert group["kms_key_id"].startswith("${aws_kms_key.audit-key_")
    alarms = resources(sec, "aws_cloudwatch_metric_alarm")
    filters = resources(sec, "aws_cloudwatch_log_metric_filter")
    assert len(alarms) == len(filters) == 5
    topic = next(iter(resources(sec, "aws_sns_topic")))
    assert all(a["alarm_actions"] == [f"${{aws_sns_topic.{topic}.arn}}"] for a in alarms.values())
    root = next(f for f in filters.values() if f["name"].endswith("root-account-usage"))
    assert '$.userIdentity.type = "Root"' in root["pattern"]


# --- GuardDuty, Security Hub, Config -----------------------------------------------------------


def test_guardduty_enables_every_protection_plan_with_managed_runtime_agents(sec):
    detector = one(sec, "aws_guardduty_detector")
    assert detector["enable"] is True
    features = {f["name"]: f for f in resources(sec, "aws_guardduty_detector_feature").values()}
    assert set(features) == set(GUARDDUTY_FEATURES)
    assert {
        "S3_DATA_EVENTS",
        "EKS_AUDIT_LOGS",
        "RUNTIME_MONITORING",
        "RDS_LOGIN_EVENTS",
        "EBS_MALWARE_PROTECTION",
    } <= set(features)
    assert all(f["status"] == "ENABLED" for f in features.values())
    agents = {c["name"]: c["status"] for c in features["RUNTIME_MONITORING"]["additional_configuration"]}
    assert agents == {
        "EKS_ADDON_MANAGEMENT": "ENABLED",
        "EC2_AGENT_MANAGEMENT": "ENABLED",
        "ECS_FARGATE_AGENT_MANAGEMENT": "ENABLED",
    }


def test_security_hub_subscribes_exactly_fsbp_and_cis(sec):
    hub = one(sec, "aws_securityhub_account")
    assert hub["enable_default_standards"] is False
    arns = sorted(s["standards_arn"] for s in resources(sec, "aws_securityhub_standards_subscription").values())
    assert arns == [
        "arn:aws:securityhub:ap-northeast-1::standards/aws-foundational-security-best-practices/v/1.0.0",
        "arn:aws:securityhub:ap-northeast-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
    ]


def test_config_records_every_resource_into_the_audit_bucket_and_runs_the_framework_rules(sec):
    recorder = one(sec, "aws_config_configuration_recorder")
    assert recorder["recording_group"] == {"all_supported": True, "include_global_resource_types": True}
    channel = one(sec, "aws_config_delivery_channel")
    assert channel["s3_bucket_name"] == f"${{aws_s3_bucket.{_bucket_ref(sec, 'iworkz-audit-logs')}.bucket}}"
    assert channel["s3_kms_key_arn"].startswith("${aws_kms_key.audit-key_")
    assert one(sec, "aws_config_configuration_recorder_status")["is_enabled"] is True
    rules = {r["source"]["source_identifier"] for r in resources(sec, "aws_config_config_rule").values()}
    assert rules == set(CONFIG_RULES)
    assert {"CLOUD_TRAIL_ENABLED", "RDS_IN_BACKUP_PLAN", "S3_DEFAULT_ENCRYPTION_KMS", "IAM_PASSWORD_POLICY"} <= rules


def test_account_guards(sec):
    block = one(sec, "aws_s3_account_public_access_block")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert one(sec, "aws_ebs_encryption_by_default")["enabled"] is True
    password = one(sec, "aws_iam_account_password_policy")
    assert password["minimum_password_length"] >= 14 and password["password_reuse_prevention"] == 24
    assert all(password[k] is True for k in ("require_symbols", "require_numbers", "require_uppercase_characters"))
    assert one(sec, "aws_accessanalyzer_analyzer")["type"] == "ACCOUNT"


# --- findings ----------------------------------------------------------------------------------


def test_high_and_critical_findings_go_through_eventbridge_to_the_encrypted_topic(sec):
    topic_name, topic = next(iter(resources(sec, "aws_sns_topic").items()))
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.findings_key_")
    rules = {r["name"]: json.loads(r["event_pattern"]) for r in resources(sec, "aws_cloudwatch_event_rule").values()}
    guardduty = rules["iworkz-guardduty-findings"]
    assert guardduty["detail"]["severity"] == [{"numeric": [">=", 7]}]
    hub = rules["iworkz-security-hub-findings"]["detail"]["findings"]
    assert hub["Severity"]["Label"] == ["HIGH", "CRITICAL"] and hub["RecordState"] == ["ACTIVE"]
    targets = resources(sec, "aws_cloudwatch_event_target").values()
    assert {t["arn"] for t in targets} == {f"${{aws_sns_topic.{topic_name}.arn}}"}
    assert len(targets) == 2


def test_forwarder_reads_the_critical_receivers_from_the_webhook_secret_and_holds_no_url(sec):
    function = one(sec, "aws_lambda_function")
    variables = function["environment"]["variables"]
    assert variables == {
        "WEBHOOK_SECRETS": "iworkz-production/monitoring/alertmanager-webhooks",
        "RECEIVER": "critical",
    }
    assert function["runtime"] == "python3.13" and function["handler"] == "forwarder.handler"
    assert function["filename"].startswith("assets/") and function["filename"].endswith("/archive.zip")
    assert function["dead_letter_config"]["target_arn"].startswith("${aws_sqs_queue.")
    assert function["kms_key_arn"].startswith("${aws_kms_key.findings_key_")
    assert "https://" not in json.dumps(sec)
    subscription = one(sec, "aws_sns_topic_subscription")
    assert subscription["protocol"] == "lambda"
    [policy] = [
        d
        for n, d in sec["data"]["aws_iam_policy_document"].items()
        if n.startswith("findings_forwarder-policy-document")
    ]
    read = next(s for s in policy["statement"] if s["sid"] == "ReadReceiverUrls")
    assert read["resources"] == [
        "arn:aws:secretsmanager:ap-northeast-1:${data.aws_caller_identity.current.account_id}:secret:"
        "iworkz-production/monitoring/alertmanager-webhooks-??????"
    ]


def test_contract_publishes_the_findings_topic(sec):
    assert set(outputs(sec)) == {
        "findings_topic_arn",
        "findings_kms_key_arn",
        "audit_bucket",
        "trail_arn",
        "audit_log_group",
    }


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "field", "rule"),
    [
        (
            {"security": {"audit_trail": {"retention_days": 365}}},
            "security.audit_trail.retention_days",
            "at least 2555",
        ),
        (
            {"security": {"audit_trail": {"retention_days": 3000, "object_lock_days": 2555}}},
            "security.audit_trail.object_lock_days",
            "must cover the audit retention",
        ),
        (
            {"security": {"guardduty_features": [*GUARDDUTY_FEATURES, "EKS_RUNTIME_MONITORING"]}},
            "security.guardduty_features[6]",
            "unknown GuardDuty feature",
        ),
        (
            {"security": {"security_hub_standards": ["cis-aws-foundations-benchmark/v/9.9.9"]}},
            "security.security_hub_standards[0]",
            "unknown Security Hub standard",
        ),
        (
            {"security": {"guardduty_features": ["S3_DATA_EVENTS"]}},
            "security.guardduty_features",
            "needs a written reason",
        ),
        (
            {"security": {"disabled": {"guardduty_features.S3_DATA_EVENTS": "no data here"}}},
            "security.disabled.guardduty_features.S3_DATA_EVENTS",
            "names no control that is off",
        ),
        (
            {"security": {"audit_trail": {"log_group_retention_days": 30}}},
            "security.audit_trail.log_group_retention_days",
            "at least 365 days",
        ),
        ({"security": {"findings": {"environments": ["qa"]}}}, "security.findings.environments[0]", "not a configured"),
    ],
)
def test_bad_security_input_stops_at_the_config_edge(tmp_path, patch, field, rule):
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, None, patch))
    [problem] = caught.value.problems
    assert problem.file.endswith("common.yaml") and problem.field == field and rule in problem.rule, problem.render()
    assert problem.fix


def test_a_control_goes_off_with_its_reason(tmp_path):
    features = [f for f in GUARDDUTY_FEATURES if f != "LAMBDA_NETWORK_LOGS"]
    reason = "no Lambda function of this account reaches the internet"
    settings = load_settings(
        write_config(
            tmp_path,
            None,
            {
                "security": {
                    "guardduty_features": features,
                    "disabled": {"guardduty_features.LAMBDA_NETWORK_LOGS": reason},
                }
            },
        )
    )
    assert settings.common.security.disabled == {"guardduty_features.LAMBDA_NETWORK_LOGS": reason}
    with pytest.raises(ConfigError) as caught:
        load_settings(
            write_config(
                tmp_path / "short",
                None,
                {
                    "security": {
                        "guardduty_features": features,
                        "disabled": {"guardduty_features.LAMBDA_NETWORK_LOGS": "no"},
                    }
                },
            )
        )
    assert "written reason" in caught.value.problems[0].rule
