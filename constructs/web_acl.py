"""An AWS WAF web ACL on a regional resource (an ALB): AWS managed rule groups and a per-client rate limit.

Requests pass through the managed rule groups in order, then the rate-based rule: at most
``rate_limit`` requests per ``rate_period_seconds`` per client, the client being the address
in ``client_ip_header`` (Cloudflare's ``CF-Connecting-IP``: every request reaches the ALB from
a Cloudflare address, so the connection's own address would lump all clients together). A
request without the header is not counted (Cloudflare's health monitors send none; nothing
else can reach the origin). Every request is logged to a CloudWatch log group encrypted with
a customer-managed key; the ``authorization`` and ``cookie`` headers are redacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from iworkz_constructs.kms_key import KmsKey, KmsKeyProps

RATE_WINDOWS = (60, 120, 300, 600)  # AWS WAF's evaluation windows, seconds
MIN_RATE_LIMIT = 10
REDACTED_HEADERS = ("authorization", "cookie")
# CloudWatch log groups that receive WAF logs must carry this prefix.
LOG_GROUP_PREFIX = "aws-waf-logs-"


@dataclass(frozen=True)
class WebAclProps:
    """Properties of :class:`WebAcl`.

    | name | meaning | default |
    |---|---|---|
    | name | web ACL name (also of its metrics and log group) | required |
    | resource_arn | the regional resource it protects (ALB ARN) | required |
    | managed_rule_groups | AWS managed rule groups, in evaluation order | required, at least one |
    | rate_limit / rate_period_seconds | requests per client per window (60, 120, 300 or 600 s) | required |
    | client_ip_header | header holding the client's address | ``CF-Connecting-IP`` |
    | account_id / region | for the log key's policy | required |
    | log_retention_days | days the request logs are kept | required |
    | tags | tags of the ACL and the log group | none |
    """

    name: str
    resource_arn: str
    managed_rule_groups: Sequence[str]
    rate_limit: int
    rate_period_seconds: int
    account_id: str
    region: str
    log_retention_days: int
    client_ip_header: str = "CF-Connecting-IP"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.managed_rule_groups:
            raise ValueError(f"web ACL {self.name}: give at least one managed rule group")
        if self.rate_limit < MIN_RATE_LIMIT:
            raise ValueError(f"web ACL {self.name}: rate_limit {self.rate_limit} is below AWS WAF's minimum of 10")
        if self.rate_period_seconds not in RATE_WINDOWS:
            raise ValueError(f"web ACL {self.name}: rate_period_seconds must be one of {RATE_WINDOWS}")


class WebAcl(Construct):
    """Attributes: ``acl``, ``association``, ``log_group``, ``key`` (:class:`KmsKey` of the logs)."""

    def __init__(self, scope: Construct, id: str, props: WebAclProps) -> None:
        super().__init__(scope, id)
        rules = [
            Wafv2WebAclRule(
                name=group,
                priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                visibility_config=_visibility(f"{props.name}-{group}"),
            )
            for priority, group in enumerate(props.managed_rule_groups)
        ]
        rules.append(
            Wafv2WebAclRule(
                name="per-client-rate-limit",
                priority=len(rules),
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={"rate_based_statement": _rate_statement(props)},
                visibility_config=_visibility(f"{props.name}-rate-limit"),
            )
        )
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=props.name,
            description="Managed rule groups and the per-client rate limit of the origin",
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=props.name, sampled_requests_enabled=True
            ),
            tags=dict(props.tags) or None,
        )
        self.association = Wafv2WebAclAssociation(
            self, "association", resource_arn=props.resource_arn, web_acl_arn=self.acl.arn
        )
        self.key = KmsKey(
            self,
            "log-key",
            KmsKeyProps(
                alias=f"{props.name}-waf-logs",
                description=f"Encrypts the AWS WAF request logs of {props.name}",
                account_id=props.account_id,
                service_principals=(f"logs.{props.region}.amazonaws.com",),
            ),
        )
        self.log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=f"{LOG_GROUP_PREFIX}{props.name}",
            retention_in_days=props.log_retention_days,
            kms_key_id=self.key.arn,
            tags=dict(props.tags) or None,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),  # the request logs are evidence
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
        )


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _rate_statement(props: WebAclProps) -> dict[str, Any]:
    return {
        "limit": props.rate_limit,
        "evaluation_window_sec": props.rate_period_seconds,
        "aggregate_key_type": "FORWARDED_IP",
        "forwarded_ip_config": {"header_name": props.client_ip_header, "fallback_behavior": "NO_MATCH"},
    }
