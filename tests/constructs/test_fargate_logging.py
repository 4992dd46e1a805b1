"""FargateLogging: the aws-observability namespace and the aws-logging ConfigMap EKS reads."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

from iworkz_constructs.fargate_logging import FargateLogging, FargateLoggingProps
from tests.tf import new_app, one, synth_stack


def test_namespace_label_and_configuration_sections() -> None:
    stack = TerraformStack(new_app(), "test")
    KubernetesProvider(stack, "kubernetes")
    FargateLogging(stack, "logging", FargateLoggingProps("ap-northeast-1", "/aws/eks/iworkz-test/fargate"))
    doc = synth_stack(stack)
    namespace = one(doc, "kubernetes_namespace_v1")["metadata"]
    assert namespace["name"] == "aws-observability" and namespace["labels"]["aws-observability"] == "enabled"
    config = one(doc, "kubernetes_config_map_v1")
    assert config["metadata"]["name"] == "aws-logging"
    data = config["data"]
    # EKS accepts only FILTER, OUTPUT and PARSER sections, each under its own key.
    assert [line for line in data["filters.conf"].splitlines() if line.startswith("[")] == ["[FILTER]", "[FILTER]"]
    assert data["output.conf"].splitlines()[0] == "[OUTPUT]" and data["parsers.conf"].startswith("[PARSER]")
    assert "log_group_name /aws/eks/iworkz-test/fargate" in data["output.conf"]
    assert "auto_create_group false" in data["output.conf"]


def test_fails_on_a_token_log_group() -> None:
    with pytest.raises(ValueError, match="literal log group name"):
        FargateLoggingProps("ap-northeast-1", "${aws_cloudwatch_log_group.x.name}")
