"""AiAccess: the statements of a platform role on the AI services and the endpoint policies made from them."""

from __future__ import annotations

from typing import Any

import pytest

from iworkz_constructs.ai_access import AiAccess, foundation_model_arn, invoke_arn

ACCOUNT = "123456789012"
PROFILE = "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"
GUARDRAIL = "arn:aws:bedrock:ap-northeast-1:123456789012:guardrail/g"
BASE: dict[str, Any] = {
    "region": "ap-northeast-1",
    "model_arns": {model: invoke_arn(model, "ap-northeast-1", ACCOUNT) for model in (PROFILE, TITAN)},
    "guardrail_arn": GUARDRAIL,
    "guardrail_version": "3",
    "guardrail_kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/k",
}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/test-ai-services"


def _by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements}


def test_invoke_arns():
    assert invoke_arn(TITAN, "ap-northeast-1", ACCOUNT) == foundation_model_arn("ap-northeast-1", TITAN)
    assert invoke_arn(PROFILE, "ap-northeast-1", ACCOUNT) == (
        f"arn:aws:bedrock:ap-northeast-1:{ACCOUNT}:inference-profile/{PROFILE}"
    )


def test_bedrock_only_for_the_models_and_only_with_the_guardrail():
    statements = _by_sid(AiAccess(**BASE).statements())
    assert "InvokeSageMakerEndpoints" not in statements and "AnalyzeDocuments" not in statements
    invoke = statements["InvokeBedrockModelsWithGuardrail"]
    assert invoke["Resource"] == list(BASE["model_arns"].values())
    assert invoke["Condition"] == {"StringEquals": {"bedrock:GuardrailIdentifier": f"{GUARDRAIL}:3"}}
    through = statements["InvokeFoundationModelsThroughProfiles"]
    assert through["Resource"] == [
        "arn:aws:bedrock:ap-northeast-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:ap-northeast-3::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]
    assert through["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"] == [BASE["model_arns"][PROFILE]]
    assert statements["ApplyGuardrail"]["Resource"] == [GUARDRAIL]
    assert statements["DecryptGuardrail"]["Resource"] == [BASE["guardrail_kms_key_arn"]]


def test_in_region_models_need_no_profile_statement():
    access = AiAccess(**{**BASE, "model_arns": {TITAN: invoke_arn(TITAN, "ap-northeast-1", ACCOUNT)}})
    assert "InvokeFoundationModelsThroughProfiles" not in _by_sid(access.statements())


def test_endpoints_textract_and_comprehend_when_asked():
    access = AiAccess(**BASE, endpoint_arns=["arn:endpoint"], textract=True, comprehend=True)
    statements = _by_sid(access.statements())
    assert statements["InvokeSageMakerEndpoints"] == {
        "Sid": "InvokeSageMakerEndpoints",
        "Effect": "Allow",
        "Action": ["sagemaker:InvokeEndpoint"],
        "Resource": ["arn:endpoint"],
    }
    assert statements["AnalyzeDocuments"]["Resource"] == "*"
    assert statements["AnalyzeLanguage"]["Action"] == [
        "comprehend:DetectDominantLanguage",
        "comprehend:DetectEntities",
        "comprehend:DetectKeyPhrases",
        "comprehend:DetectSentiment",
    ]


def test_endpoint_policies_repeat_the_grants_for_the_named_roles_only():
    access = AiAccess(**BASE, endpoint_arns=["arn:endpoint"], textract=True, comprehend=True)
    grants = _by_sid(access.statements())
    for service, sids in {
        "sagemaker.runtime": ["InvokeSageMakerEndpoints"],
        "bedrock-runtime": [
            "InvokeBedrockModelsWithGuardrail",
            "InvokeFoundationModelsThroughProfiles",
            "ApplyGuardrail",
        ],
        "textract": ["AnalyzeDocuments"],
        "comprehend": ["AnalyzeLanguage"],
    }.items():
        policy = access.endpoint_policy(service, [ROLE])
        assert [s["Sid"] for s in policy] == sids, service
        for statement in policy:
            grant = grants[statement["Sid"]]
            assert statement["Principal"] == "*"
            assert (statement["Action"], statement["Resource"]) == (grant["Action"], grant["Resource"])
            assert statement["Condition"]["StringEquals"]["aws:PrincipalArn"] == [ROLE]
    # The role's own statements stay without the endpoint's principal condition.
    assert "aws:PrincipalArn" not in str(access.statements())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.endpoint_policy("kms", [ROLE]), "not one of"),
        (lambda a: a.endpoint_policy("textract", []), "name the roles"),
        (lambda a: a.endpoint_policy("textract", [ROLE]), "granted nothing through it"),
    ],
)
def test_bad_endpoint_policies(call, message):
    with pytest.raises(ValueError, match=message):
        call(AiAccess(**BASE))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model_arns": {}}, "at least one Bedrock model"),
        ({"model_arns": {"arn:aws:bedrock:ap-northeast-1::foundation-model/x": "x"}}, "not an ARN"),
        ({"region": "ap-northeast-3", "model_arns": {TITAN: "x"}}, "not offered in ap-northeast-3"),
    ],
)
def test_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        AiAccess(**{**BASE, **overrides})
