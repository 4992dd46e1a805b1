"""What a platform role may call on the AI services, as IAM statements in IAM's JSON shape.

One description serves both sides of the access: the role's grants (``AiOutputs.grant_invoke``
in the workloads stack) and the policies of the interface endpoints the calls travel through
(the ai stack), which repeat the grants with the principal pinned to the platform's roles.

Least privilege: the SageMaker endpoints by ARN; Bedrock only the configured models (foundation
models in-Region, or a system inference profile and its foundation model in the profile's
destination Regions, reachable only through that profile), each call only with the
environment's guardrail version; Textract and Comprehend only the actions ai-services calls,
which name no resource (``iworkz/config/catalog/ai.yaml: iam_actions_without_resource_types``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iworkz.config.ai import VPC_ENDPOINT_SERVICES, ai_catalog, bedrock_model, bedrock_model_rule

Statement = dict[str, Any]

SAGEMAKER_INVOKE_ACTIONS = ("sagemaker:InvokeEndpoint",)
BEDROCK_INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
# business_card_scanner: text and key-value pairs of scanned cards (synchronous calls, document bytes).
TEXTRACT_ACTIONS = ("textract:AnalyzeDocument", "textract:DetectDocumentText")
# Japanese is supported by these; PII detection (DetectPiiEntities) is English and Spanish only.
COMPREHEND_ACTIONS = (
    "comprehend:DetectDominantLanguage",
    "comprehend:DetectEntities",
    "comprehend:DetectKeyPhrases",
    "comprehend:DetectSentiment",
)
# IAM service prefix of the actions that travel through each interface endpoint.
ENDPOINT_SERVICE_PREFIX = {
    "sagemaker.runtime": "sagemaker",
    "bedrock-runtime": "bedrock",
    "textract": "textract",
    "comprehend": "comprehend",
}


def foundation_model_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def invoke_arn(model_id: str, region: str, account_id: str) -> str:
    """The ARN a caller invokes: the foundation model, or the inference profile in the caller's Region."""
    if bedrock_model(model_id).is_inference_profile:
        return f"arn:aws:bedrock:{region}:{account_id}:inference-profile/{model_id}"
    return foundation_model_arn(region, model_id)


@dataclass(frozen=True)
class AiAccess:
    """The AI calls of a platform role.

    | name | meaning | default |
    |---|---|---|
    | region | Region of the environment | required |
    | model_arns | Bedrock model ID -> the ARN invoked (:func:`invoke_arn`) | required |
    | guardrail_arn / guardrail_version | the guardrail every Bedrock call must name | required |
    | guardrail_kms_key_arn | the guardrail's key (its users decrypt it) | required |
    | endpoint_arns | SageMaker endpoints the role invokes | none |
    | textract / comprehend | the role calls Textract / Comprehend | False |
    """

    region: str
    model_arns: Mapping[str, str]
    guardrail_arn: str
    guardrail_version: str
    guardrail_kms_key_arn: str
    endpoint_arns: Sequence[str] = ()
    textract: bool = False
    comprehend: bool = False

    def __post_init__(self) -> None:
        if not self.model_arns:
            raise ValueError("AiAccess: give at least one Bedrock model")
        for model_id in self.model_arns:
            if (rule := bedrock_model_rule(model_id, self.region)) is not None:
                raise ValueError(f"Bedrock model {model_id!r}: {rule.rule}")

    def statements(self) -> list[Statement]:
        """The role's statements: nothing beyond the listed models, endpoints and services."""
        guardrail = {"bedrock:GuardrailIdentifier": f"{self.guardrail_arn}:{self.guardrail_version}"}
        statements: list[Statement] = []
        if self.endpoint_arns:
            statements.append(_allow("InvokeSageMakerEndpoints", SAGEMAKER_INVOKE_ACTIONS, list(self.endpoint_arns)))
        statements.append(
            _allow(
                "InvokeBedrockModelsWithGuardrail",
                BEDROCK_INVOKE_ACTIONS,
                list(self.model_arns.values()),
                {"StringEquals": guardrail},
            )
        )
        profiles = {
            model_id: arn for model_id, arn in self.model_arns.items() if bedrock_model(model_id).is_inference_profile
        }
        if profiles:
            # A system inference profile runs its foundation model in the destination Regions:
            # allowed there only when the call came through one of these profiles.
            destinations = sorted(
                {
                    foundation_model_arn(region, bedrock_model(model_id).foundation_model)
                    for model_id in profiles
                    for region in bedrock_model(model_id).destinations
                }
            )
            statements.append(
                _allow(
                    "InvokeFoundationModelsThroughProfiles",
                    BEDROCK_INVOKE_ACTIONS,
                    destinations,
                    {"StringEquals": {**guardrail, "bedrock:InferenceProfileArn": list(profiles.values())}},
                )
            )
        statements.append(_allow("ApplyGuardrail", ("bedrock:ApplyGuardrail",), [self.guardrail_arn]))
        statements.append(_allow("DecryptGuardrail", ("kms:Decrypt",), [self.guardrail_kms_key_arn]))
        if self.textract:
            statements.append(_allow("AnalyzeDocuments", TEXTRACT_ACTIONS, "*"))
        if self.comprehend:
            statements.append(_allow("AnalyzeLanguage", COMPREHEND_ACTIONS, "*"))
        for statement in statements:
            _check_resources(statement)
        return statements

    def endpoint_policy(self, service: str, principal_arns: Sequence[str]) -> list[Statement]:
        """The statements of one interface endpoint: the grants of its service, for these principals only."""
        if service not in VPC_ENDPOINT_SERVICES:
            raise ValueError(f"endpoint policy: {service!r} is not one of {VPC_ENDPOINT_SERVICES}")
        if not principal_arns:
            raise ValueError(f"endpoint policy of {service}: name the roles that may use it")
        prefix = f"{ENDPOINT_SERVICE_PREFIX[service]}:"
        policy = []
        for statement in self.statements():
            if not all(action.startswith(prefix) for action in statement["Action"]):
                continue
            condition = {test: dict(values) for test, values in statement.get("Condition", {}).items()}
            condition.setdefault("StringEquals", {})["aws:PrincipalArn"] = list(principal_arns)
            policy.append({**statement, "Principal": "*", "Condition": condition})
        if not policy:
            raise ValueError(f"endpoint policy of {service}: the role is granted nothing through it")
        return policy


def _check_resources(statement: Statement) -> None:
    """Resource "*" only for actions that name no resource (the catalog's list)."""
    if statement["Resource"] == "*":
        scoped = sorted(set(statement["Action"]) - set(ai_catalog("iam_actions_without_resource_types")))
        if scoped:
            raise ValueError(f"statement {statement['Sid']}: {scoped} take resource ARNs, not '*'")


def _allow(
    sid: str, actions: Sequence[str], resources: list[str] | str, condition: Mapping[str, Any] | None = None
) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources}
    if condition:
        statement["Condition"] = dict(condition)
    return statement
