"""data-<environment>: PostgreSQL, Redis, OpenSearch, S3, KMS and secrets on the synthesised JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest

from iworkz.config import ConfigError, load_settings
from tests.configs import ENVIRONMENTS, write_config
from tests.tf import one, outputs, policy_json, resources

EKS_REMOTE = "${data.terraform_remote_state.eks-production.outputs."
NETWORK_REMOTE = "${data.terraform_remote_state.network-production.outputs."


@pytest.fixture(scope="module")
def prod(stack):
    return stack("data-production")


@pytest.fixture(scope="module")
def dev(stack):
    return stack("data-dev")


def _ref(doc: dict[str, Any], resource_type: str, predicate) -> str:
    [logical] = [name for name, body in resources(doc, resource_type).items() if predicate(body)]
    return f"{resource_type}.{logical}"


def _key(doc: dict[str, Any], alias: str) -> str:
    """``aws_kms_key.<logical>`` behind an alias."""
    [target] = [a["target_key_id"] for a in resources(doc, "aws_kms_alias").values() if a["name"] == f"alias/{alias}"]
    return target.removeprefix("${").removesuffix(".key_id}")


def _key_arn(doc: dict[str, Any], alias: str) -> str:
    return f"${{{_key(doc, alias)}.arn}}"


def _primary(doc):
    return next(b for b in resources(doc, "aws_db_instance").values() if "replicate_source_db" not in b)


def _replicas(doc):
    return [b for b in resources(doc, "aws_db_instance").values() if "replicate_source_db" in b]


# --- KMS ---------------------------------------------------------------------------------


def test_one_rotating_key_per_purpose_and_a_replica_region_key(prod):
    keys = resources(prod, "aws_kms_key")
    aliases = sorted(a["name"] for a in resources(prod, "aws_kms_alias").values())
    assert aliases == [
        f"alias/iworkz-production-{p}"
        for p in ("ap-northeast-3-backup", "backup", "buckets", "cache", "database", "replica", "search", "secrets")
    ]
    assert all(k["enable_key_rotation"] is True and k["lifecycle"]["prevent_destroy"] is True for k in keys.values())
    replica = keys[_key(prod, "iworkz-production-replica").split(".")[1]]
    assert replica["provider"] == "aws.backup"
    copy_vault = keys[_key(prod, "iworkz-production-ap-northeast-3-backup").split(".")[1]]
    assert copy_vault["provider"] == "aws.backup"
    assert all("provider" not in k for k in keys.values() if k is not replica and k is not copy_vault)


@pytest.mark.parametrize(
    ("purpose", "services", "logs"),
    [
        ("database", ["rds.ap-northeast-1.amazonaws.com"], True),
        ("cache", ["elasticache.ap-northeast-1.amazonaws.com"], True),
        ("search", ["es.ap-northeast-1.amazonaws.com"], True),
        ("buckets", ["s3.ap-northeast-1.amazonaws.com"], False),
        ("secrets", ["rds.ap-northeast-1.amazonaws.com", "secretsmanager.ap-northeast-1.amazonaws.com"], False),
        ("replica", ["rds.ap-northeast-3.amazonaws.com", "s3.ap-northeast-3.amazonaws.com"], False),
    ],
)
def test_key_policies_let_the_services_use_the_keys(prod, purpose, services, logs):
    key = resources(prod, "aws_kms_key")[_key(prod, f"iworkz-production-{purpose}").split(".")[1]]
    statements = {s["Sid"]: s for s in policy_json(prod, key["policy"])["Statement"]}
    via = statements["AccountUsesThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert ([via] if isinstance(via, str) else via) == services  # IAM writes one value as a string
    assert statements["ServicesCreateGrants"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert ("ServiceUsesLogs" in statements) is logs
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in statements.values())


# --- PostgreSQL --------------------------------------------------------------------------


def test_postgres_primary_matches_the_issue(prod, settings):
    pg = settings.environments["production"].data.postgres
    db = _primary(prod)
    assert db["identifier"] == "iworkz-production-postgres"
    assert db["engine"] == "postgres" and db["engine_version"] == pg.engine_version
    assert db["engine_version"].startswith("16.")
    assert db["instance_class"] == "db.r6g.xlarge"
    assert (db["allocated_storage"], db["max_allocated_storage"], db["storage_type"]) == (100, 1000, "gp3")
    assert db["storage_encrypted"] is True and db["kms_key_id"] == _key_arn(prod, "iworkz-production-database")
    assert db["multi_az"] is True and db["publicly_accessible"] is False
    assert (db["db_name"], db["username"], db["port"]) == ("iworkz", "iworkz_admin", 5432)
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"] == _key_arn(prod, "iworkz-production-secrets")
    assert db["backup_retention_period"] >= 7 and db["backup_window"] == "03:00-04:00"
    assert db["maintenance_window"] == "sun:04:00-sun:05:00"
    assert db["copy_tags_to_snapshot"] is True and db["auto_minor_version_upgrade"] is True
    assert db["skip_final_snapshot"] is False and db["final_snapshot_identifier"] == "iworkz-production-postgres-final"
    assert db["deletion_protection"] is True and db["lifecycle"]["prevent_destroy"] is True
    assert db["performance_insights_enabled"] is True
    assert db["performance_insights_kms_key_id"] == _key_arn(prod, "iworkz-production-database")
    assert db["monitoring_interval"] == 60
    role = _ref(prod, "aws_iam_role", lambda r: _trusts(prod, r, "monitoring.rds.amazonaws.com"))
    assert db["monitoring_role_arn"] == f"${{{role}.arn}}"
    [attachment] = [
        a for a in resources(prod, "aws_iam_role_policy_attachment").values() if a["role"] == f"${{{role}.name}}"
    ]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert attachment["role"] == f"${{{role}.name}}"
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert db["iam_database_authentication_enabled"] is True
    assert db["db_subnet_group_name"] == NETWORK_REMOTE + "db_subnet_group_name}"
    assert not {"password", "password_wo"} & set(db)


def test_postgres_parameter_group_forces_tls_and_logical_replication(prod):
    group = one(prod, "aws_db_parameter_group")
    assert group["family"] == "postgres16"
    params = {p["name"]: (p["value"], p["apply_method"]) for p in group["parameter"]}
    assert params["rds.force_ssl"][0] == "1"
    assert params["rds.logical_replication"] == ("1", "pending-reboot")
    assert _primary(prod)["parameter_group_name"] == f"${{{_ref(prod, 'aws_db_parameter_group', lambda b: True)}.name}}"


def test_read_replicas_follow_the_configuration(prod, dev, settings):
    replicas = _replicas(prod)
    assert len(replicas) == settings.environments["production"].data.postgres.read_replicas == 1
    primary = _ref(prod, "aws_db_instance", lambda b: "replicate_source_db" not in b)
    for replica in replicas:
        assert replica["replicate_source_db"] == f"${{{primary}.identifier}}"
        assert replica["vpc_security_group_ids"] == _primary(prod)["vpc_security_group_ids"]
        assert replica["lifecycle"]["prevent_destroy"] is True and replica["deletion_protection"] is True
        assert replica["publicly_accessible"] is False
        assert replica["multi_az"] is True
        assert replica["iam_database_authentication_enabled"] is True
    assert settings.environments["dev"].data.postgres.read_replicas == 0
    assert _replicas(dev) == []


def test_postgres_backups_are_replicated_to_osaka(prod):
    copy = one(prod, "aws_db_instance_automated_backups_replication")
    assert copy["provider"] == "aws.backup"
    assert copy["kms_key_id"] == _key_arn(prod, "iworkz-production-replica")
    primary = _ref(prod, "aws_db_instance", lambda b: "replicate_source_db" not in b)
    assert copy["source_db_instance_arn"] == f"${{{primary}.arn}}"
    backup_provider = next(p for p in prod["provider"]["aws"] if p.get("alias") == "backup")
    assert backup_provider["region"] == "ap-northeast-3"


def test_postgres_logs_are_encrypted_log_groups(prod):
    groups = {g["name"]: g for g in resources(prod, "aws_cloudwatch_log_group").values()}
    for name in ("postgresql", "upgrade"):
        group = groups[f"/aws/rds/instance/iworkz-production-postgres/{name}"]
        assert group["kms_key_id"] == _key_arn(prod, "iworkz-production-database")


# --- security groups ----------------------------------------------------------------------


def _eks_source(eks_doc, reference: str) -> str:
    output = reference.removeprefix(EKS_REMOTE).removesuffix("}")
    return eks_doc["output"][output]["value"]


@pytest.mark.parametrize(
    ("service", "port"),
    [("postgres", 5432), ("redis", 6379), ("search", 443)],
)
def test_security_groups_admit_only_the_eks_groups(prod, stack, service, port):
    eks = stack("eks-production")
    group = _ref(prod, "aws_security_group", lambda g: g["name"] == f"iworkz-production-{service}-sg")
    rules = [
        r
        for r in resources(prod, "aws_vpc_security_group_ingress_rule").values()
        if group in r["security_group_id"] and "cidr_ipv4" not in r
    ]
    assert len(rules) == 2
    sources = set()
    for rule in rules:
        assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (port, port, "tcp")
        assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule)
        assert rule["referenced_security_group_id"].startswith(EKS_REMOTE)
        sources.add(_eks_source(eks, rule["referenced_security_group_id"]))
    [cluster_sg] = [
        s for s in sources if re.fullmatch(r"\$\{aws_eks_cluster\.\w+\.vpc_config\[0\]\.cluster_security_group_id\}", s)
    ]
    [node_sg] = sources - {cluster_sg}
    assert re.fullmatch(r"\$\{aws_security_group\.[\w-]+\.id\}", node_sg)
    assert "node" in node_sg


def _cidr_rules(doc, service: str) -> list[dict]:
    group = _ref(doc, "aws_security_group", lambda g: g["name"].endswith(f"-{service}-sg"))
    return [
        r
        for r in resources(doc, "aws_vpc_security_group_ingress_rule").values()
        if group in r["security_group_id"] and "cidr_ipv4" in r
    ]


def test_only_the_dr_site_postgres_subnet_reaches_postgres_by_cidr(prod, stack, settings):
    # The Azure PostgreSQL subscriber (logical replication) connects over the site-to-site VPN.
    [rule] = _cidr_rules(prod, "postgres")
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (5432, 5432, "tcp")
    assert rule["cidr_ipv4"] == "10.100.128.0/20"
    for service in ("redis", "search"):
        assert not _cidr_rules(prod, service)
    assert not settings.environments["staging"].dr_azure.enabled
    assert not _cidr_rules(stack("data-staging"), "postgres")


def test_no_inline_rules(prod):
    for group in resources(prod, "aws_security_group").values():
        assert "ingress" not in group and "egress" not in group
    assert not resources(prod, "aws_vpc_security_group_egress_rule")
    assert not resources(prod, "aws_security_group_rule")


# --- Redis ---------------------------------------------------------------------------------


def test_redis_matches_the_issue(prod, settings):
    cfg = settings.environments["production"].data.redis
    group = one(prod, "aws_elasticache_replication_group")
    assert group["replication_group_id"] == "iworkz-production-redis"
    assert group["engine"] == "redis" and group["engine_version"].startswith("7.")
    assert group["cluster_mode"] == "enabled" and group["parameter_group_name"] == "default.redis7.cluster.on"
    assert (group["num_node_groups"], group["replicas_per_node_group"]) == (cfg.shards, cfg.replicas_per_shard)
    assert group["node_type"] == "cache.r7g.large" and group["port"] == 6379
    assert group["multi_az_enabled"] is True and group["automatic_failover_enabled"] is True
    assert group["at_rest_encryption_enabled"] == "true"
    assert group["kms_key_id"] == _key_arn(prod, "iworkz-production-cache")
    assert group["transit_encryption_enabled"] is True and group["transit_encryption_mode"] == "required"
    assert group["snapshot_retention_limit"] == cfg.snapshot_retention_days >= 1
    assert group["final_snapshot_identifier"] == "iworkz-production-redis-final"
    assert group["lifecycle"]["prevent_destroy"] is True
    assert group["subnet_group_name"] == NETWORK_REMOTE + "elasticache_subnet_group_name}"
    assert "auth_token" not in group
    users = resources(prod, "aws_elasticache_user").values()
    assert {u["authentication_mode"]["type"] for u in users if u["user_name"] != "default"} == {"iam"}
    assert all(u["access_string"].startswith("off") for u in users if u["user_name"] == "default")
    logs = {d["log_type"]: d["destination"] for d in group["log_delivery_configuration"]}
    assert set(logs) == {"slow-log", "engine-log"}
    groups = {
        f"${{aws_cloudwatch_log_group.{n}.name}}": g for n, g in resources(prod, "aws_cloudwatch_log_group").items()
    }
    for destination in logs.values():
        assert groups[destination]["retention_in_days"] == 14
        assert groups[destination]["kms_key_id"] == _key_arn(prod, "iworkz-production-cache")


# --- OpenSearch ----------------------------------------------------------------------------


def test_opensearch_matches_the_issue(prod):
    domain = one(prod, "aws_opensearch_domain")
    assert domain["domain_name"] == "iworkz-production-search"
    assert domain["engine_version"].startswith("OpenSearch_2.")
    cluster = domain["cluster_config"]
    assert cluster["zone_awareness_enabled"] is True
    assert cluster["zone_awareness_config"]["availability_zone_count"] == 3
    assert (cluster["dedicated_master_enabled"], cluster["dedicated_master_count"]) == (True, 3)
    assert cluster["instance_count"] % 3 == 0
    assert domain["ebs_options"]["volume_type"] == "gp3"
    assert domain["encrypt_at_rest"] == {"enabled": True, "kms_key_id": _key_arn(prod, "iworkz-production-search")}
    assert domain["node_to_node_encryption"]["enabled"] is True
    assert domain["domain_endpoint_options"]["enforce_https"] is True
    assert domain["domain_endpoint_options"]["tls_security_policy"] == "Policy-Min-TLS-1-2-PFS-2023-10"
    security = domain["advanced_security_options"]
    assert security["enabled"] is True and security["internal_user_database_enabled"] is False
    master = _ref(prod, "aws_iam_role", lambda r: r["name"] == "iworkz-production-search-admin")
    assert security["master_user_options"] == {"master_user_arn": f"${{{master}.arn}}"}
    subnets = domain["vpc_options"]["subnet_ids"]
    remote = NETWORK_REMOTE.removeprefix("${")
    assert subnets == [f"${{element({remote}private_subnet_ids, {zone})}}" for zone in range(3)]
    [statement] = policy_json(prod, domain["access_policies"])["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"}
    assert statement["Resource"].endswith(":domain/iworkz-production-search/*")
    published = {o["log_type"] for o in domain["log_publishing_options"] if o["enabled"]}
    assert published == {"AUDIT_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"}
    log_policy = policy_json(prod, one(prod, "aws_cloudwatch_log_resource_policy")["policy_document"])
    assert log_policy["Statement"][0]["Principal"] == {"Service": "es.amazonaws.com"}
    assert domain["lifecycle"]["prevent_destroy"] is True


def test_production_and_staging_have_the_warm_and_cold_log_tiers(prod, stack, settings):
    # The ISM policy's warm_migration / cold_migration need UltraWarm and cold storage (seed 12.1).
    for env, doc in (("production", prod), ("staging", stack("data-staging"))):
        search = settings.environments[env].data.opensearch
        cluster = one(doc, "aws_opensearch_domain")["cluster_config"]
        assert (cluster["warm_enabled"], cluster["warm_count"], cluster["warm_type"]) == (
            True,
            search.warm_count,
            search.warm_instance_type,
        )
        assert (search.warm_count, search.warm_instance_type) == (2, "ultrawarm1.medium.search")
        assert cluster["cold_storage_options"] == {"enabled": True}
        assert cluster["dedicated_master_enabled"] is True


def test_dev_keeps_logs_hot(dev):
    cluster = one(dev, "aws_opensearch_domain")["cluster_config"]
    assert cluster["instance_type"].startswith("t3.")
    assert cluster["warm_enabled"] is False
    assert not {"warm_count", "warm_type", "cold_storage_options"} & set(cluster)


def _master_role(doc: dict[str, Any], env: str) -> tuple[str, dict[str, Any]]:
    [(logical, role)] = [
        (name, r) for name, r in resources(doc, "aws_iam_role").items() if r["name"] == f"iworkz-{env}-search-admin"
    ]
    return logical, role


def _eks_output(eks_doc: dict[str, Any], remote: str, pattern: str) -> str:
    """``<remote>.<output>`` of the one EKS output (its contract) whose value matches ``pattern``."""
    [name] = [name for name, out in eks_doc["output"].items() if re.fullmatch(pattern, out["value"])]
    return f"{remote.removeprefix('${')}{name}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_opensearch_bootstrap_service_account_assumes_the_master_role(stack, env):
    from iworkz.contracts import OPENSEARCH_ADMIN_NAMESPACE, OPENSEARCH_ADMIN_SERVICE_ACCOUNT

    # The names the monitoring stack's bootstrap Job uses (the data stack's contract).
    assert (OPENSEARCH_ADMIN_NAMESPACE, OPENSEARCH_ADMIN_SERVICE_ACCOUNT) == (
        "opensearch-setup",
        "opensearch-bootstrap",
    )
    doc, eks = stack(f"data-{env}"), stack(f"eks-{env}")
    remote = EKS_REMOTE.replace("-production.", f"-{env}.")
    logical, role = _master_role(doc, env)
    domain = one(doc, "aws_opensearch_domain")
    assert domain["advanced_security_options"]["master_user_options"]["master_user_arn"] == (
        f"${{aws_iam_role.{logical}.arn}}"
    )
    # The EKS cluster's OIDC provider and its issuer without https:// (Terraform's replace()).
    provider_arn = "${" + _eks_output(eks, remote, r"\$\{aws_iam_openid_connect_provider\.[\w-]+\.arn\}") + "}"
    issuer_pattern = r'\$\{replace\(aws_eks_cluster\.[\w-]+\.identity\[0\]\.oidc\[0\]\.issuer, "https://", ""\)\}'
    issuer = "${" + _eks_output(eks, remote, issuer_pattern) + "}"
    human, service_account = policy_json(doc, role["assume_role_policy"])["Statement"]
    assert human["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert service_account == {
        "Sid": "ServiceAccountAssumesRole",
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{issuer}:sub": "system:serviceaccount:opensearch-setup:opensearch-bootstrap",
                f"{issuer}:aud": "sts.amazonaws.com",
            }
        },
    }


def test_master_role_may_call_the_domain_http_api(prod):
    logical, _ = _master_role(prod, "production")
    [policy] = [
        p for p in resources(prod, "aws_iam_role_policy").values() if p["role"] == f"${{aws_iam_role.{logical}.id}}"
    ]
    [statement] = policy_json(prod, policy["policy"])["Statement"]
    # The domain's access policy delegates to IAM: the master role needs an identity policy.
    [delegation] = policy_json(prod, one(prod, "aws_opensearch_domain")["access_policies"])["Statement"]
    domain_arn = delegation["Resource"].removesuffix("/*")
    assert domain_arn.endswith(":domain/iworkz-production-search")
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == [domain_arn, f"{domain_arn}/*"]
    assert sorted(statement["Action"]) == sorted(
        f"es:ESHttp{verb}" for verb in ("Get", "Head", "Post", "Put", "Delete", "Patch")
    )


def test_dev_keeps_the_ha_topology_on_small_instances(dev):
    cluster = one(dev, "aws_opensearch_domain")["cluster_config"]
    assert cluster["dedicated_master_enabled"] is True
    assert (cluster["dedicated_master_count"], cluster["dedicated_master_type"]) == (3, "t3.small.search")
    primary = next(db for db in resources(dev, "aws_db_instance").values() if "replicate_source_db" not in db)
    assert primary["multi_az"] is True and primary["instance_class"] == "db.t4g.medium"


# --- S3 ------------------------------------------------------------------------------------


def _buckets(doc):
    return {b["bucket"]: name for name, b in resources(doc, "aws_s3_bucket").items()}


def _by_bucket(doc, resource_type):
    """Per-bucket resources (encryption, lifecycle, ...) keyed by bucket name."""
    names = {f"${{aws_s3_bucket.{logical}.id}}": bucket for bucket, logical in _buckets(doc).items()}
    return {names[r["bucket"]]: r for r in resources(doc, resource_type).values()}


PRIMARY = ["iworkz-production-documents", "iworkz-production-backups"]
REPLICAS = [f"{b}-ap-northeast-3" for b in PRIMARY]


def test_buckets_exist_protected_and_replicas_live_in_osaka(prod):
    buckets = resources(prod, "aws_s3_bucket")
    names = _buckets(prod)
    assert sorted(names) == sorted(
        [*PRIMARY, *REPLICAS, "iworkz-production-access-logs", "iworkz-production-access-logs-ap-northeast-3"]
    )
    for name, logical in names.items():
        bucket = buckets[logical]
        assert bucket["lifecycle"]["prevent_destroy"] is True and bucket["force_destroy"] is False
        assert (bucket.get("provider") == "aws.backup") is name.endswith("-ap-northeast-3")


def test_bucket_encryption_logging_and_public_access(prod):
    encryption = _by_bucket(prod, "aws_s3_bucket_server_side_encryption_configuration")
    for name in PRIMARY:
        rule = encryption[name]["rule"][0]["apply_server_side_encryption_by_default"]
        assert rule == {"sse_algorithm": "aws:kms", "kms_master_key_id": _key_arn(prod, "iworkz-production-buckets")}
    for name in REPLICAS:
        rule = encryption[name]["rule"][0]["apply_server_side_encryption_by_default"]
        assert rule["kms_master_key_id"] == _key_arn(prod, "iworkz-production-replica")
    assert encryption["iworkz-production-access-logs"]["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "AES256"
    }
    logging = _by_bucket(prod, "aws_s3_bucket_logging")
    assert sorted(logging) == sorted(PRIMARY + REPLICAS)
    blocks = _by_bucket(prod, "aws_s3_bucket_public_access_block")
    assert len(blocks) == 6 and all(b["restrict_public_buckets"] and b["block_public_policy"] for b in blocks.values())
    ownership = _by_bucket(prod, "aws_s3_bucket_ownership_controls")
    assert {o["rule"]["object_ownership"] for o in ownership.values()} == {"BucketOwnerEnforced"}
    for policy in _by_bucket(prod, "aws_s3_bucket_policy").values():
        (deny,) = [s for s in policy_json(prod, policy["policy"])["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_lifecycle_follows_the_configuration(prod, settings):
    cfg = settings.environments["production"].data.lifecycle
    lifecycle = _by_bucket(prod, "aws_s3_bucket_lifecycle_configuration")
    for name in PRIMARY + REPLICAS:
        [rule] = lifecycle[name]["rule"]
        assert [(t["days"], t["storage_class"]) for t in rule["transition"]] == [
            (cfg.standard_ia_after_days, "STANDARD_IA"),
            (cfg.glacier_after_days, "GLACIER"),
            (cfg.deep_archive_after_days, "DEEP_ARCHIVE"),
        ]
        assert rule["expiration"] == [{"days": cfg.expire_after_days}]
    assert (cfg.standard_ia_after_days, cfg.glacier_after_days, cfg.expire_after_days) == (30, 365, 7 * 365)


def test_documents_and_backups_replicate_to_osaka(prod):
    names = _buckets(prod)
    configs = resources(prod, "aws_s3_bucket_replication_configuration").values()
    assert len(configs) == 2
    by_source = {c["bucket"]: c for c in configs}
    for source, replica in zip(PRIMARY, REPLICAS, strict=True):
        config = by_source[f"${{aws_s3_bucket.{names[source]}.id}}"]
        [rule] = config["rule"]
        assert rule["destination"]["bucket"] == f"${{aws_s3_bucket.{names[replica]}.arn}}"
        assert rule["destination"]["encryption_configuration"]["replica_kms_key_id"] == _key_arn(
            prod, "iworkz-production-replica"
        )
        assert rule["source_selection_criteria"]["sse_kms_encrypted_objects"]["status"] == "Enabled"
        role = config["role"].removeprefix("${").removesuffix(".arn}")
        policy = next(
            policy_json(prod, p["policy"])
            for p in resources(prod, "aws_iam_role_policy").values()
            if p["role"] == f"${{{role}.id}}"
        )
        resources_named = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
        assert resources_named["WriteReplicas"] == f"${{aws_s3_bucket.{names[replica]}.arn}}/*"
        assert resources_named["DecryptSource"] == _key_arn(prod, "iworkz-production-buckets")
        assert resources_named["EncryptReplicas"] == _key_arn(prod, "iworkz-production-replica")


# --- secrets and outputs -------------------------------------------------------------------


def test_secrets_are_encrypted_with_the_secrets_key(prod):
    secrets = {s["name"]: s for s in resources(prod, "aws_secretsmanager_secret").values()}
    # The services' database roles have their own passwords (the master's secret belongs to RDS).
    assert sorted(secrets) == [
        "iworkz-production/database/app",
        "iworkz-production/database/monitoring",
        "iworkz-production/jwt",
        "iworkz-production/redis",
    ]
    assert {s["kms_key_id"] for s in secrets.values()} == {_key_arn(prod, "iworkz-production-secrets")}
    jwt = _ref(prod, "aws_secretsmanager_secret", lambda s: s["name"] == "iworkz-production/jwt")
    version = next(
        v for v in resources(prod, "aws_secretsmanager_secret_version").values() if v["secret_id"] == f"${{{jwt}.id}}"
    )
    assert "secret_string" not in version
    assert version["secret_string_wo"].startswith("${ephemeral.aws_secretsmanager_random_password.")
    assert prod["ephemeral"]["aws_secretsmanager_random_password"]
    assert prod["terraform"]["required_version"] == ">= 1.11"  # write-only arguments


def _walk(value: Any, path: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


SECRET_KEYS = re.compile(r"\.(password|password_wo|auth_token|passwords|master_password|secret_string_wo)(\[\d+\])?$")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_literal_secret_anywhere(stack, env):
    doc = stack(f"data-{env}")
    for path, value in _walk(doc.get("resource", {})):
        if SECRET_KEYS.search(path):
            # the only secret-ish values allowed: references, never literals
            assert isinstance(value, str) and value.startswith("${"), f"{path} = {value!r}"
            assert "random_password" not in value or value.startswith("${ephemeral."), path
    assert "random_password" not in doc.get("resource", {})
    assert "random" not in doc.get("provider", {})
    documents = [
        v["secret_string"] for v in resources(doc, "aws_secretsmanager_secret_version").values() if "secret_string" in v
    ]
    assert len(documents) == 1  # the Redis connection details; every other value is generated
    [document] = documents
    assert document.startswith("${jsonencode({") and '"auth" = "iam"' in document
    assert not {"password", "auth_token", "token"} & set(re.findall(r'"([\w-]+)" =', document))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shared_secret_scanner_finds_nothing(stack, env):
    from iworkz.policy.secret_scan import scan_stack

    assert scan_stack(f"data-{env}", stack(f"data-{env}")) == []


def test_outputs(prod):
    out = outputs(prod)
    assert out["rds_endpoint"]["sensitive"] is True
    assert out["rds_endpoint"]["value"].endswith(".endpoint}")
    assert out["redis_endpoint"]["sensitive"] is True
    assert out["redis_endpoint"]["value"].endswith(".configuration_endpoint_address}")
    assert out["rds_reader_endpoint"]["value"].startswith("${aws_db_instance.postgres_replica-1")
    assert out["opensearch_endpoint"]["value"].endswith(".endpoint}")
    logical, _ = _master_role(prod, "production")
    assert out["opensearch_master_role_arn"]["value"] == f"${{aws_iam_role.{logical}.arn}}"
    buckets = out["buckets"]["value"]
    assert set(buckets) == {f"{b}{s}" for b in ("documents", "backups", "access-logs") for s in ("", "-replica")}
    assert all(name.startswith("${aws_s3_bucket.") for name in buckets.values())
    assert out["database_secret_arn"]["value"].endswith(".master_user_secret[0].secret_arn}")
    assert out["redis_secret_arn"]["value"].startswith("${aws_secretsmanager_secret.")
    assert out["jwt_secret_arn"]["value"].startswith("${aws_secretsmanager_secret.")


# --- contract --------------------------------------------------------------------------------


def test_data_stack_contract(stack_construct):
    """What the stack returns is what it publishes: every field a reference into this stack."""
    from iworkz.contracts import DataOutputs

    contract = stack_construct("data-staging").outputs
    assert isinstance(contract, DataOutputs)
    for value in (
        contract.postgres.endpoint,
        contract.postgres.master_user_secret_arn,
        contract.redis.configuration_endpoint,
        contract.redis.auth_secret_arn,
        contract.opensearch.domain_arn,
        contract.jwt_secret_arn,
        contract.secrets_kms_key_arn,
    ):
        assert "${TfToken" in value
    assert contract.postgres.database_name == "iworkz"
    assert set(contract.redis.user_arns) == {"app", "monitoring"}
    assert {"documents", "backups", "access-logs"} <= set(contract.buckets)


# --- bad input -------------------------------------------------------------------------------

BAD_INPUTS = [
    pytest.param(
        "production",
        {"data": {"postgres": {"backup_retention_days": 3}}},
        ["production.yaml", "data.postgres.backup_retention_days", "3", "at least 7 days"],
        id="backup-retention-below-7-in-production",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"multi_az": False}}},
        ["production.yaml", "data.postgres.multi_az", "False", "Multi-AZ"],
        id="multi-az-off-in-production",
    ),
    pytest.param(
        "staging",
        {"data": {"postgres": {"read_replicas": 6}}},
        ["staging.yaml", "data.postgres.read_replicas", "6", "at most 5 read replicas"],
        id="too-many-read-replicas",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"instance_count": 4}}},
        ["production.yaml", "data.opensearch.instance_count", "4", "spread evenly over 3 availability zones"],
        id="opensearch-nodes-do-not-spread",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"engine_version": "15.7"}}},
        ["production.yaml", "data.postgres.engine_version", "15.7", "PostgreSQL 16"],
        id="postgres-not-16",
    ),
    pytest.param(
        "dev",
        {"data": {"postgres": {"engine_version": 16.6}}},
        ["dev.yaml", "data.postgres.engine_version", "16.6"],
        id="postgres-version-unquoted",
    ),
    pytest.param(
        "staging",
        {"data": {"redis": {"replicas_per_shard": 0}}},
        ["staging.yaml", "data.redis.replicas_per_shard", "0", "greater than or equal to 1"],
        id="redis-without-replicas",
    ),
    pytest.param(
        "staging",
        {"data": {"redis": {"engine_version": "6.2"}}},
        ["staging.yaml", "data.redis.engine_version", "6.2", "Redis 7"],
        id="redis-not-7",
    ),
    pytest.param(
        "staging",
        {"data": {"opensearch": {"engine_version": "Elasticsearch_7.10"}}},
        ["staging.yaml", "data.opensearch.engine_version", "Elasticsearch_7.10", "OpenSearch 2.x"],
        id="opensearch-not-2",
    ),
    pytest.param(
        "production",
        {"data": {"lifecycle": {"glacier_after_days": 20}}},
        ["production.yaml", "data.lifecycle.glacier_after_days", "20"],
        id="lifecycle-out-of-order",
    ),
    pytest.param(
        "production",
        {"data": {"buckets": ["documents", "access-logs"]}},
        ["production.yaml", "data.buckets", "access-logs"],
        id="reserved-bucket-name",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"performance_insights_retention_days": 30}}},
        ["production.yaml", "data.postgres.performance_insights_retention_days", "30", "multiple of 31"],
        id="performance-insights-retention",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_data_input(tmp_path, env, patch, expected):
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, env, patch))
    message = caught.value.render()
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def _trusts(doc, role, service: str) -> bool:
    """The role's trust policy lets ``service`` assume it."""
    return any(
        s.get("Principal") == {"Service": service} for s in policy_json(doc, role["assume_role_policy"])["Statement"]
    )


