"""ai-<environment>: the SageMaker endpoint chain, Bedrock guardrail and logging, least-privilege access,
the interface endpoints, what ai-services gets with and without an endpoint, the catalog, bad input.

``STACKS=ai,workloads ENVS=production,dev .venv/bin/pytest tests/test_ai.py -q``
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest

from iworkz.config import ConfigError, load_settings
from iworkz.config.ai import VPC_ENDPOINT_SERVICES, ai_catalog
from tests.configs import DELETE, write_config
from tests.tf import data_sources, one, policy_json, resources

PRODUCTION, DEV = "ai-production", "ai-dev"
ROLE = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/iworkz-production-ai-services"
REMOTE = "${data.terraform_remote_state.ai-production.outputs."


def _ref(resource_type: str, name: str, attribute: str) -> str:
    return f"${{{resource_type}.{name}.{attribute}}}"


def _named(doc: dict[str, Any], resource_type: str, fragment: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(name, body) for name, body in resources(doc, resource_type).items() if fragment in name]
    return found


def _key_of(doc: dict[str, Any], purpose: str) -> str:
    name, _ = _named(doc, "aws_kms_key", f"{purpose}-key")
    return _ref("aws_kms_key", name, "arn")


# ---------------------------------------------------------------- SageMaker


def test_the_endpoint_chain_with_kms_vpc_and_data_capture(stack, settings):
    doc = stack(PRODUCTION)
    config = settings.environments["production"].ai.endpoint
    model_name, model = _named(doc, "aws_sagemaker_model", "matching-endpoint")
    assert model["enable_network_isolation"] is True
    assert model["primary_container"]["model_data_url"] == config.model_artifact
    assert model["primary_container"]["image"] == config.image.replace(
        "{account_id}", "${data.aws_caller_identity.current.account_id}"
    )
    network = "${data.terraform_remote_state.network-production.outputs.private_subnet_ids}"
    assert model["vpc_config"]["subnets"] == [f"${{element({network[2:-1]}, {i})}}" for i in range(3)]
    group_name, group = _named(doc, "aws_security_group", "matching-endpoint")
    assert model["vpc_config"]["security_group_ids"] == [_ref("aws_security_group", group_name, "id")]
    assert group["vpc_id"] == "${data.terraform_remote_state.network-production.outputs.vpc_id}"
    configuration_name, configuration = _named(doc, "aws_sagemaker_endpoint_configuration", "matching-endpoint")
    (variant,) = configuration["production_variants"]
    assert variant["model_name"] == _ref("aws_sagemaker_model", model_name, "name")
    assert (variant["instance_type"], variant["initial_instance_count"]) == (
        config.instance_type,
        config.instance_count,
    )
    sagemaker_key = _key_of(doc, "sagemaker")
    assert configuration["kms_key_arn"] == sagemaker_key
    capture = configuration["data_capture_config"]
    assert capture["enable_capture"] is True and capture["kms_key_id"] == sagemaker_key
    assert capture["initial_sampling_percentage"] == config.data_capture_percentage
    assert capture["destination_s3_uri"] == "s3://iworkz-production-ai-data-capture/iworkz-production-ai-matching"
    endpoint = one(doc, "aws_sagemaker_endpoint")
    assert endpoint["name"] == "iworkz-production-ai-matching"
    assert endpoint["endpoint_config_name"] == _ref("aws_sagemaker_endpoint_configuration", configuration_name, "name")


def test_the_buckets_are_encrypted_versioned_and_logged(stack):
    doc = stack(PRODUCTION)
    buckets = {body["bucket"]: name for name, body in resources(doc, "aws_s3_bucket").items()}
    assert set(buckets) == {
        "iworkz-production-ai-artifacts",
        "iworkz-production-ai-data-capture",
        "iworkz-production-bedrock-invocation-logs",
    }
    encryption = {
        body["bucket"]: body["rule"][0]["apply_server_side_encryption_by_default"]
        for body in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values()
    }
    versioning = {body["bucket"] for body in resources(doc, "aws_s3_bucket_versioning").values()}
    logging = {body["bucket"]: body for body in resources(doc, "aws_s3_bucket_logging").values()}
    for bucket, name in buckets.items():
        reference = _ref("aws_s3_bucket", name, "id")
        assert encryption[reference]["sse_algorithm"] == "aws:kms", bucket
        assert reference in versioning, bucket
        access_logs = '${data.terraform_remote_state.data-production.outputs.buckets["access-logs"]}'
        assert logging[reference]["target_bucket"] == access_logs, bucket
    assert encryption[_ref("aws_s3_bucket", buckets["iworkz-production-ai-artifacts"], "id")]["kms_master_key_id"] == (
        _key_of(doc, "sagemaker")
    )


def test_autoscaling_on_invocations_per_instance(stack, settings):
    config = settings.environments["production"].ai.endpoint
    doc = stack(PRODUCTION)
    target = one(doc, "aws_appautoscaling_target")
    assert target["resource_id"].endswith("/variant/primary") and target["service_namespace"] == "sagemaker"
    assert (target["min_capacity"], target["max_capacity"]) == (config.instance_count, config.max_instance_count)
    tracking = one(doc, "aws_appautoscaling_policy")["target_tracking_scaling_policy_configuration"]
    assert (
        tracking["predefined_metric_specification"]["predefined_metric_type"]
        == "SageMakerVariantInvocationsPerInstance"
    )
    assert tracking["target_value"] == config.invocations_per_instance


def test_the_endpoint_log_group_exists_encrypted_before_sagemaker_writes_to_it(stack):
    doc = stack(PRODUCTION)
    _, group = _named(doc, "aws_cloudwatch_log_group", "endpoint-logs")
    assert group["name"] == "/aws/sagemaker/Endpoints/iworkz-production-ai-matching"
    assert group["kms_key_id"] == _key_of(doc, "sagemaker") and group["lifecycle"]["prevent_destroy"] is True


def test_an_environment_without_the_endpoint_keeps_its_storage_and_runs_nothing(stack):
    doc = stack(DEV)
    for resource_type in (
        "aws_sagemaker_model",
        "aws_sagemaker_endpoint_configuration",
        "aws_sagemaker_endpoint",
        "aws_appautoscaling_target",
    ):
        assert not resources(doc, resource_type), resource_type
    assert doc["output"]["sagemaker_endpoint_names"]["value"] == {}
    buckets = {body["bucket"] for body in resources(doc, "aws_s3_bucket").values()}
    assert buckets == {"iworkz-dev-ai-artifacts", "iworkz-dev-ai-data-capture"}
    services = {
        e["service_name"].removeprefix("com.amazonaws.ap-northeast-1.")
        for e in resources(doc, "aws_vpc_endpoint").values()
    }
    assert services == {"bedrock-runtime", "textract", "comprehend"}


# ---------------------------------------------------------------- Bedrock


def test_the_guardrail_masks_personal_information_in_prompts_and_responses(stack):
    for name in (PRODUCTION, DEV):
        doc = stack(name)
        guardrail = one(doc, "aws_bedrock_guardrail")
        assert guardrail["kms_key_arn"] == _key_of(doc, "bedrock")
        (policy,) = guardrail["sensitive_information_policy_config"]
        filters = {e["type"]: e for e in policy["pii_entities_config"]}
        filters.update({r["name"]: r for r in policy["regexes_config"]})
        assert set(filters) == {"NAME", "PHONE", "ADDRESS", "EMAIL", "MY_NUMBER"}, name
        for kind, rule in filters.items():
            assert rule["input_enabled"] is True and rule["output_enabled"] is True, (name, kind)
            assert rule["input_action"] == rule["output_action"] == "ANONYMIZE", (name, kind)
        version = one(doc, "aws_bedrock_guardrail_version")
        assert version["guardrail_arn"] == _ref(
            "aws_bedrock_guardrail", next(iter(resources(doc, "aws_bedrock_guardrail"))), "guardrail_arn"
        )


def test_invocation_logging_to_s3_and_cloudwatch_with_kms_in_the_owning_environment_only(stack):
    doc = stack(PRODUCTION)
    (logging,) = one(doc, "aws_bedrock_model_invocation_logging_configuration")["logging_config"]
    bucket_name, _ = _named(doc, "aws_s3_bucket", "invocation-logging")
    assert logging["s3_config"][0]["bucket_name"] == _ref("aws_s3_bucket", bucket_name, "bucket")
    (cloudwatch,) = logging["cloudwatch_config"]
    _, group = _named(doc, "aws_cloudwatch_log_group", "invocation-logging")
    assert cloudwatch["log_group_name"] == group["name"] == "/aws/bedrock/iworkz-production/model-invocations"
    assert group["kms_key_id"] == _key_of(doc, "bedrock")
    key_policy = policy_json(doc, _named(doc, "aws_kms_key", "bedrock-key")[1]["policy"])["Statement"]
    services = {s["Principal"]["Service"] for s in key_policy if "Service" in s.get("Principal", {})}
    assert services == {"bedrock.amazonaws.com", "logs.ap-northeast-1.amazonaws.com"}
    for name in ("ai-staging", DEV):
        assert not resources(stack(name), "aws_bedrock_model_invocation_logging_configuration"), name


# ---------------------------------------------------------------- least privilege


def _policies(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    documents = [
        (name, policy_json(doc, body["policy"])) for name, body in resources(doc, "aws_iam_role_policy").items()
    ]
    documents += [(name, policy_json(doc, body["policy"])) for name, body in resources(doc, "aws_vpc_endpoint").items()]
    return documents


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def _ai_services_policy(doc: dict[str, Any]) -> dict[str, Any]:
    (policy,) = [policy for name, policy in _policies(doc) if name.startswith("ai-services-role")]
    return policy


def test_iam_statements_are_limited(stack):
    without_resources = set(ai_catalog("iam_actions_without_resource_types"))
    documents = [*_policies(stack(PRODUCTION)), *_policies(stack(DEV))]
    documents += [("ai-services", _ai_services_policy(stack("workloads-production")))]
    assert len(documents) >= 8
    for name, document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = _actions(statement)
            assert all("*" not in action for action in actions), (name, statement)
            if statement["Resource"] == "*":
                assert set(actions) <= without_resources, (name, statement)


def test_the_four_vpc_endpoints_admit_only_ai_services(stack):
    doc = stack(PRODUCTION)
    endpoints = {
        body["service_name"].removeprefix("com.amazonaws.ap-northeast-1."): body
        for body in resources(doc, "aws_vpc_endpoint").values()
    }
    assert set(endpoints) == set(VPC_ENDPOINT_SERVICES)
    (group,) = resources(doc, "aws_security_group").keys() - {_named(doc, "aws_security_group", "matching-endpoint")[0]}
    for service, endpoint in endpoints.items():
        assert endpoint["vpc_endpoint_type"] == "Interface" and endpoint["private_dns_enabled"] is True, service
        assert endpoint["security_group_ids"] == [_ref("aws_security_group", group, "id")], service
        assert "private_subnet_ids" in str(endpoint["subnet_ids"]), service
        statements = policy_json(doc, endpoint["policy"])["Statement"]
        assert statements, service
        for statement in statements:
            assert statement["Principal"] == "*", service
            assert statement["Condition"]["StringEquals"]["aws:PrincipalArn"] == ROLE, service
            prefix = {"sagemaker.runtime": "sagemaker", "bedrock-runtime": "bedrock"}.get(service, service)
            assert all(action.startswith(f"{prefix}:") for action in _actions(statement)), service
    sagemaker = policy_json(doc, endpoints["sagemaker.runtime"]["policy"])["Statement"][0]
    assert sagemaker["Resource"] == _ref(
        "aws_sagemaker_endpoint", next(iter(resources(doc, "aws_sagemaker_endpoint"))), "arn"
    )


def test_every_bedrock_call_needs_the_guardrail_version(stack):
    doc = stack("workloads-production")
    policy = _ai_services_policy(doc)
    invoking = [s for s in policy["Statement"] if "bedrock:InvokeModel" in _actions(s)]
    assert len(invoking) == 2
    guardrail = f"{REMOTE}bedrock_guardrail_arn}}:{REMOTE}bedrock_guardrail_version}}"
    for statement in invoking:
        assert statement["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"] == guardrail


# ---------------------------------------------------------------- what ai-services gets


def _ai_config(doc: dict[str, Any]) -> dict[str, str]:
    (config,) = [b for b in resources(doc, "kubernetes_config_map_v1").values() if b["metadata"]["name"] == "ai-config"]
    return dict(config["data"])


def _ai_services_env(doc: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = [
        b for b in resources(doc, "kubernetes_deployment_v1").values() if b["metadata"]["name"] == "ai-services"
    ]
    (container,) = deployment["spec"]["template"]["spec"]["container"]
    return {env["name"]: env for env in container["env"]}


def test_the_config_map_takes_the_endpoint_name_from_the_ai_stack(stack):
    doc = stack("workloads-production")
    config = _ai_config(doc)
    assert config["sagemaker-endpoint"] == f"{REMOTE}sagemaker_endpoint_names.matching}}"
    assert config["bedrock-guardrail-id"] == f"{REMOTE}bedrock_guardrail_id}}"
    assert config["bedrock-guardrail-version"] == f"{REMOTE}bedrock_guardrail_version}}"
    assert config["bedrock-models"] == "jp.anthropic.claude-sonnet-4-5-20250929-v1:0,amazon.titan-embed-text-v2:0"
    env = _ai_services_env(doc)
    reference = env["SAGEMAKER_ENDPOINT"]["value_from"]["config_map_key_ref"]
    assert (reference["name"], reference["key"]) == ("ai-config", "sagemaker-endpoint")
    # The ai stack publishes the name of the endpoint it creates.
    producer = stack(PRODUCTION)
    endpoint = next(iter(resources(producer, "aws_sagemaker_endpoint")))
    assert producer["output"]["sagemaker_endpoint_names"]["value"] == {
        "matching": _ref("aws_sagemaker_endpoint", endpoint, "name")
    }


def test_without_an_endpoint_ai_services_is_pointed_at_none(stack):
    doc = stack("workloads-dev")
    assert "sagemaker-endpoint" not in _ai_config(doc)
    env = _ai_services_env(doc)
    assert "SAGEMAKER_ENDPOINT" not in env and "BEDROCK_GUARDRAIL_ID" in env
    policy = _ai_services_policy(doc)
    assert not [s for s in policy["Statement"] if any(a.startswith("sagemaker:") for a in _actions(s))]


def test_the_workloads_read_the_ai_stack_through_its_contract(stack):
    doc = stack("workloads-production")
    (state,) = [body for name, body in data_sources(doc, "terraform_remote_state").items() if name == "ai-production"]
    assert state["config"]["key"] == "production/ai.tfstate"
    assert "iworkz-production-ai-matching" not in json.dumps(doc)


# ---------------------------------------------------------------- the catalog


def test_the_catalog_agrees_with_botocore():
    session = botocore.session.get_session()
    offered = set(session.get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum)
    listed = {
        f"ml.{family}.{size}" for family, sizes in ai_catalog("sagemaker_instance_types").items() for size in sizes
    }
    assert listed == offered
    assert set(ai_catalog("sagemaker_ebs_only_families")) <= set(ai_catalog("sagemaker_instance_types"))
    pii = session.get_service_model("bedrock").shape_for("GuardrailPiiEntityType").enum
    assert ai_catalog("bedrock_guardrail_pii_types") == pii
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    (aws,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    names = {"sagemaker.runtime": "runtime.sagemaker", "bedrock-runtime": "bedrock"}
    for service, regions in ai_catalog("ai_service_regions").items():
        assert set(regions) <= set(aws["services"][names.get(service, service)]["endpoints"]), service


def test_catalog_models_are_offered_where_the_environments_run(settings):
    for name, env in settings.environments.items():
        profiles = ai_catalog("bedrock_inference_profiles")
        for model in env.ai.bedrock.models:
            regions = (
                profiles[model]["sources"] if model in profiles else ai_catalog("bedrock_foundation_models")[model]
            )
            assert env.aws.region in regions, (name, model)


# ---------------------------------------------------------------- bad input


def _error(tmp_path: Path, env: str, patch: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, env, patch))
    return caught.value.render()


OSAKA = {
    "aws": {"region": "ap-northeast-3", "backup_region": "ap-northeast-1"},
    "network": {"availability_zones": ["ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"]},
}
BAD_INPUTS = [
    pytest.param(
        "production",
        {"ai": {"endpoint": {"instance_type": "c6i.large"}}},
        ["production.yaml", "ai.endpoint.instance_type", "'c6i.large'", "ml.<family>.<size>"],
        id="instance-type-without-ml-prefix",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"instance_type": "ml.x9.large"}}},
        ["ai.endpoint.instance_type", "ml.x9 is not a SageMaker real-time inference family"],
        id="unknown-instance-family",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"instance_type": "ml.c6i.medium"}}},
        ["ai.endpoint.instance_type", "ml.c6i comes in large"],
        id="size-not-offered",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"instance_type": "ml.g5.xlarge"}}},
        ["ai.endpoint.instance_type", "local NVMe instance storage", "EBS-only family"],
        id="family-whose-volume-takes-no-kms-key",
    ),
    pytest.param(
        "staging",
        {
            "ai": {
                "bedrock": {"models": ["arn:aws:bedrock:ap-northeast-1::foundation-model/amazon.titan-embed-text-v2:0"]}
            }
        },
        ["staging.yaml", "ai.bedrock.models[0]", "not an ARN or a display name"],
        id="model-id-in-the-wrong-form",
    ),
    pytest.param(
        "staging",
        {"ai": {"bedrock": {"models": ["Claude Sonnet"]}}},
        ["ai.bedrock.models[0]", "model ID (<provider>.<model>"],
        id="model-display-name",
    ),
    pytest.param(
        "staging",
        {"ai": {"bedrock": {"models": ["amazon.nova-pro-v9:0"]}}},
        ["ai.bedrock.models[0]", "is not in iworkz/config/catalog/ai.yaml: bedrock_foundation_models"],
        id="model-not-in-the-catalog",
    ),
    pytest.param(
        "dev",
        {
            **OSAKA,
            "ai": {"textract": False, "comprehend": False, "bedrock": {"models": ["amazon.titan-embed-text-v2:0"]}},
        },
        ["dev.yaml", "ai.bedrock.models[0]", "not offered in ap-northeast-3"],
        id="model-not-offered-in-the-region",
    ),
    pytest.param(
        "dev",
        {**OSAKA, "ai": {"textract": True}},
        ["dev.yaml", "ai.textract", "textract is not offered in ap-northeast-3"],
        id="service-not-offered-in-the-region",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"model_artifact": "s3://iworkz-staging-ai-artifacts/matching/1.0.0/model.tar.gz"}}},
        [
            "production.yaml",
            "ai.endpoint.model_artifact",
            "outside the environment's artifact bucket iworkz-production-ai-artifacts",
        ],
        id="artifact-outside-the-artifact-bucket",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"model_artifact": "https://example.com/model.tar.gz"}}},
        ["ai.endpoint.model_artifact", "s3://<bucket>/<key>.tar.gz"],
        id="artifact-not-an-s3-archive",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"image": "registry.gitlab.com/iworkz/ai-matching:1.0.0"}}},
        ["ai.endpoint.image", "Amazon ECR image"],
        id="image-outside-ecr",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"image": "{account_id}.dkr.ecr.ap-northeast-1.amazonaws.com/iworkz/ai-matching:latest"}}},
        ["ai.endpoint.image", "pinned, not 'latest'"],
        id="image-latest",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"image": DELETE}}},
        ["ai.endpoint.image", "an enabled endpoint needs image", "set enabled: false"],
        id="enabled-endpoint-without-image",
    ),
    pytest.param(
        "production",
        {"ai": {"endpoint": {"max_instance_count": 1}}},
        ["ai.endpoint.max_instance_count", "at least instance_count (2)"],
        id="max-below-count",
    ),
    pytest.param(
        "staging",
        {"ai": {"bedrock": {"invocation_logging": True}}},
        ["staging.yaml", "ai.bedrock.invocation_logging", "production and staging both own"],
        id="two-owners-of-the-invocation-logging",
    ),
    pytest.param(
        "production",
        {"ai": {"bedrock": {"invocation_logging": False}}},
        ["dev.yaml", "ai.bedrock.invocation_logging", "no environment in ap-northeast-1 logs"],
        id="no-owner-of-the-invocation-logging",
    ),
    pytest.param(
        "production",
        {"network": {"interface_endpoints": ["ecr.api", "ecr.dkr", "sts", "logs", "bedrock-runtime"]}},
        ["network.interface_endpoints", "the ai stack owns the interface endpoints of bedrock-runtime"],
        id="ai-endpoint-in-the-network-stack",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_input(tmp_path, env, patch, expected):
    message = _error(tmp_path, env, patch)
    for fragment in expected:
        assert fragment in message, (fragment, message)
    assert "rule:" in message and "fix:" in message


def test_a_copied_environment_keeps_no_other_environments_artifact(tmp_path):
    config = write_config(tmp_path)
    staging = (config / "staging.yaml").read_text().replace("10.1.0.0/16", "10.3.0.0/16")
    (config / "qa.yaml").write_text(staging.replace("s3://{prefix}-ai-artifacts/", "s3://iworkz-staging-ai-artifacts/"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "qa.yaml: ai.endpoint.model_artifact = 's3://iworkz-staging-ai-artifacts/" in caught.value.render()
