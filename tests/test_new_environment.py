"""Adding an environment works as the README says: one command, derived values that name the new
environment, a CIDR suggestion that is free, and the contract tests green on the result."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from iworkz.config import ConfigError, load_settings
from tests.configs import ENVIRONMENTS, write_config
from tests.early import NEW_ENVIRONMENT, add_environment_in_a_copy


def _copy_of_staging(config: Path, name: str, edit=lambda text: text) -> None:
    (config / f"{name}.yaml").write_text(edit((config / "staging.yaml").read_text()))


def test_a_copied_file_names_its_own_environment(tmp_path):
    config = write_config(tmp_path)
    _copy_of_staging(config, "qa", lambda text: text.replace("10.1.0.0/16", "10.3.0.0/16"))
    env = load_settings(config).environments["qa"]
    assert env.tags["CostCenter"] == "platform-qa"
    assert env.ai.endpoint.model_artifact == "s3://iworkz-qa-ai-artifacts/matching/1.0.0/model.tar.gz"
    assert env.platform.domain == "qa.iworkz.com"
    assert env.eks.access[0].arn == "arn:aws:iam::{account_id}:role/iworkz-qa-cluster-admin"


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("arn:aws:iam::{account_id}:role/iworkz-staging-cluster-admin", "eks.access[0].arn"),
        ("platform-staging", "tags.CostCenter"),
    ],
)
def test_a_value_naming_another_environment_is_refused(tmp_path, written, field):
    config = write_config(tmp_path)
    templated = {"eks.access[0].arn": "arn:aws:iam::{account_id}:role/{prefix}-cluster-admin"}
    original = templated.get(field, "platform-{environment}")
    _copy_of_staging(config, "qa", lambda t: t.replace("10.1.0.0/16", "10.3.0.0/16").replace(original, written))
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = caught.value.render()
    assert f"qa.yaml: {field} = '{written}'" in message and "names the environment 'staging'" in message
    assert "{prefix}" in message


def test_the_overlap_message_suggests_a_free_range(tmp_path, settings):
    config = write_config(tmp_path)
    _copy_of_staging(config, "qa")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    (problem,) = caught.value.problems
    assert problem.file.endswith("qa.yaml") and "overlaps the staging VPC" in problem.rule
    suggested = problem.fix.rsplit(" ", 1)[-1]
    taken = [ipaddress.ip_network(e.network.vpc_cidr) for e in settings.environments.values()]
    taken.append(ipaddress.ip_network(settings.environments["production"].dr_azure.vnet_cidr))
    assert not any(ipaddress.ip_network(suggested).overlaps(t) for t in taken)
    _copy_of_staging(config, "qa", lambda text: text.replace("10.1.0.0/16", suggested))
    assert load_settings(config).environments["qa"].network.vpc_cidr == suggested


@pytest.mark.early(command=add_environment_in_a_copy)
def test_make_env_adds_an_environment_that_passes_the_contract_tests(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    assert NEW_ENVIRONMENT not in ENVIRONMENTS
    output = early_result.stdout + early_result.stderr
    assert early_result.returncode == 0, output[-4000:]
    assert f"wrote config/{NEW_ENVIRONMENT}.yaml" in output
    for regenerated in (f"tests/snapshots/eks-{NEW_ENVIRONMENT}.json", "stateful_addresses.json", ".gitlab-ci.yml"):
        assert regenerated in output, regenerated
    assert "statuses [0, 0, 0]" in output
