"""Bad input stopped at the configuration edge: unreadable files, YAML traps, values a construct
or the cloud would refuse later, and engine versions judged by the version calendar."""

from __future__ import annotations

import datetime
import time
import tracemalloc
from pathlib import Path

import pytest

from iworkz.cli import main
from iworkz.config import ConfigError, catalog, load_settings
from iworkz.errors import Problem
from tests.configs import DELETE, ENVIRONMENTS, UNCONFIGURED, write_config, write_raw


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir)
    message = caught.value.render()
    assert all(problem.fix for problem in caught.value.problems), f"a problem without a fix:\n{message}"
    return message


def _assert_in(message: str, fragments: list[str]) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


# --- part 1: files that cannot be read, YAML traps, messages without a fix --------------------


def test_a_binary_file_is_a_problem_not_a_traceback(tmp_path):
    config = write_config(tmp_path)
    (config / "dev.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    _assert_in(_error(config), ["dev.yaml: (file)", "not UTF-8 text", "fix:"])


def test_a_folder_named_like_an_environment_is_a_problem(tmp_path):
    config = write_config(tmp_path)
    (config / f"{UNCONFIGURED}.yaml").mkdir()
    _assert_in(_error(config), [f"{UNCONFIGURED}.yaml: (file)", "is a folder", "fix:"])


def test_an_unreadable_file_is_a_problem(tmp_path, monkeypatch):
    # The tests run as root, which chmod cannot lock out: the refusal is simulated where it happens.
    config = write_config(tmp_path)
    real = Path.read_text

    def read_text(path: Path, *args, **kwargs):
        if path.name == "staging.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    _assert_in(_error(config), ["staging.yaml: (file)", "permission denied", "chmod a+r"])


ALIAS_BOMB = "".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)


def test_an_alias_bomb_is_refused_fast_and_small(tmp_path):
    config = write_raw(tmp_path, "dev", ALIAS_BOMB + "tags: *a8\n")
    tracemalloc.start()
    started = time.monotonic()
    try:
        message = _error(config)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2, f"{elapsed:.1f} s"
    assert peak < 200 * 1024 * 1024, f"{peak / 2**20:.0f} MB"
    _assert_in(message, ["dev.yaml: (file)", "alias expansion", "alias bomb", "fix:"])


def test_a_huge_value_is_shown_bounded():
    nested: list[object] = ["x" * 10_000]
    for _ in range(9):
        nested = [nested] * 9  # 387 million leaves, shared
    started = time.monotonic()
    text = Problem("f.yaml", "tags", nested, "rule", "fix").render()
    assert time.monotonic() - started < 0.1
    assert len(text) < 400


def test_an_unquoted_version_is_quoted_as_written(tmp_path):
    config = write_config(tmp_path)
    text = (config / "dev.yaml").read_text()
    (config / "dev.yaml").write_text(text.replace('kubernetes_version: "1.35"', "kubernetes_version: 1.30", 1))
    _assert_in(
        _error(config),
        ["eks.kubernetes_version = 1.3", "YAML reads 1.30 as the number 1.3", 'fix:  write kubernetes_version: "1.30"'],
    )


def test_yaml_syntax_errors_carry_a_fix(tmp_path):
    _assert_in(_error(write_raw(tmp_path, "dev", "network: [unclosed\n")), ["not valid YAML", "fix:  correct the YAML"])


def test_a_duplicate_key_is_an_error(tmp_path):
    config = write_config(tmp_path)
    text = (config / "production.yaml").read_text()
    (config / "production.yaml").write_text(text.replace("network:\n", "network:\n  nat_gateways: single\n", 1))
    _assert_in(_error(config), ["production.yaml: line", "'nat_gateways'", "duplicate key", "keep one of the two"])


