"""Postgres: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz.config.catalog import calendar, today
from iworkz_constructs.postgres import POSTGRES_PORT, BackupReplica, Postgres, PostgresProps
from iworkz_constructs.service_security_group import ServiceSecurityGroupProps
from tests.tf import new_app, one, outputs, policy_json, resources, synth_stack

SOURCES = {"eks-nodes": "sg-nodes", "eks-cluster": "sg-cluster"}


def _stack() -> tuple[TerraformStack, AwsProvider]:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    backup = AwsProvider(stack, "aws_backup", alias="backup", region="ap-northeast-3")
    return stack, backup


def _props(backup: AwsProvider, **overrides) -> PostgresProps:
    values = {
        "identifier": "iworkz-test-postgres",
        "vpc_id": "vpc-1",
        "db_subnet_group_name": "db-subnets",
        "client_security_groups": SOURCES,
        "kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/db",
        "master_user_secret_kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/secrets",
        "backup_replica": BackupReplica(provider=backup, kms_key_arn="arn:aws:kms:ap-northeast-3:123456789012:key/r"),
        **overrides,
    }
    return PostgresProps(**values)


def _primary(doc):
    return next(b for b in resources(doc, "aws_db_instance").values() if "replicate_source_db" not in b)


def _replicas(doc):
    return [b for b in resources(doc, "aws_db_instance").values() if "replicate_source_db" in b]


def test_defaults_are_secure_and_durable():
    stack, backup = _stack()
    db = Postgres(stack, "postgres", _props(backup))
    doc = synth_stack(stack)
    primary = _primary(doc)
    assert db.port == POSTGRES_PORT == 5432
    expected = {
        "identifier": "iworkz-test-postgres",
        "engine": "postgres",
        "engine_version": calendar("postgres").newest(today()),
        "instance_class": "db.r6g.xlarge",
        "allocated_storage": 100,
        "max_allocated_storage": 1000,
        "storage_type": "gp3",
        "storage_encrypted": True,
        "kms_key_id": "arn:aws:kms:ap-northeast-1:123456789012:key/db",
        "multi_az": True,
        "publicly_accessible": False,
        "port": 5432,
        "db_name": "iworkz",
        "username": "iworkz_admin",
        "manage_master_user_password": True,
        "master_user_secret_kms_key_id": "arn:aws:kms:ap-northeast-1:123456789012:key/secrets",
        "backup_retention_period": 7,
        "backup_window": "03:00-04:00",
        "maintenance_window": "sun:04:00-sun:05:00",
        "copy_tags_to_snapshot": True,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": "iworkz-test-postgres-final",
        "deletion_protection": True,
        "delete_automated_backups": False,
        "auto_minor_version_upgrade": True,
        "iam_database_authentication_enabled": True,
        "performance_insights_enabled": True,
        "performance_insights_kms_key_id": "arn:aws:kms:ap-northeast-1:123456789012:key/db",
        "monitoring_interval": 60,
        "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
    }
    assert {k: primary.get(k) for k in expected} == expected
    assert primary["lifecycle"]["prevent_destroy"] is True
    assert "password" not in primary and "password_wo" not in primary
    # parameter group: TLS forced, logical replication (static: pending-reboot)
    group = one(doc, "aws_db_parameter_group")
    assert group["family"] == "postgres16"
    params = {p["name"]: p for p in group["parameter"]}
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["rds.logical_replication"] == {
        "name": "rds.logical_replication",
        "value": "1",
        "apply_method": "pending-reboot",
    }
    assert primary["parameter_group_name"].startswith("${aws_db_parameter_group.")
    # enhanced monitoring role
    role = one(doc, "aws_iam_role")
    trust = policy_json(doc, role["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert one(doc, "aws_iam_role_policy_attachment")["policy_arn"].endswith(
        "service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert primary["monitoring_role_arn"].startswith("${aws_iam_role.")
    # logs: pre-created, encrypted, retained
    groups = {g["name"]: g for g in resources(doc, "aws_cloudwatch_log_group").values()}
    assert "/aws/rds/instance/iworkz-test-postgres/postgresql" in groups
    assert all(g["kms_key_id"] and g["retention_in_days"] == 365 for g in groups.values())
    assert all(g["lifecycle"] == {"prevent_destroy": True} for g in groups.values())
    # one replica from the primary, same security group, protected
    [replica] = _replicas(doc)
    assert replica["identifier"] == "iworkz-test-postgres-replica-1"
    assert (
        replica["replicate_source_db"].startswith("${aws_db_instance.")
        and "identifier" in replica["replicate_source_db"]
    )
    assert replica["vpc_security_group_ids"] == primary["vpc_security_group_ids"]
    assert replica["lifecycle"]["prevent_destroy"] is True and replica["deletion_protection"] is True
    assert replica["publicly_accessible"] is False and replica["storage_encrypted"] is True
    assert replica["multi_az"] is True
    # backups copied to the backup region with the replica-region key
    copy = one(doc, "aws_db_instance_automated_backups_replication")
    assert copy["provider"] == "aws.backup"
    assert copy["kms_key_id"] == "arn:aws:kms:ap-northeast-3:123456789012:key/r"
    assert copy["retention_period"] == 7
    assert copy["source_db_instance_arn"].endswith(".arn}")


def test_security_group_admits_only_the_given_groups():
    stack, backup = _stack()
    Postgres(stack, "postgres", _props(backup))
    doc = synth_stack(stack)
    group = one(doc, "aws_security_group")
    assert "ingress" not in group and "egress" not in group
    rules = resources(doc, "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["referenced_security_group_id"] for r in rules) == ["sg-cluster", "sg-nodes"]
    for rule in rules:
        assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (5432, 5432, "tcp")
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule
    assert not resources(doc, "aws_vpc_security_group_egress_rule")


def test_all_options():
    stack, backup = _stack()
    db = Postgres(
        stack,
        "postgres",
        _props(
            backup,
            backup_replica=None,
            backup_replica_opt_out="dev data is disposable and has no cross-region copy",
            engine_version="16.8",
            instance_class="db.t4g.medium",
            allocated_storage_gb=20,
            max_allocated_storage_gb=200,
            multi_az=False,
            read_replicas=2,
            backup_retention_days=14,
            backup_window="01:00-02:00",
            maintenance_window="sat:02:00-sat:03:00",
            database_name="app",
            master_username="owner",
            log_retention_days=30,
            performance_insights_retention_days=31,
            monitoring_interval=30,
            deletion_protection=False,
            prevent_destroy=False,
            tags={"Team": "data"},
        ),
    )
    TerraformOutput(stack, "reader", value=db.reader_endpoint)
    doc = synth_stack(stack)
    primary = _primary(doc)
    assert primary["engine_version"] == "16.8" and primary["multi_az"] is False
    assert primary["backup_retention_period"] == 14 and primary["db_name"] == "app"
    assert primary["performance_insights_retention_period"] == 31 and primary["monitoring_interval"] == 30
    assert primary["deletion_protection"] is False and primary["tags"]["Team"] == "data"
    assert "lifecycle" not in primary or primary["lifecycle"].get("prevent_destroy") is False
    assert [r["identifier"] for r in _replicas(doc)] == [
        "iworkz-test-postgres-replica-1",
        "iworkz-test-postgres-replica-2",
    ]
    assert not resources(doc, "aws_db_instance_automated_backups_replication")
    assert outputs(doc)["reader"]["value"] == "${aws_db_instance.postgres_replica-1_74135F4B.endpoint}"


def test_without_replicas_the_reader_endpoint_is_the_primary():
    stack, backup = _stack()
    db = Postgres(stack, "postgres", _props(backup, read_replicas=0))
    TerraformOutput(stack, "reader", value=db.reader_endpoint)
    doc = synth_stack(stack)
    assert not _replicas(doc)
    assert outputs(doc)["reader"]["value"] == "${aws_db_instance.postgres_primary_11FB0C6D.endpoint}"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"engine_version": "15.4"}, "not PostgreSQL 16.x"),
        ({"read_replicas": 6}, "read_replicas must be 0-5"),
        ({"backup_retention_days": 0}, "backup_retention_days"),
        ({"max_allocated_storage_gb": 50}, "max_allocated_storage_gb"),
        ({"monitoring_interval": 0}, "monitoring_interval"),
        ({"performance_insights_retention_days": 30}, "performance_insights_retention_days"),
        ({"backup_replica": None}, "backup_replica_opt_out"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    _, backup = _stack()
    with pytest.raises(ValueError, match=message):
        _props(backup, **overrides)


def test_fails_on_an_empty_source_list():
    stack, backup = _stack()
    with pytest.raises(ValueError, match="at least one source"):
        Postgres(stack, "postgres", _props(backup, client_security_groups={}))


@pytest.mark.parametrize("port", [0, 70000])
def test_fails_on_a_port_that_is_not_tcp(port):
    with pytest.raises(ValueError, match="is not a TCP port"):
        ServiceSecurityGroupProps(name="sg", description="d", vpc_id="vpc-1", port=port, sources={"a": "sg-1"})


def test_client_cidrs_add_one_rule_each():
    stack, backup = _stack()
    Postgres(stack, "postgres", _props(backup, client_cidrs={"dr-site": "10.100.128.0/20"}))
    rules = [
        r for r in resources(synth_stack(stack), "aws_vpc_security_group_ingress_rule").values() if "cidr_ipv4" in r
    ]
    assert [(r["cidr_ipv4"], r["from_port"], r["description"]) for r in rules] == [
        ("10.100.128.0/20", 5432, "port 5432 from dr-site")
    ]


def test_fails_on_a_public_client_cidr():
    with pytest.raises(ValueError, match="not private ranges"):
        ServiceSecurityGroupProps(
            name="sg",
            description="d",
            vpc_id="vpc-1",
            port=5432,
            sources={"a": "sg-1"},
            source_cidrs={"x": "8.8.8.0/24"},
        )