# --- AWS Backup ------------------------------------------------------------------------------


def test_backup_vaults_in_both_regions_are_locked_in_compliance_mode(prod, settings):
    backup = settings.environments["production"].backup
    vaults = {v["name"]: (name, v) for name, v in resources(prod, "aws_backup_vault").items()}
    assert set(vaults) == {"iworkz-production", "iworkz-production-ap-northeast-3"}
    assert vaults["iworkz-production-ap-northeast-3"][1]["provider"] == "aws.backup"
    locks = {
        lock["backup_vault_name"]: lock for lock in resources(prod, "aws_backup_vault_lock_configuration").values()
    }
    for logical, vault in vaults.values():
        assert (
            vault["kms_key_arn"].startswith("${aws_kms_key.backup_") and vault["lifecycle"]["prevent_destroy"] is True
        )
        lock = locks[f"${{aws_backup_vault.{logical}.name}}"]
        assert lock["changeable_for_days"] == backup.vault_lock_grace_days >= 3
        assert (lock["min_retention_days"], lock["max_retention_days"]) == (35, 3650)


def test_backup_plan_keeps_daily_35_days_and_monthly_7_years_cold_and_copies_both_to_osaka(prod):
    plan = one(prod, "aws_backup_plan")
    rules = {rule["rule_name"]: rule for rule in plan["rule"]}
    copy_vault = next(n for n, v in resources(prod, "aws_backup_vault").items() if v["name"].endswith("ap-northeast-3"))
    assert rules["daily"]["lifecycle"] == {"delete_after": 35}
    assert rules["monthly"]["lifecycle"] == {
        "cold_storage_after": 30,
        "delete_after": 2555,
        "opt_in_to_archive_for_supported_resources": True,
    }
    for rule in rules.values():
        [copy] = rule["copy_action"]
        assert copy["destination_vault_arn"] == f"${{aws_backup_vault.{copy_vault}.arn}}"
        assert copy["lifecycle"] == rule["lifecycle"]
    assert rules["monthly"]["schedule"] == "cron(0 5 1 * ? *)"