# Each case: (environment or None for common.yaml, patch, fragments of the message).
BAD_INPUTS = [
    # part 1: accepted by the configuration, refused by a construct with a ValueError traceback
    pytest.param(
        "production",
        {"data": {"opensearch": {"master_count": 2}}},
        ["data.opensearch.master_count", "= 2", "0, 3 or 5"],
        id="opensearch-two-masters",
    ),
    pytest.param(
        "dev",
        {"eks": {"fargate_namespaces": ["a", "b", "c", "d", "e", "f"]}},
        ["eks.fargate_namespaces", "at most 5"],
        id="six-fargate-namespaces",
    ),
    pytest.param(
        "dev",
        {"eks": {"fargate_namespaces": ["Fargate_*"]}},
        ["eks.fargate_namespaces[0]", "'Fargate_*'", "namespace name"],
        id="invalid-fargate-namespace",
    ),
    pytest.param(
        None,
        {"project": "iworkz-platform-jp"},
        [
            "production.yaml: (derived name)",
            "'iworkz-platform-jp-production-redis'",
            "ElastiCache replication group id",
            "allows 31",
            "shorten project",
        ],
        id="project-makes-redis-id-too-long",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"taints": [{"key": "bad key!", "effect": "NoSchedule"}]}}}},
        ["eks.node_groups.general.taints[0].key", "'bad key!'", "Kubernetes label key"],
        id="invalid-taint-key",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"labels": {"-bad": "x"}}}}},
        ["eks.node_groups.general.labels.-bad", "Kubernetes label key"],
        id="invalid-label-key",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"labels": {"NodeGroup": "not valid!"}}}}},
        ["eks.node_groups.general.labels.NodeGroup", "label value"],
        id="invalid-label-value",
    ),
    pytest.param(
        "staging",
        {"network": {"vpc_cidr": "10.1.0.0/28"}},
        ["network.subnet_layout.newbits = 8", "/36 subnets", "at most /28", "newbits 0 or less"],
        id="vpc-28-with-default-layout",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"max_size": "twenty"}}}},
        ["max_size = 'twenty'", "fix:  write a whole number"],
        id="builtin-type-error-has-a-fix",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"disk_size_gb": 5}}}},
        ["disk_size_gb = 5", "fix:  use 20 or more"],
        id="builtin-range-error-has-a-fix",
    ),
    # part 2: synthesised today, refused by AWS or Azure at plan or apply time
    pytest.param(
        "staging",
        {"network": {"vpc_cidr": "10.0.0.0/15"}},
        ["network.vpc_cidr = '10.0.0.0/15'", "/16 (65,536 addresses) to /28"],
        id="vpc-larger-than-16",
    ),
    pytest.param(
        "staging",
        {"network": {"vpc_cidr": "10.1.0.0/29"}},
        ["network.vpc_cidr = '10.1.0.0/29'", "/16 (65,536 addresses) to /28"],
        id="vpc-smaller-than-28",
    ),
    pytest.param(
        "staging",
        {
            "network": {
                "vpc_cidr": "10.1.0.0/24",
                "subnet_layout": {"newbits": 8, "private": 0, "public": 3, "database": 6},
            }
        },
        ["network.subnet_layout.newbits = 8", "/32 subnets"],
        id="tiers-of-32-subnets",
    ),
    pytest.param(
        "staging",
        {"network": {"subnets": {"public": ["10.1.101.0/29", "10.1.102.0/29", "10.1.103.0/30"]}}},
        ["network.subnets.public[2]", "'10.1.103.0/30'", "/16 to /28"],
        id="explicit-30-subnet",
    ),
    pytest.param(
        "production",
        {"tags": {f"Team{i}": "x" for i in range(42)}},
        ["production.yaml: tags", "47 default tags", "at most 45", "remove 2"],
        id="more-than-50-tags",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"instance_class": "db.fake.huge"}}},
        ["data.postgres.instance_class = 'db.fake.huge'", "RDS for PostgreSQL instance class", "db.r6g.xlarge"],
        id="rds-class-fake",
    ),
    pytest.param(
        "production",
        {"data": {"redis": {"node_type": "r7g.large"}}},
        ["data.redis.node_type = 'r7g.large'", "ElastiCache node type", "cache.r7g.large"],
        id="cache-node-without-cache-prefix",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"instance_type": "r6g.large"}}},
        ["data.opensearch.instance_type = 'r6g.large'", "OpenSearch Service instance type", "<family>.<size>.search"],
        id="search-type-without-search-suffix",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"master_instance_type": "m6g.huge.search"}}},
        ["data.opensearch.master_instance_type"],
        id="search-master-size-unknown",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"engine_version": "16.99"}}},
        ["data.postgres.engine_version = '16.99'", "not a version of RDS for PostgreSQL in the calendar", "use 16.11"],
        id="postgres-minor-that-does-not-exist",
    ),
    pytest.param(
        "production",
        {"data": {"redis": {"engine_version": "7.99"}}},
        ["data.redis.engine_version = '7.99'", "not a version of ElastiCache for Redis OSS", "use 7.1"],
        id="redis-minor-that-does-not-exist",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"engine_version": "OpenSearch_2.99"}}},
        ["data.opensearch.engine_version = 'OpenSearch_2.99'", "OpenSearch Service in the calendar"],
        id="opensearch-version-that-does-not-exist",
    ),
    pytest.param(
        "production",
        {"eks": {"log_retention_days": 45}},
        ["eks.log_retention_days = 45", "CloudWatch Logs keeps", "use 30"],
        id="eks-log-retention",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"log_retention_days": 100}}},
        ["data.postgres.log_retention_days = 100", "use 90"],
        id="postgres-log-retention",
    ),
    pytest.param(
        "production",
        {"data": {"redis": {"log_retention_days": 10}}},
        ["data.redis.log_retention_days = 10", "CloudWatch Logs keeps"],
        id="redis-log-retention",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"log_retention_days": 366}}},
        ["data.opensearch.log_retention_days = 366", "use 365"],
        id="opensearch-log-retention",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"backup_window": "3:00-4:00"}}},
        ["data.postgres.backup_window = '3:00-4:00'", "hh:mm-hh:mm"],
        id="backup-window-malformed",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"backup_window": "03:00-03:10"}}},
        ["data.postgres.backup_window", "at least 30 minutes"],
        id="backup-window-too-short",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"maintenance_window": "sunday:04:00-sunday:05:00"}}},
        ["data.postgres.maintenance_window", "ddd:hh:mm-ddd:hh:mm"],
        id="maintenance-window-malformed",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"backup_window": "04:00-05:00", "maintenance_window": "sun:04:30-sun:05:30"}}},
        ["data.postgres.maintenance_window = 'sun:04:30-sun:05:30'", "overlaps the daily backup window"],
        id="windows-overlap",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"backup_window": "23:30-00:30", "maintenance_window": "mon:00:00-mon:01:00"}}},
        ["overlaps the daily backup window 23:30-00:30"],
        id="windows-overlap-across-midnight",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"instance_types": ["m7g.large"]}}}},
        ["eks.node_groups.general.instance_types", "m7g.large is Arm (Graviton)", "AL2023_x86_64_STANDARD is x86"],
        id="arm-type-with-x86-ami",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"ami_type": "AL2023_ARM_64_STANDARD"}}}},
        ["eks.node_groups.general.instance_types", "x86 but the AMI type AL2023_ARM_64_STANDARD is Arm"],
        id="x86-types-with-arm-ami",
    ),
    pytest.param(
        "dev",
        {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"]}},
        ["network.availability_zones[1] = 'ap-northeast-1b'", "not an availability zone of ap-northeast-1"],
        id="zone-the-region-does-not-have",
    ),
    pytest.param(
        "production",
        {"network": {"interface_endpoints": ["ecr.api", "ecr.dkr", "sts", "logs", "secretsmanagr"]}},
        ["network.interface_endpoints[4] = 'secretsmanagr'", "did you mean 'secretsmanager'"],
        id="unknown-endpoint-service",
    ),
    pytest.param(
        None,
        {"backend": {"s3": {"lock_table": "terraform lock!"}}},
        ["common.yaml: backend.s3.lock_table = 'terraform lock!'", "fix:"],
        id="invalid-dynamodb-table-name",
    ),
    pytest.param(
        "production",
        {"dr_azure": {"kubernetes_version": "1.99"}},
        ["dr_azure.kubernetes_version = '1.99'", "not a version of AKS in the calendar"],
        id="aks-version-that-does-not-exist",
    ),
    pytest.param(
        "production",
        {"dr_azure": {"aks_system_pool": {"vm_size": "Standard_Q4_v9"}}},
        ["dr_azure.aks_system_pool.vm_size = 'Standard_Q4_v9'", "not an Azure VM size"],
        id="vm-size-unknown-family",
    ),
    pytest.param(
        "production",
        {"dr_azure": {"aks_user_pool": {"vm_size": "Standard_d8ds_v5"}}},
        ["dr_azure.aks_user_pool.vm_size", "not an Azure VM size"],
        id="vm-size-lower-case-family",
    ),
    # the DR site's recovery objectives and sizes
    pytest.param(
        "production",
        {"dr_azure": {"recovery": {"objects_rpo_hours": 4, "object_copy_interval_hours": 6}}},
        [
            "dr_azure.recovery.object_copy_interval_hours = 6",
            "copied 480 minutes later",
            "beyond the objects RPO of 4 h",
            "set object_copy_interval_hours: 2 (or less)",
        ],
        id="rpo-shorter-than-the-copy-schedule-meets",
    ),
    pytest.param(
        "production",
        {"dr_azure": {"standby": {"replicas": 10}, "aks_user_pool": {"vm_size": "Standard_D2ds_v5", "max_count": 1}}},
        [
            "dr_azure.standby.replicas = 10",
            # ai-services needs a GPU the failover pool lacks: 0 pods, no request.
            "(backend-api 10, ai-services 0, web-frontend 10 pods) request 3500m CPU; the failover pool holds at most "
            "1900m (1 x Standard_D2ds_v5, 1900m allocatable each)",
            "raise dr_azure.aks_user_pool.max_count to 2 or more",
        ],
        id="standby-above-the-failover-pool",
    ),
    pytest.param(
        "production",
        {
            "dr_azure": {
                "standby": {"serving": True},
                "aks_user_pool": {"vm_size": "Standard_D2ds_v5", "max_count": 1},
            },
            "platform": {"workloads": {"web-frontend": {"replicas": 20}}},
        },
        ["dr_azure.aks_user_pool.max_count = 1", "request 2750m CPU", "at most 1900m"],
        id="serving-size-above-the-failover-pool",
    ),
    pytest.param(
        "production",
        {"edge": {"enabled": False}},
        ["edge.enabled = False", "only through the edge's load balancer", "set edge.enabled: true"],
        id="dr-site-without-the-edge",
    ),
    # part 4: versions by date
    pytest.param(
        "production",
        {"eks": {"kubernetes_version": "1.31"}},
        ["eks.kubernetes_version = '1.31'", "past the end of EKS support on 2026-11-26", "use 1.35"],
        id="eks-end-of-life",
    ),
    pytest.param(
        "production",
        {"dr_azure": {"kubernetes_version": "1.34"}},
        ["dr_azure.kubernetes_version = '1.34'", "past the end of AKS support on 2026-11-01"],
        id="aks-end-of-life",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"engine_version": "16.6"}}},
        [
            "data.postgres.engine_version = '16.6'",
            "past the end of RDS for PostgreSQL support on 2026-05-31",
            "use 16.11",
        ],
        id="postgres-minor-end-of-life",
    ),
    pytest.param(
        "production",
        {"data": {"postgres": {"engine_version": "16.2"}}},
        ["data.postgres.engine_version = '16.2'", "past the end of RDS for PostgreSQL support"],
        id="postgres-minor-older-than-the-calendar",
    ),
]


