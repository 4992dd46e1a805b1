"""Redis: all defaults, all options, bad props."""

from __future__ import annotations

import re

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.redis import REDIS_PORT, Redis, RedisProps
from tests.tf import new_app, one, resources, synth_stack

SOURCES = {"eks-nodes": "sg-nodes", "eks-cluster": "sg-cluster"}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _props(**overrides) -> RedisProps:
    values = {
        "replication_group_id": "iworkz-test-redis",
        "vpc_id": "vpc-1",
        "subnet_group_name": "cache-subnets",
        "client_security_groups": SOURCES,
        "kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/cache",
        "secret_kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/secrets",
        **overrides,
    }
    return RedisProps(**values)


def test_defaults_cluster_mode_encrypted_iam_auth():
    stack = _stack()
    redis = Redis(stack, "redis", _props())
    doc = synth_stack(stack)
    group = one(doc, "aws_elasticache_replication_group")
    expected = {
        "replication_group_id": "iworkz-test-redis",
        "engine": "redis",
        "engine_version": "7.1",
        "node_type": "cache.r7g.large",
        "port": 6379,
        "parameter_group_name": "default.redis7.cluster.on",
        "cluster_mode": "enabled",
        "num_node_groups": 3,
        "replicas_per_node_group": 2,
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "at_rest_encryption_enabled": "true",
        "kms_key_id": "arn:aws:kms:ap-northeast-1:123456789012:key/cache",
        "transit_encryption_enabled": True,
        "transit_encryption_mode": "required",
        "snapshot_retention_limit": 7,
        "final_snapshot_identifier": "iworkz-test-redis-final",
        "subnet_group_name": "cache-subnets",
    }
    assert {k: group.get(k) for k in expected} == expected
    assert redis.port == REDIS_PORT == 6379
    assert group["lifecycle"]["prevent_destroy"] is True
    # no token at all: RBAC user group with IAM users and a disabled default user
    assert "auth_token" not in group
    assert group["user_group_ids"] == ["${aws_elasticache_user_group.redis_user-group_4DDC20B9.user_group_id}"]
    users = {u["user_name"]: u for u in resources(doc, "aws_elasticache_user").values()}
    assert users["default"]["access_string"].startswith("off ")
    app = users["iworkz-test-redis-app"]
    assert app["authentication_mode"] == {"type": "iam"} and app["user_id"] == app["user_name"]
    assert all("passwords" not in u for u in users.values())
    user_group = one(doc, "aws_elasticache_user_group")
    assert len(user_group["user_ids"]) == 2
    # logs: slow and engine, 14 days, encrypted
    deliveries = {d["log_type"]: d for d in group["log_delivery_configuration"]}
    assert set(deliveries) == {"slow-log", "engine-log"}
    assert all(d["destination_type"] == "cloudwatch-logs" for d in deliveries.values())
    log_groups = resources(doc, "aws_cloudwatch_log_group").values()
    assert all(g["lifecycle"] == {"prevent_destroy": True} for g in log_groups)
    assert sorted(g["name"] for g in log_groups) == [
        "/aws/elasticache/iworkz-test-redis/engine-log",
        "/aws/elasticache/iworkz-test-redis/slow-log",
    ]
    assert all(g["retention_in_days"] == 14 and g["kms_key_id"].endswith("key/cache") for g in log_groups)
    # the connection secret holds no password and is encrypted with the secrets key
    secret = one(doc, "aws_secretsmanager_secret")
    assert secret["kms_key_id"].endswith("key/secrets") and secret["name"] == "iworkz-test-redis/connection"
    document = one(doc, "aws_secretsmanager_secret_version")["secret_string"]
    # built by Terraform from the cluster's attributes: jsonencode({"key" = value, ...})
    assert document.startswith("${jsonencode({") and document.endswith("})}")
    assert '"auth" = "iam"' in document and '"port" = 6379' in document and '"tls" = true' in document
    assert '"host" = aws_elasticache_replication_group.' in document
    assert not {"password", "auth_token", "token"} & set(re.findall(r'"([\w-]+)" =', document))
    # security group: 6379 from the given groups only
    rules = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["referenced_security_group_id"] for r in rules) == ["sg-cluster", "sg-nodes"]
    assert all((r["from_port"], r["to_port"]) == (6379, 6379) and "cidr_ipv4" not in r for r in rules)


def test_connect_statement_names_the_group_and_users():
    stack = _stack()
    redis = Redis(stack, "redis", _props(clients={"app": "on ~app:* +@all -@dangerous", "worker": "on ~* +@read"}))
    statement = redis.connect_statement("worker")
    assert statement["Action"] == "elasticache:Connect" and len(statement["Resource"]) == 2
    assert len(redis.connect_statement()["Resource"]) == 3


def test_all_options():
    stack = _stack()
    Redis(
        stack,
        "redis",
        _props(
            secret_name="iworkz-test/redis",
            clients={"api": "on ~api:* +@all -@dangerous", "jobs": "on ~jobs:* +@all -@dangerous"},
            engine_version="7.0",
            node_type="cache.t4g.small",
            shards=1,
            replicas_per_shard=1,
            snapshot_retention_days=3,
            snapshot_window="01:00-02:00",
            maintenance_window="sat:05:00-sat:06:00",
            log_retention_days=30,
            prevent_destroy=False,
            tags={"Team": "data"},
        ),
    )
    doc = synth_stack(stack)
    group = one(doc, "aws_elasticache_replication_group")
    assert (group["num_node_groups"], group["replicas_per_node_group"]) == (1, 1)
    assert group["node_type"] == "cache.t4g.small" and group["snapshot_retention_limit"] == 3
    assert group["snapshot_window"] == "01:00-02:00" and group["tags"]["Team"] == "data"
    assert "lifecycle" not in group or group["lifecycle"].get("prevent_destroy") is False
    names = sorted(u["user_name"] for u in resources(doc, "aws_elasticache_user").values())
    assert names == ["default", "iworkz-test-redis-api", "iworkz-test-redis-jobs"]
    assert one(doc, "aws_secretsmanager_secret")["name"] == "iworkz-test/redis"
    assert all(g["retention_in_days"] == 30 for g in resources(doc, "aws_cloudwatch_log_group").values())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"replication_group_id": "x" * 32}, "31 characters"),
        ({"engine_version": "6.2"}, "not Redis 7"),
        ({"replicas_per_shard": 0}, "at least one replica"),
        ({"shards": 0}, "shards must be 1-500"),
        ({"snapshot_retention_days": 0}, "snapshots off"),
        ({"clients": {}}, "at least one client"),
        ({"clients": {"app": "off ~* +@all"}}, "disabled access string"),
        ({"clients": {"a-very-long-client-name-x": "on ~* +@all"}}, "longer than 40"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)
