"""BucketReplication: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.bucket_replication import BucketReplication, BucketReplicationProps
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps
from tests.tf import new_app, one, policy_json, resources, synth_stack

SOURCE_KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/source"
REPLICA_KEY = "arn:aws:kms:ap-northeast-3:123456789012:key/replica"


def _setup(**overrides):
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    backup = AwsProvider(stack, "aws_backup", alias="backup", region="ap-northeast-3")
    source = SecureBucket(
        stack, "source", SecureBucketProps(bucket_name="src", kms_key_arn=SOURCE_KEY, access_log_bucket="logs")
    )
    replica = SecureBucket(
        stack,
        "replica",
        SecureBucketProps(bucket_name="dst", kms_key_arn=REPLICA_KEY, access_log_bucket="logs-3", provider=backup),
    )
    values = {
        "role_name": "src-replication",
        "source": source,
        "destination": replica,
        "source_kms_key_arn": SOURCE_KEY,
        "destination_kms_key_arn": REPLICA_KEY,
        "source_region": "ap-northeast-1",
        "destination_region": "ap-northeast-3",
        **overrides,
    }
    return stack, values


def test_defaults_replicate_kms_objects_with_a_least_privilege_role():
    stack, values = _setup()
    BucketReplication(stack, "replication", BucketReplicationProps(**values))
    doc = synth_stack(stack)
    ids = {body["bucket"]: logical for logical, body in resources(doc, "aws_s3_bucket").items()}
    source, replica = f"aws_s3_bucket.{ids['src']}", f"aws_s3_bucket.{ids['dst']}"
    config = one(doc, "aws_s3_bucket_replication_configuration")
    assert config["bucket"] == f"${{{source}.id}}"
    assert "provider" not in config  # configured on the source bucket, in its region
    [rule] = config["rule"]
    assert rule["status"] == "Enabled" and rule["delete_marker_replication"] == {"status": "Enabled"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert destination["bucket"] == f"${{{replica}.arn}}"
    assert destination["encryption_configuration"] == {"replica_kms_key_id": REPLICA_KEY}
    assert destination["storage_class"] == "STANDARD_IA" and "replication_time" not in destination
    assert len(config["depends_on"]) == 2 and all("aws_s3_bucket_versioning" in d for d in config["depends_on"])
    role = one(doc, "aws_iam_role")
    trust = policy_json(doc, role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"ArnLike": {"aws:SourceArn": f"${{{source}.arn}}"}}
    statements = {s["Sid"]: s for s in policy_json(doc, one(doc, "aws_iam_role_policy")["policy"])["Statement"]}
    assert all(s["Resource"] != "*" for s in statements.values())
    actions = [a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not any("*" in action for action in actions)
    assert statements["DecryptSource"]["Resource"] == SOURCE_KEY
    assert statements["DecryptSource"]["Condition"]["StringEquals"] == {
        "kms:ViaService": "s3.ap-northeast-1.amazonaws.com"
    }
    assert statements["EncryptReplicas"]["Resource"] == REPLICA_KEY
    assert statements["EncryptReplicas"]["Condition"]["StringEquals"] == {
        "kms:ViaService": "s3.ap-northeast-3.amazonaws.com"
    }
    assert statements["WriteReplicas"]["Resource"] == f"${{{replica}.arn}}/*"
    # the replica bucket lives in the backup region
    assert resources(doc, "aws_s3_bucket")[ids["dst"]]["provider"] == "aws.backup"


def test_all_options():
    stack, values = _setup(storage_class="GLACIER_IR", replicate_delete_markers=False, replication_time_control=True)
    BucketReplication(stack, "replication", BucketReplicationProps(**values))
    doc = synth_stack(stack)
    [rule] = one(doc, "aws_s3_bucket_replication_configuration")["rule"]
    assert rule["delete_marker_replication"] == {"status": "Disabled"}
    assert rule["destination"]["storage_class"] == "GLACIER_IR"
    assert rule["destination"]["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"destination_region": "ap-northeast-1"}, "two different regions"),
        ({"role_name": "r" * 65}, "at most 64"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    _, values = _setup(**overrides)
    with pytest.raises(ValueError, match=message):
        BucketReplicationProps(**values)