@pytest.fixture(autouse=True)
def _synth_date(monkeypatch):
    monkeypatch.setenv(catalog.TODAY_VARIABLE, "2026-12-01")


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_bad_input_is_stopped_at_the_edge(tmp_path, env, patch, expected):
    _assert_in(_error(write_config(tmp_path, env, patch)), expected)


# --- part 4: the version calendar -----------------------------------------------------------


def test_extended_support_is_a_one_line_warning_with_its_cost(tmp_path, capsys):
    config = write_config(tmp_path, "staging", {"eks": {"kubernetes_version": "1.33"}})
    settings = load_settings(config)
    assert len(settings.warnings) == 1
    (warning,) = settings.warnings
    assert "\n" not in warning
    _assert_in(
        warning,
        [
            "staging.yaml: eks.kubernetes_version = '1.33'",
            "ended 2026-07-29",
            "until 2027-07-29",
            "six times",
            "upgrade to 1.35",
        ],
    )
    argv = ["--config-dir", str(config), "--outdir", str(tmp_path / "out"), "--envs", "staging", "--stacks", "nothing"]
    status = main(argv)
    assert status == 2  # the unknown stack; the warning came first
    assert warning in capsys.readouterr().err


@pytest.mark.parametrize(
    ("today", "eks", "postgres", "aks"),
    [
        ("2026-12-01", "1.35", "16.11", "1.37"),
        ("2026-01-01", "1.34", "16.11", "1.34"),
        ("2025-06-01", "1.33", "16.9", "1.33"),
    ],
)
def test_a_version_left_out_is_the_newest_in_standard_support(tmp_path, monkeypatch, today, eks, postgres, aks):
    monkeypatch.setenv(catalog.TODAY_VARIABLE, today)
    patch = {
        "eks": {"kubernetes_version": DELETE},
        "data": {"postgres": {"engine_version": DELETE}},
        "dr_azure": {"kubernetes_version": DELETE},
    }
    config = write_config(tmp_path)
    for name in ENVIRONMENTS:  # every file is validated
        patched = write_config(tmp_path / name, name, patch)
        (config / f"{name}.yaml").write_text((patched / f"{name}.yaml").read_text())
    env = load_settings(config, ["dev"]).environments["dev"]
    assert (env.eks.kubernetes_version, env.data.postgres.engine_version, env.dr_azure.kubernetes_version) == (
        eks,
        postgres,
        aks,
    )


