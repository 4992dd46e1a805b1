"""AI section: the matching model's SageMaker endpoint, Bedrock, Textract and Comprehend (design 12.1).

The valid values (SageMaker instance types, Bedrock models and the Regions that offer them, the
Regions of each service) are dated data in ``catalog/ai.yaml`` (:mod:`iworkz.config.catalog`). Each rule is one function that
returns the broken :class:`Rule` or None; the configuration models raise it as a rule error and
the constructs (``iworkz_constructs.sagemaker_endpoint``, ``.ai_access``) as a ValueError, so a
value the configuration accepts is one the constructs accept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from iworkz.config import catalog
from iworkz.config.base import LogRetentionDays, Model, Templated, rule_error
from iworkz.errors import Problem

# The model the platform hosts on SageMaker today (key of the ai stack's endpoint maps).
MATCHING_MODEL = "matching"
# Interface endpoints the ai stack owns (private DNS: one endpoint per service and VPC).
VPC_ENDPOINT_SERVICES = ("sagemaker.runtime", "bedrock-runtime", "textract", "comprehend")
INFERENCE_PROFILE_GEOGRAPHIES = ("global", "us", "us-gov", "eu", "apac", "jp", "au", "ca")

_INSTANCE_TYPE = re.compile(r"^ml\.(?P<family>[a-z0-9-]+)\.(?P<size>[a-z0-9]+)$")
_FOUNDATION_MODEL = re.compile(r"^[a-z0-9-]+\.[a-z0-9][a-z0-9.-]*(:[a-z0-9]+){0,2}$")
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12}|\{account_id\})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@sha256:[0-9a-f]{64})$"
)
_S3_OBJECT = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>\S+)$")


def ai_catalog(table: str) -> Any:
    """The values of one table of ``catalog/ai.yaml`` (each table also names its source and date)."""
    return catalog.values("ai.yaml", table)


# The names the ai stack derives from the prefix (<project>-<environment>; iworkz/config/names.py
# checks them against the services' limits).
def artifact_bucket(prefix: str) -> str:
    """The environment's model artifact bucket (the ai stack creates it): ``<prefix>-ai-artifacts``."""
    return f"{prefix}-ai-artifacts"


def data_capture_bucket(prefix: str) -> str:
    return f"{prefix}-ai-data-capture"


def invocation_log_bucket(prefix: str) -> str:
    return f"{prefix}-bedrock-invocation-logs"


def matching_endpoint(prefix: str) -> str:
    """The SageMaker endpoint ai-services calls."""
    return f"{prefix}-ai-{MATCHING_MODEL}"


def guardrail_name(prefix: str) -> str:
    return f"{prefix}-pii"


@dataclass(frozen=True)
class Rule:
    rule: str
    fix: str


# --- SageMaker ---------------------------------------------------------------------------------


def instance_type_rule(value: str) -> Rule | None:
    """A real-time instance type SageMaker offers, whose volume takes a customer-managed key."""
    match = _INSTANCE_TYPE.match(value)
    if match is None:
        return Rule("a SageMaker instance type is ml.<family>.<size>", "e.g. ml.c6i.xlarge")
    families: Mapping[str, list[str]] = ai_catalog("sagemaker_instance_types")
    family, size = match["family"], match["size"]
    if family not in families:
        return Rule(
            f"ml.{family} is not a SageMaker real-time inference family ({', '.join(sorted(families))})",
            "pick a family from iworkz/config/catalog/ai.yaml: sagemaker_instance_types",
        )
    if size not in families[family]:
        return Rule(f"ml.{family} comes in {', '.join(families[family])}", f"e.g. ml.{family}.{families[family][0]}")
    if family not in ai_catalog("sagemaker_ebs_only_families"):
        return Rule(
            f"ml.{family} has (or may have) local NVMe instance storage, whose volume takes no customer-managed "
            "KMS key; the endpoint's volume must be encrypted with the ai stack's key",
            "choose an EBS-only family, e.g. ml.c6i, ml.m6i, ml.r6i or ml.inf2",
        )
    return None


def image_rule(value: str, region: str) -> Rule | None:
    """A pinned ECR image in the endpoint's Region (SageMaker hosting pulls from ECR)."""
    match = _ECR_IMAGE.match(value)
    if match is None:
        return Rule(
            "must be an Amazon ECR image <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (or @sha256:<digest>)",
            "e.g. '{account_id}.dkr.ecr.ap-northeast-1.amazonaws.com/iworkz/ai-matching:1.0.0'",
        )
    if match["region"] != region:
        return Rule(
            f"the image's registry is in {match['region']}, the endpoint in {region}",
            f"push the image to ECR in {region}",
        )
    if match["tag"] == "latest":
        return Rule("the model image must be pinned, not 'latest'", "use the release tag or the digest")
    return None


