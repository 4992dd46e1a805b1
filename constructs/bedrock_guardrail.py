"""A Bedrock guardrail that keeps job seekers' personal information out of prompts and responses.

Bedrock's sensitive information filters detect names, phone numbers, addresses and e-mail
addresses (entity types NAME, PHONE, ADDRESS, EMAIL; Japanese is among the languages the
filters support). No entity type covers Japan's individual number (My Number): a regex finds
it. Everything is masked rather than blocked, in both directions: the model never sees the
values and ai-services never receives them back, and a number that merely looks like a My
Number (twelve digits; the check digit is beyond a regex) costs a masked value, not a refused
request.

The guardrail is versioned: a version is an immutable snapshot, and callers name one
(``bedrock:GuardrailIdentifier`` in their grant). A changed policy makes a new version (its
description carries the policy's digest); old versions stay, so running pods keep working
until they are restarted with the new one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from cdktf_cdktf_provider_aws.bedrock_guardrail import (
    BedrockGuardrail,
    BedrockGuardrailSensitiveInformationPolicyConfig,
    BedrockGuardrailSensitiveInformationPolicyConfigPiiEntitiesConfig,
    BedrockGuardrailSensitiveInformationPolicyConfigRegexesConfig,
)
from cdktf_cdktf_provider_aws.bedrock_guardrail_version import BedrockGuardrailVersion
from constructs import Construct

from iworkz.config.ai import ai_catalog

ACTIONS = ("ANONYMIZE", "BLOCK")
_NAME = re.compile(r"^[0-9a-zA-Z_-]{1,50}$")
_DIGIT = "[0-9０-９]"  # ASCII and full-width digits (both common in Japanese text)
_SEPARATOR = "[-－‐ 　]?"  # optional hyphen, full-width hyphen-minus, hyphen, space, ideographic space


@dataclass(frozen=True)
class GuardrailRegex:
    name: str
    pattern: str
    description: str
    action: str = "ANONYMIZE"


# 個人番号 (My Number): twelve digits, written as one run or in groups of four.
MY_NUMBER = GuardrailRegex(
    "MY_NUMBER",
    _SEPARATOR.join([f"{_DIGIT}{{4}}"] * 3),
    "Japan's individual number (My Number): 12 digits, optionally in groups of 4",
)
# Job seekers' names, phone numbers, addresses and e-mail addresses.
JOB_SEEKER_PII: Mapping[str, str] = {
    "NAME": "ANONYMIZE",
    "PHONE": "ANONYMIZE",
    "ADDRESS": "ANONYMIZE",
    "EMAIL": "ANONYMIZE",
}
BLOCKED_MESSAGE = "この内容は処理できません。/ This content cannot be processed."


@dataclass(frozen=True)
class PiiGuardrailProps:
    """Properties of :class:`PiiGuardrail`.

    | name | meaning | default |
    |---|---|---|
    | name | guardrail name (letters, digits, ``-``, ``_``; at most 50) | required |
    | kms_key_arn | customer-managed key of the guardrail (its users need kms:Decrypt) | required |
    | pii_entities | Bedrock PII entity type -> ``ANONYMIZE`` or ``BLOCK``, in prompts and responses | :data:`JOB_SEEKER_PII` |
    | regexes | further patterns (what no entity type covers) | (:data:`MY_NUMBER`,) |
    | blocked_message | what a caller gets for blocked input or output | :data:`BLOCKED_MESSAGE` |
    """

    name: str
    kms_key_arn: str
    pii_entities: Mapping[str, str] = field(default_factory=lambda: dict(JOB_SEEKER_PII))
    regexes: Sequence[GuardrailRegex] = (MY_NUMBER,)
    blocked_message: str = BLOCKED_MESSAGE

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"guardrail name {self.name!r}: 1-50 letters, digits, '-' or '_'")
        if not self.pii_entities and not self.regexes:
            raise ValueError(f"guardrail {self.name}: give PII entity types or regexes to filter")
        unknown = sorted(set(self.pii_entities) - set(ai_catalog("bedrock_guardrail_pii_types")))
        if unknown:
            raise ValueError(f"guardrail {self.name}: {unknown} are not Bedrock PII entity types")
        actions = [*self.pii_entities.values(), *(regex.action for regex in self.regexes)]
        if any(action not in ACTIONS for action in actions):
            raise ValueError(f"guardrail {self.name}: actions are {ACTIONS}, got {sorted(set(actions))}")
        if len(self.regexes) > 30 or any(not 1 <= len(regex.pattern) <= 500 for regex in self.regexes):
            raise ValueError(f"guardrail {self.name}: at most 30 regexes of 1-500 characters")
        if not 1 <= len(self.blocked_message) <= 500:
            raise ValueError(f"guardrail {self.name}: the blocked message has 1-500 characters")

    @property
    def digest(self) -> str:
        """Digest of the policy: part of the version's description, so a change makes a new version."""
        policy = {
            "pii": dict(sorted(self.pii_entities.items())),
            "regexes": [asdict(r) for r in self.regexes],
            "message": self.blocked_message,
        }
        return hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).hexdigest()[:12]


class PiiGuardrail(Construct):
    """The guardrail and its published version.

    Attributes: ``guardrail`` and ``version_resource`` (the resources), ``guardrail_id``, ``arn``,
    ``version`` (the number callers name).
    """

    def __init__(self, scope: Construct, id: str, props: PiiGuardrailProps) -> None:
        super().__init__(scope, id)
        self.guardrail = BedrockGuardrail(
            self,
            "guardrail",
            name=props.name,
            description="Masks personal information (names, phone numbers, addresses, e-mail, My Number)",
            blocked_input_messaging=props.blocked_message,
            blocked_outputs_messaging=props.blocked_message,
            kms_key_arn=props.kms_key_arn,
            sensitive_information_policy_config=[
                BedrockGuardrailSensitiveInformationPolicyConfig(
                    pii_entities_config=[
                        BedrockGuardrailSensitiveInformationPolicyConfigPiiEntitiesConfig(
                            type=kind,
                            action=action,
                            input_action=action,
                            output_action=action,
                            input_enabled=True,
                            output_enabled=True,
                        )
                        for kind, action in sorted(props.pii_entities.items())
                    ]
                    or None,
                    regexes_config=[
                        BedrockGuardrailSensitiveInformationPolicyConfigRegexesConfig(
                            name=regex.name,
                            pattern=regex.pattern,
                            description=regex.description,
                            action=regex.action,
                            input_action=regex.action,
                            output_action=regex.action,
                            input_enabled=True,
                            output_enabled=True,
                        )
                        for regex in props.regexes
                    ]
                    or None,
                )
            ],
        )
        self.version_resource = BedrockGuardrailVersion(
            self,
            "version",
            guardrail_arn=self.guardrail.guardrail_arn,
            description=f"{props.name} policy {props.digest}",
            skip_destroy=True,
        )
        self.guardrail_id = self.guardrail.guardrail_id
        self.arn = self.guardrail.guardrail_arn
        self.version = self.version_resource.version
