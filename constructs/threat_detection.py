"""GuardDuty with its protection plans and Security Hub with its standards, in one region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.guardduty_detector import GuarddutyDetector
from cdktf_cdktf_provider_aws.guardduty_detector_feature import (
    GuarddutyDetectorFeature,
    GuarddutyDetectorFeatureAdditionalConfiguration,
)
from cdktf_cdktf_provider_aws.securityhub_account import SecurityhubAccount
from cdktf_cdktf_provider_aws.securityhub_standards_subscription import SecurityhubStandardsSubscription
from constructs import Construct

from iworkz.config.security import (
    DEFAULT_SECURITY_HUB_STANDARDS,
    GUARDDUTY_FEATURES,
    RUNTIME_AGENT_MANAGEMENT,
    SECURITY_HUB_STANDARDS,
)

ENABLED = "ENABLED"


@dataclass(frozen=True)
class ThreatDetectionProps:
    """Properties of :class:`ThreatDetection`.

    | name | meaning | default |
    |---|---|---|
    | region | the region of the detector and the hub (the standards' ARNs name it) | required |
    | guardduty_features | GuardDuty protection plans to enable | every known one |
    | security_hub_standards | standards as ``<name>/v/<version>`` | FSBP 1.0.0, CIS 3.0.0 |
    """

    region: str
    guardduty_features: Sequence[str] = GUARDDUTY_FEATURES
    security_hub_standards: Sequence[str] = DEFAULT_SECURITY_HUB_STANDARDS

    def __post_init__(self) -> None:
        unknown = [f for f in self.guardduty_features if f not in GUARDDUTY_FEATURES]
        unknown += [s for s in self.security_hub_standards if s not in SECURITY_HUB_STANDARDS]
        if unknown:
            raise ValueError(f"threat detection: unknown GuardDuty features or Security Hub standards {unknown}")


class ThreatDetection(Construct):
    """Attributes: ``detector_id``, ``standards_arns``."""

    def __init__(self, scope: Construct, id: str, props: ThreatDetectionProps) -> None:
        super().__init__(scope, id)
        detector = GuarddutyDetector(self, "detector", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES")
        self.detector_id = detector.id
        for feature in props.guardduty_features:
            GuarddutyDetectorFeature(
                self,
                f"feature-{feature.lower().replace('_', '-')}",
                detector_id=detector.id,
                name=feature,
                status=ENABLED,
                additional_configuration=[
                    GuarddutyDetectorFeatureAdditionalConfiguration(name=agent, status=ENABLED)
                    for agent in RUNTIME_AGENT_MANAGEMENT
                ]
                if feature == "RUNTIME_MONITORING"
                else None,
            )
        hub = SecurityhubAccount(
            self,
            "security-hub",
            enable_default_standards=False,  # exactly the configured standards
            control_finding_generator="SECURITY_CONTROL",  # one finding per control across standards
            auto_enable_controls=True,
        )
        self.standards_arns = [
            f"arn:aws:securityhub:{props.region}::standards/{s}" for s in props.security_hub_standards
        ]
        for standard, arn in zip(props.security_hub_standards, self.standards_arns, strict=True):
            SecurityhubStandardsSubscription(
                self, f"standard-{standard.split('/')[0]}", standards_arn=arn, depends_on=[hub]
            )