def ecr_repository(image: str) -> tuple[str, str]:
    """(account or ``{account_id}``, repository) of an image :func:`image_rule` accepted."""
    match = _ECR_IMAGE.match(image)
    assert match is not None, image
    return match["account"], match["repository"]


def artifact_rule(value: str, bucket: str) -> Rule | None:
    """A model archive (``.tar.gz``, SageMaker's ModelDataUrl) in the environment's artifact bucket."""
    match = _S3_OBJECT.match(value)
    if match is None or not match["key"].endswith(".tar.gz"):
        return Rule(
            "must be the S3 URI of a model archive: s3://<bucket>/<key>.tar.gz",
            f"e.g. s3://{bucket}/matching/1.0.0/model.tar.gz",
        )
    if match["bucket"] != bucket:
        return Rule(
            f"lies outside the environment's artifact bucket {bucket} (the endpoint's role may read only that bucket)",
            f"upload the archive to s3://{bucket}/ and point model_artifact there",
        )
    return None


def artifact_key(uri: str) -> str:
    match = _S3_OBJECT.match(uri)
    assert match is not None, uri
    return match["key"]


# --- Bedrock -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BedrockModel:
    """A model ai-services may invoke: a foundation model in-Region, or a system inference profile
    (``<geography>.<model>``) that routes to the foundation model in its destination Regions."""

    id: str
    foundation_model: str
    destinations: tuple[str, ...]  # empty: the foundation model is invoked in-Region

    @property
    def is_inference_profile(self) -> bool:
        return self.id != self.foundation_model


def bedrock_model_rule(value: str, region: str) -> Rule | None:
    """A foundation model ID or system inference profile ID offered in ``region``."""
    geography, _, rest = value.partition(".")
    profile = geography in INFERENCE_PROFILE_GEOGRAPHIES
    if not _FOUNDATION_MODEL.match(rest if profile else value):
        return Rule(
            "a Bedrock model is a model ID (<provider>.<model>, e.g. amazon.titan-embed-text-v2:0) or a system "
            "inference profile ID (<geography>.<provider>.<model>), not an ARN or a display name",
            "copy the ID from the Bedrock model catalog",
        )
    table = "bedrock_inference_profiles" if profile else "bedrock_foundation_models"
    known: Mapping[str, Any] = ai_catalog(table)
    if value not in known:
        return Rule(
            f"is not in iworkz/config/catalog/ai.yaml: {table} ({', '.join(known)})",
            "use a listed ID, or add the model with its source after checking where AWS offers it",
        )
    offered = known[value]["sources"] if profile else known[value]
    if region not in offered:
        kind = "the inference profile is not callable from" if profile else "the model is not offered in"
        return Rule(f"{kind} {region} (offered in {', '.join(offered)})", "pick a model offered in the region")
    return None


def bedrock_model(value: str) -> BedrockModel:
    """The model behind an ID :func:`bedrock_model_rule` accepted."""
    profile = ai_catalog("bedrock_inference_profiles").get(value)
    if profile is None:
        return BedrockModel(value, value, ())
    return BedrockModel(value, profile["model"], tuple(profile["destinations"]))


def service_region_rule(service: str, region: str) -> Rule | None:
    offered = ai_catalog("ai_service_regions")[service]
    if region not in offered:
        return Rule(f"{service} is not offered in {region}", "turn it off here or run the environment elsewhere")
    return None


# --- configuration models ----------------------------------------------------------------------


def _instance_type(value: str) -> str:
    if (rule := instance_type_rule(value)) is not None:
        raise rule_error(rule.rule, rule.fix)
    return value


class EndpointConfig(Model):
    """The SageMaker real-time endpoint of the matching model; ``enabled: false`` runs none (the
    buckets, key and log group stay, so turning it off destroys no data)."""

    enabled: bool
    # Amazon ECR image of the inference container; {account_id} is the stack's account.
    image: str | None = None
    # Model archive (.tar.gz) in the environment's artifact bucket: s3://{prefix}-ai-artifacts/<key>.tar.gz.
    model_artifact: Annotated[str, Templated] | None = None
    instance_type: Annotated[str, AfterValidator(_instance_type)] | None = None
    # Instances at start and the autoscaling floor; two or more spread over the private subnets' zones.
    instance_count: int | None = Field(None, ge=1)
    max_instance_count: int | None = Field(None, ge=1)
    # Target of the autoscaling policy: invocations per instance per minute.
    invocations_per_instance: int | None = Field(None, ge=1)
    # Share of requests captured to S3 for model monitoring.
    data_capture_percentage: int | None = Field(None, ge=1, le=100)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> EndpointConfig:
        if not self.enabled:
            return self
        for name in (
            "image",
            "model_artifact",
            "instance_type",
            "instance_count",
            "max_instance_count",
            "invocations_per_instance",
            "data_capture_percentage",
        ):
            if getattr(self, name) is None:
                raise rule_error(
                    "an enabled endpoint needs image, model_artifact, instance_type, instance_count, "
                    "max_instance_count, invocations_per_instance and data_capture_percentage",
                    f"add {name}, or set enabled: false",
                    field=name,
                    value=None,
                )
        assert self.instance_count is not None and self.max_instance_count is not None
        if self.max_instance_count < self.instance_count:
            raise rule_error(
                f"max_instance_count must be at least instance_count ({self.instance_count})",
                "raise max_instance_count",
                field="max_instance_count",
                value=self.max_instance_count,
            )
        return self