def test_a_stale_calendar_says_to_update_it(tmp_path, monkeypatch):
    monkeypatch.setenv(catalog.TODAY_VARIABLE, "2030-01-01")
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path))
    assert "add the current releases to the calendar" in caught.value.render()


def test_the_shipped_configuration_is_in_standard_support_today(settings):
    assert settings.warnings == ()
    eks = catalog.calendar("eks")
    for env in settings.environments.values():
        assert eks.support(env.eks.kubernetes_version, catalog.today()) == "standard"
        assert env.eks.kubernetes_version == eks.newest(catalog.today())


@pytest.mark.parametrize("table", catalog.all_tables(), ids=lambda t: t.name)
def test_every_catalog_table_was_checked_within_120_days(table):
    # Real today on purpose: a stale list or calendar fails the suite until someone re-checks it.
    age = (datetime.date.today() - table.checked).days
    assert age <= catalog.MAX_AGE_DAYS, (
        f"{table.name} was last checked {table.checked} ({age} days ago); re-check {table.source}"
    )
    assert table.source


def test_the_eks_calendar_has_the_facts_of_the_brief():
    eks = catalog.calendar("eks")
    assert eks.releases["1.33"].standard_until == datetime.date(2026, 7, 29)
    assert eks.releases["1.34"].standard_until == datetime.date(2026, 12, 2)
    assert eks.releases["1.35"].standard_until == datetime.date(2027, 3, 27)
    for release in eks.releases.values():
        assert release.extended_until is not None and release.standard_until is not None
        assert (release.extended_until - release.standard_until).days in (365, 366)