def test_backup_selects_the_database_the_data_buckets_and_the_tagged_volumes(prod):
    selections = {s["name"]: s for s in resources(prod, "aws_backup_selection").values()}
    primary = _ref(prod, "aws_db_instance", lambda b: "replicate_source_db" not in b)
    data = selections["iworkz-production-data"]["resources"]
    assert data[0] == f"${{{primary}.arn}}"
    buckets = {b["bucket"]: n for n, b in resources(prod, "aws_s3_bucket").items()}
    assert data[1:] == [f"${{aws_s3_bucket.{buckets[f'iworkz-production-{b}']}.arn}}" for b in ("documents", "backups")]
    volumes = selections["iworkz-production-volumes"]
    assert volumes["resources"] == ["arn:aws:ec2:*:*:volume/*"]
    assert volumes["condition"] == [
        {"string_equals": [{"key": "aws:ResourceTag/iworkz:backup", "value": "iworkz-production"}]}
    ]


def test_restore_testing_restores_the_latest_points_of_each_type_weekly(prod, stack):
    plan = one(prod, "aws_backup_restore_testing_plan")
    assert plan["schedule_expression"] == "cron(0 6 ? * SAT *)"
    [selection] = plan["recovery_point_selection"]
    assert selection["algorithm"] == "LATEST_WITHIN_WINDOW" and selection["recovery_point_types"] == ["SNAPSHOT"]
    tests = {t["protected_resource_type"]: t for t in resources(prod, "aws_backup_restore_testing_selection").values()}
    assert set(tests) == {"RDS", "S3", "EBS"}
    assert tests["RDS"]["restore_metadata_overrides"] == {
        "dbSubnetGroupName": f"{NETWORK_REMOTE}db_subnet_group_name}}"
    }
    assert tests["EBS"]["protected_resource_arns"] == ["*"]
    assert all(t["validation_window_hours"] == 4 for t in tests.values())
    # The monitoring stack's EBS volumes carry the tag the volume selection matches.
    storage_class = one(stack("monitoring-production"), "kubernetes_storage_class_v1")
    assert storage_class["parameters"]["tagSpecification_1"] == "iworkz:backup=iworkz-production"


@pytest.mark.parametrize(
    ("patch", "field", "rule"),
    [
        ({"backup": {"daily_retention_days": 7}}, "backup.daily_retention_days", "at least 35 days"),
        ({"backup": {"monthly_retention_days": 365}}, "backup.monthly_retention_days", "at least 2555 days"),
        (
            {"backup": {"vault_lock_min_retention_days": 4000, "vault_lock_max_retention_days": 3650}},
            "backup.vault_lock_min_retention_days",
            "above its maximum",
        ),
        ({"backup": {"vault_lock_max_retention_days": 1000}}, "backup.vault_lock_max_retention_days", "monthly"),
        ({"backup": {"vault_lock_grace_days": 1}}, "backup.vault_lock_grace_days", "greater than or equal to 3"),
    ],
)
def test_bad_backup_input_stops_at_the_config_edge(tmp_path, patch, field, rule):
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, "production", patch))
    [problem] = caught.value.problems
    assert problem.file.endswith("production.yaml") and problem.field == field and rule in problem.rule, (
        problem.render()
    )