class BedrockConfig(Model):
    # Foundation model IDs (in-Region) or system inference profile IDs ai-services may invoke.
    models: list[str] = Field(min_length=1)
    # The account has ONE model invocation logging configuration per Region: exactly one
    # environment per Region owns it (and logs every environment's invocations there).
    invocation_logging: bool


class AiConfig(Model):
    endpoint: EndpointConfig
    # Days the captured requests and responses (personal data) are kept.
    data_capture_retention_days: int = Field(ge=1, le=3650)
    # Days the endpoint's container logs and the Bedrock invocation logs are kept.
    log_retention_days: LogRetentionDays
    bedrock: BedrockConfig
    # business_card_scanner (Textract) and language analysis (Comprehend) for ai-services.
    textract: bool
    comprehend: bool

    @property
    def vpc_endpoint_services(self) -> tuple[str, ...]:
        wanted = {
            "sagemaker.runtime": self.endpoint.enabled,
            "bedrock-runtime": True,
            "textract": self.textract,
            "comprehend": self.comprehend,
        }
        return tuple(service for service in VPC_ENDPOINT_SERVICES if wanted[service])


def ai_rules(ai: AiConfig, region: str, interface_endpoints: list[str]) -> None:
    """Rules across sections (the Region, the network's endpoints); raises a rule error naming the field."""
    for service in ai.vpc_endpoint_services:
        if (rule := service_region_rule(service, region)) is not None:
            field = {"sagemaker.runtime": "endpoint.enabled", "bedrock-runtime": "bedrock.models"}.get(service, service)
            raise rule_error(rule.rule, rule.fix, field=f"ai.{field}", value=service)
    image = ai.endpoint.image if ai.endpoint.enabled else None
    if image is not None and (rule := image_rule(image, region)) is not None:
        raise rule_error(rule.rule, rule.fix, field="ai.endpoint.image", value=image)
    for index, model in enumerate(ai.bedrock.models):
        if (rule := bedrock_model_rule(model, region)) is not None:
            raise rule_error(rule.rule, rule.fix, field=f"ai.bedrock.models[{index}]", value=model)
    owned = sorted(set(interface_endpoints) & set(VPC_ENDPOINT_SERVICES))
    if owned:
        raise rule_error(
            f"the ai stack owns the interface endpoints of {', '.join(owned)} (with policies limited to the "
            "platform's roles); a second endpoint with private DNS for a service cannot exist in the VPC",
            f"remove {', '.join(owned)} from network.interface_endpoints",
            field="network.interface_endpoints",
            value=interface_endpoints,
        )


def ai_problems(files: Mapping[str, str], project: str, envs: Mapping[str, Any]) -> list[Problem]:
    """Rules that need the project name or every environment: the artifact bucket, and one owner of
    the account's Bedrock invocation logging per Region."""
    problems = []
    for name, env in envs.items():
        endpoint = env.ai.endpoint
        if endpoint.enabled and endpoint.model_artifact is not None:
            rule = artifact_rule(endpoint.model_artifact, artifact_bucket(f"{project}-{name}"))
            if rule is not None:
                problems.append(
                    Problem(files[name], "ai.endpoint.model_artifact", endpoint.model_artifact, rule.rule, rule.fix)
                )
    by_region: dict[str, list[str]] = {}
    for name, env in sorted(envs.items()):
        by_region.setdefault(env.aws.region, [])
        if env.ai.bedrock.invocation_logging:
            by_region[env.aws.region].append(name)
    for region, owners in by_region.items():
        if len(owners) > 1:
            problems.append(
                Problem(
                    files[owners[-1]],
                    "ai.bedrock.invocation_logging",
                    True,
                    f"{' and '.join(owners)} both own the account's Bedrock invocation logging in {region} "
                    "(one configuration per account and Region)",
                    "set invocation_logging: true in exactly one environment of the Region",
                )
            )
        elif not owners:
            first = min(name for name, env in envs.items() if env.aws.region == region)
            problems.append(
                Problem(
                    files[first],
                    "ai.bedrock.invocation_logging",
                    False,
                    f"no environment in {region} logs the account's Bedrock invocations",
                    "set invocation_logging: true in one environment of the Region (production)",
                )
            )
    return problems