NAMED_RESOURCES = {
    "aws_elasticache_replication_group": ("replication_group_id", "elasticache_replication_group"),
    "aws_elasticache_user": ("user_id", "elasticache_user"),
    "aws_db_instance": ("identifier", "rds_instance"),
    "aws_opensearch_domain": ("domain_name", "opensearch_domain"),
    "aws_s3_bucket": ("bucket", "s3_bucket"),
    "aws_iam_role": ("name", "iam_role"),
    "aws_eks_cluster": ("name", "eks_cluster"),
    # the web ACL carries the name of the ALB it protects (the ALB itself is the controller's)
    "aws_wafv2_web_acl": ("name", "load_balancer"),
    "azurerm_kubernetes_cluster": ("name", "aks_cluster"),
    "azurerm_postgresql_flexible_server": ("name", "azure_postgres"),
    "aws_sagemaker_endpoint": ("name", "sagemaker_endpoint"),
    "aws_bedrock_guardrail": ("name", "bedrock_guardrail"),
}


def test_every_derived_name_of_the_synth_is_checked_at_the_edge(settings, synthesized):
    from iworkz.config.names import derived_names

    for name, env in settings.environments.items():
        if f"eks-{name}" not in synthesized:
            continue  # not in the ENVS selection
        synthesised: dict[str, set[str]] = {}
        for stack_name, stack in synthesized.items():
            if not stack_name.endswith(f"-{name}"):
                continue
            for kind, (field, key) in NAMED_RESOURCES.items():
                for resource in stack.get("resource", {}).get(kind, {}).values():
                    synthesised.setdefault(key, set()).add(resource[field])
        derived = {key: set(names) for key, names in derived_names(settings.common, env).items()}
        assert synthesised == derived, name
