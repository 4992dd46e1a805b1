"""PiiGuardrail: the PII filters in both directions, the My Number regex, versioning, bad props."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.bedrock_guardrail import MY_NUMBER, GuardrailRegex, PiiGuardrail, PiiGuardrailProps
from tests.tf import new_app, one, synth_stack

KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/k"


def _synth(**overrides: Any) -> tuple[dict[str, Any], PiiGuardrail]:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    guardrail = PiiGuardrail(
        stack, "guardrail", PiiGuardrailProps(**{"name": "test-pii", "kms_key_arn": KEY, **overrides})
    )
    return synth_stack(stack), guardrail


def test_defaults_mask_job_seekers_personal_information_both_ways():
    doc, guardrail = _synth()
    resource = one(doc, "aws_bedrock_guardrail")
    assert resource["kms_key_arn"] == KEY
    (policy,) = resource["sensitive_information_policy_config"]
    entities = {e["type"]: e for e in policy["pii_entities_config"]}
    assert set(entities) == {"NAME", "PHONE", "ADDRESS", "EMAIL"}
    (regex,) = policy["regexes_config"]
    assert regex["name"] == "MY_NUMBER" and regex["pattern"] == MY_NUMBER.pattern
    for rule in [*entities.values(), regex]:
        assert rule["input_enabled"] is True and rule["output_enabled"] is True
        assert rule["action"] == rule["input_action"] == rule["output_action"] == "ANONYMIZE"
    version = one(doc, "aws_bedrock_guardrail_version")
    assert version["guardrail_arn"].endswith(".guardrail_arn}")
    assert version["skip_destroy"] is True
    assert guardrail.version.startswith("${") and guardrail.arn.startswith("${")


def test_a_changed_policy_makes_a_new_version():
    default = one(_synth()[0], "aws_bedrock_guardrail_version")["description"]
    changed = one(_synth(pii_entities={"NAME": "BLOCK"})[0], "aws_bedrock_guardrail_version")["description"]
    assert default != changed and default.startswith("test-pii policy ")
    assert one(_synth()[0], "aws_bedrock_guardrail_version")["description"] == default


@pytest.mark.parametrize(
    "text",
    [
        "1234 5678 9012",
        "123456789012",
        "1234-5678-9012",
        "マイナンバーは１２３４５６７８９０１２です",
        "１２３４－５６７８－９０１２",
    ],
)
def test_the_my_number_regex_finds_twelve_digits(text):
    assert re.search(MY_NUMBER.pattern, text)


@pytest.mark.parametrize("text", ["090-1234-5678", "03-1234-5678", "〒100-0001", "12345678901"])
def test_the_my_number_regex_leaves_phone_numbers_and_postcodes(text):
    assert not re.search(MY_NUMBER.pattern, text)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "has space"}, "letters, digits"),
        ({"pii_entities": {"MY_NUMBER": "ANONYMIZE"}}, "not Bedrock PII entity types"),
        ({"pii_entities": {"NAME": "REDACT"}}, "actions are"),
        ({"pii_entities": {}, "regexes": ()}, "give PII entity types or regexes"),
        ({"regexes": (GuardrailRegex("X", "a" * 501, "too long"),)}, "1-500 characters"),
        ({"blocked_message": ""}, "blocked message"),
    ],
)
def test_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        PiiGuardrailProps(**{"name": "test-pii", "kms_key_arn": KEY, **overrides})
