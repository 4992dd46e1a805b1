"""Configuration: production carries the seed's values; bad input stops with one clear message."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from iworkz.cli import main
from iworkz.config import ConfigError, load_settings, load_yaml
from tests.configs import DELETE, ENVIRONMENTS, UNCONFIGURED, write_config, write_raw
from tests.early import synth_with_bad_config_over_previous_output

ROOT = Path(__file__).resolve().parents[1]


def test_every_configuration_file_is_an_environment(settings):
    assert sorted(settings.environments) == sorted(ENVIRONMENTS)
    assert {"production", "staging", "dev"} <= set(ENVIRONMENTS)


def test_production_carries_the_seed_values(settings):
    production = settings.environments["production"]
    assert settings.common.project == "iworkz"
    assert production.aws.region == "ap-northeast-1"
    assert production.aws.backup_region == "ap-northeast-3"
    assert production.network.vpc_cidr == "10.0.0.0/16"
    assert production.network.availability_zones == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    assert settings.common.tags == {"Project": "iWORKZ", "ManagedBy": "Terraform", "Owner": "DevOps"}


def test_environments_use_disjoint_cidrs(settings):
    networks = [ipaddress.ip_network(env.network.vpc_cidr) for env in settings.environments.values()]
    for i, network in enumerate(networks):
        assert not any(network.overlaps(other) for other in networks[i + 1 :])


def test_staging_and_dev_are_smaller_than_production(settings):
    production = settings.environments["production"].eks.node_groups["general"]
    for name in ("staging", "dev"):
        group = settings.environments[name].eks.node_groups["general"]
        assert group.max_size < production.max_size


def test_models_are_frozen(settings):
    with pytest.raises(Exception, match="frozen"):
        settings.environments["production"].network.vpc_cidr = "10.9.0.0/16"


def _error(config_dir: Path, envs: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, envs)
    return caught.value.render()


# Each bad input names the file, the field, the value and the rule.
BAD_INPUTS = [
    pytest.param(
        "production",
        {"network": {"vpc_cidr": "10.0.0.0/33"}},
        ["production.yaml", "network.vpc_cidr", "10.0.0.0/33", "IPv4 CIDR"],
        id="malformed-cidr",
    ),
    pytest.param(
        "staging",
        {"network": {"vpc_cidr": "10.0.0.0/16"}},
        ["staging.yaml", "network.vpc_cidr", "10.0.0.0/16", "overlaps the production VPC"],
        id="cidr-overlaps-another-environment",
    ),
    pytest.param(
        "production",
        {"aws": {"region": "ap-northeast-9"}},
        ["production.yaml", "aws.region", "ap-northeast-9", "known AWS region"],
        id="unknown-region",
    ),
    pytest.param(
        "production",
        {"netwrok": {"vpc_cidr": "10.0.0.0/16"}},
        ["production.yaml", "netwrok", "not a known key", "did you mean 'network'"],
        id="unknown-key-typo",
    ),
    pytest.param(
        "production",
        {"eks": {"node_groups": {"general": {"max_size": "twenty"}}}},
        ["production.yaml", "eks.node_groups.general.max_size", "twenty", "valid integer"],
        id="wrong-type",
    ),
    pytest.param(
        "production",
        {"network": {"vpc_cidr": DELETE}},
        ["production.yaml", "network.vpc_cidr", "(missing)", "is required"],
        id="missing-required-field",
    ),
    pytest.param(
        "production",
        {"tags": {"CostCenter": "platform#1"}},
        ["production.yaml", "tags.CostCenter", "platform#1", "tag values"],
        id="bad-tag-value",
    ),
    pytest.param(
        None,
        {"tags": {"aws:owner": "x"}},
        ["common.yaml", "tags.aws:owner", "not starting with aws:"],
        id="reserved-tag-key",
    ),
    pytest.param(
        "production",
        {"eks": {"kubernetes_version": 1.3}},
        ["production.yaml", "eks.kubernetes_version", "1.3", "quoted string"],
        id="unquoted-version-number",
    ),
    pytest.param(
        None,
        {"backend": {"type": "consul"}},
        ["common.yaml", "backend.type", "consul", "'s3' or 'cloud'"],
        id="unknown-backend-type",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_input(tmp_path, env, patch, expected):
    message = _error(write_config(tmp_path, env, patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_fails_on_unknown_environment(tmp_path):
    message = _error(write_config(tmp_path), [UNCONFIGURED])
    assert "ENVS" in message and f"'{UNCONFIGURED}'" in message and f"known: {', '.join(ENVIRONMENTS)}" in message


def test_fails_on_invalid_yaml(tmp_path):
    message = _error(write_raw(tmp_path, "dev", "network: [unclosed\n"))
    assert "dev.yaml" in message and "line 2" in message and "not valid YAML" in message


def test_fast_yaml_loading_reads_every_file_as_safe_load_does():
    import yaml

    files = sorted([*(ROOT / "config").glob("*.yaml"), *(ROOT / "helm_values").glob("*.yaml")])
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text) == yaml.safe_load(text), path


def test_fast_yaml_loading_keeps_the_precise_error_message(tmp_path):
    message = _error(write_raw(tmp_path, "dev", "network:\n\tvpc_cidr: 10.9.0.0/16\n"))
    assert "dev.yaml" in message and "line 2" in message and "found character '\\t'" in message


def test_fails_on_a_file_that_is_not_a_mapping(tmp_path):
    message = _error(write_raw(tmp_path, "dev", "- just\n- a list\n"))
    assert "dev.yaml" in message and "must be a mapping" in message


def test_every_problem_is_reported_at_once(tmp_path):
    config = write_config(tmp_path, "dev", {"aws": {"region": "mars-1"}})
    (config / "staging.yaml").write_text((config / "staging.yaml").read_text().replace("10.1.0.0/16", "10.1.0.0/8"))
    message = _error(config)
    assert "2 problems" in message and "dev.yaml" in message and "staging.yaml" in message


@pytest.mark.early(command=synth_with_bad_config_over_previous_output)
def test_cli_exits_2_without_traceback_and_writes_nothing(early_result: subprocess.CompletedProcess[str]) -> None:
    outdir = Path(early_result.args[early_result.args.index("--outdir") + 1])
    assert early_result.returncode == 2
    assert "Traceback" not in early_result.stderr + early_result.stdout
    assert "production.yaml: network.vpc_cidr = 'not-a-cidr'" in early_result.stderr
    assert "rule:" in early_result.stderr and "fix:" in early_result.stderr
    assert sorted(p.name for p in outdir.iterdir()) == ["keep.txt"]
    assert not list(outdir.parent.glob(".cdktf.out.*")), "staging folder left behind"


def test_cli_rejects_an_unknown_stack(tmp_path, capsys):
    # in-process: main() is what main.py exits with (the test above runs the real process)
    status = main(
        ["--config-dir", str(write_config(tmp_path)), "--outdir", str(tmp_path / "out"), "--stacks", "netwrk"]
    )
    stderr = capsys.readouterr().err
    assert status == 2
    assert "STACKS: stack = 'netwrk'" in stderr and "Traceback" not in stderr


def test_opensearch_log_tiers_follow_the_seed(settings):
    # Seed 12.1: 30 days hot, 1 year warm (UltraWarm), 7 years cold; dev keeps logs hot (t3 nodes).
    for name in ("production", "staging"):
        search = settings.environments[name].data.opensearch
        assert (search.warm_count, search.warm_instance_type, search.cold_storage) == (
            2,
            "ultrawarm1.medium.search",
            True,
        )
    dev = settings.environments["dev"].data.opensearch
    assert (dev.warm_count, dev.cold_storage) == (0, False)


OPENSEARCH_TIER_INPUTS = [
    pytest.param(
        "production",
        {"data": {"opensearch": {"warm_count": 1}}},
        ["production.yaml", "data.opensearch.warm_count", "1", "2-150 warm nodes"],
        id="one-warm-node",
    ),
    pytest.param(
        "staging",
        {"data": {"opensearch": {"warm_count": 151}}},
        ["staging.yaml", "data.opensearch.warm_count", "151", "2-150 warm nodes"],
        id="too-many-warm-nodes",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"warm_instance_type": "r6g.large.search"}}},
        ["production.yaml", "data.opensearch.warm_instance_type", "r6g.large.search", "UltraWarm node type"],
        id="warm-type-not-ultrawarm",
    ),
    pytest.param(
        "staging",
        {"data": {"opensearch": {"master_count": 0}}},
        ["staging.yaml", "data.opensearch.warm_count", "2", "needs dedicated master nodes", "master_count: 3"],
        id="warm-without-dedicated-masters",
    ),
    pytest.param(
        "production",
        {"data": {"opensearch": {"instance_type": "t3.medium.search"}}},
        ["production.yaml", "data.opensearch.warm_count", "2", "T2/T3 data nodes", "t3.medium.search"],
        id="warm-with-t3-data-nodes",
    ),
    pytest.param(
        "dev",
        {"data": {"opensearch": {"cold_storage": True}}},
        ["dev.yaml", "data.opensearch.cold_storage", "True", "cold storage needs UltraWarm"],
        id="cold-without-warm",
    ),
    pytest.param(
        "dev",
        {"data": {"opensearch": {"warm_count": 2, "cold_storage": DELETE}}},
        ["dev.yaml", "data.opensearch.warm_count", "2", "T2/T3 data nodes"],
        id="dev-with-warm-nodes",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), OPENSEARCH_TIER_INPUTS)
def test_fails_on_bad_opensearch_tiers(tmp_path, env, patch, expected):
    message = _error(write_config(tmp_path, env, patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_an_unchanged_file_is_validated_once_and_a_changed_one_again(tmp_path):
    first = load_settings(write_config(tmp_path / "a"))
    second = load_settings(write_config(tmp_path / "b", "dev", {"network": {"nat_gateways": "one_per_az"}}))
    assert second.environments["production"] is first.environments["production"]  # same text: same model
    assert second.environments["dev"] is not first.environments["dev"]
    assert second.environments["dev"].network.nat_gateways == "one_per_az"
    assert first.environments["dev"].network.nat_gateways == "single"
