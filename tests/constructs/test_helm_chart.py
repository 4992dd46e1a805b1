"""HelmChart construct and the shared cluster providers (tiny stacks, no AWS provider)."""

from __future__ import annotations

import pytest
import yaml
from cdktf import TerraformStack, TerraformVariable
from cdktf_cdktf_provider_helm.provider import HelmProvider

from iworkz.contracts import ClusterOutputs
from iworkz.errors import UserError
from iworkz_constructs.helm_chart import HelmChart, HelmChartProps
from stacks.cluster_providers import EXEC_API_VERSION, cluster_providers
from tests.tf import new_app, one, synth_stack

REPO = "https://prometheus-community.github.io/helm-charts"


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    HelmProvider(stack, "helm")
    return stack


def _props(**overrides) -> HelmChartProps:
    base = {
        "release_name": "redis-exporter",
        "chart": "prometheus-redis-exporter",
        "repository": REPO,
        "version": "6.13.0",
        "namespace": "monitoring",
    }
    return HelmChartProps(**{**base, **overrides})


def test_all_defaults() -> None:
    stack = _stack()
    HelmChart(stack, "chart", _props())
    release = one(synth_stack(stack), "helm_release")
    assert release["name"] == "redis-exporter"
    assert release["chart"] == "prometheus-redis-exporter"
    assert release["repository"] == REPO
    assert release["version"] == "6.13.0"
    assert release["namespace"] == "monitoring"
    assert release["create_namespace"] is False
    assert release["atomic"] is True
    assert release["cleanup_on_fail"] is True
    assert release["wait"] is True
    assert release["timeout"] == 600
    assert "values" not in release


def test_all_options() -> None:
    stack = _stack()
    variable = TerraformVariable(stack, "endpoint", type="string")
    values = {
        "fullnameOverride": "redis-exporter",
        "redisAddress": f"rediss://{variable.string_value}:6379",
        "annotations": {"summary": "{{ $labels.instance }} ${literal} %{if}"},
        "list": [1, "二"],
    }
    chart = HelmChart(
        stack,
        "chart",
        _props(values=values, atomic=False, cleanup_on_fail=False, wait=False, timeout=900, max_history=3),
    )
    release = one(synth_stack(stack), "helm_release")
    assert release["atomic"] is False
    assert release["cleanup_on_fail"] is False
    assert release["wait"] is False
    assert release["timeout"] == 900
    assert release["max_history"] == 3
    assert len(release["values"]) == 1
    document = yaml.safe_load(release["values"][0])
    assert document["redisAddress"] == "rediss://${var.endpoint}:6379"
    # literal template markers are escaped for Terraform, Go templates untouched
    assert document["annotations"]["summary"] == "{{ $labels.instance }} $${literal} %%{if}"
    assert document["list"] == [1, "二"]
    assert chart.name == "redis-exporter"
    assert chart.namespace == "monitoring"


@pytest.mark.parametrize("version", ["", "latest", "^6.13.0", "~6.13", ">=6.0.0", "6.x", "6.13", "*", "6.13.0 || 7"])
def test_fails_unpinned_version(version: str) -> None:
    with pytest.raises(UserError) as error:
        _props(version=version)
    message = str(error.value)
    assert "helm release 'redis-exporter'" in message
    assert "version" in message
    assert repr(version) in message
    assert "exact chart version" in message


def test_fails_bad_release_name() -> None:
    with pytest.raises(UserError, match="DNS label"):
        _props(release_name="Redis_Exporter")


def test_fails_chart_with_repository_prefix() -> None:
    with pytest.raises(UserError, match="chart's name within its repository"):
        _props(chart="prometheus-community/prometheus-redis-exporter")


def test_fails_plain_http_repository() -> None:
    with pytest.raises(UserError, match="https:// or oci://"):
        _props(repository="http://charts.example.com")


def test_fails_out_of_range_timeout() -> None:
    with pytest.raises(UserError, match="30-3600 seconds"):
        _props(timeout=5)


def test_cluster_providers_use_eks_outputs_and_exec() -> None:
    stack = TerraformStack(new_app(), "test")
    endpoint = TerraformVariable(stack, "endpoint", type="string")
    ca = TerraformVariable(stack, "ca", type="string")
    name = TerraformVariable(stack, "name", type="string")
    eks = ClusterOutputs(
        name=name.string_value,
        endpoint=endpoint.string_value,
        certificate_authority_data=ca.string_value,
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/example",
        oidc_issuer="example",
        node_security_group_id="sg-1",
        cluster_security_group_id="sg-2",
        vpc_id="vpc-1",
        region="ap-northeast-1",
        fargate_log_group="/aws/eks/example/fargate",
    )
    providers = cluster_providers(stack, eks)
    assert providers.kubernetes is not None and providers.helm is not None
    doc = synth_stack(stack)
    kubernetes = doc["provider"]["kubernetes"][0]
    helm = doc["provider"]["helm"][0]["kubernetes"]
    args = ["eks", "get-token", "--cluster-name", "${var.name}", "--region", "ap-northeast-1"]
    for config in (kubernetes, helm):
        assert config["host"] == "${var.endpoint}"
        assert config["cluster_ca_certificate"] == "${base64decode(var.ca)}"
        assert "config_path" not in config
    assert kubernetes["exec"] == [{"api_version": EXEC_API_VERSION, "command": "aws", "args": args}]
    assert helm["exec"] == {"api_version": EXEC_API_VERSION, "command": "aws", "args": args}
