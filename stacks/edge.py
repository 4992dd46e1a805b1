"""`edge-<environment>`: Cloudflare in front of the environment's ALB, and AWS WAF on the ALB.

Reads the workloads stack's contract: the public hosts, the name of the ALB the AWS Load Balancer
Controller creates for the workloads' Gateway (found here by that name: its DNS name is known only
once the controller has built it) and the ACM certificate with its validation records.

- Cloudflare (:class:`CloudflareEdge`): proxied records and a health-checked load balancer for the
  hosts, the certificate's validation records and, in the environment that manages the zone,
  the zone's TLS settings, managed WAF rulesets and the per-client rate limit on the API hosts;
- ACM: waits until the certificate is issued (the ALB's HTTPS listener needs it);
- AWS WAF (:class:`WebAcl`) on the ALB: the AWS managed rule groups of the configuration and a
  rate-based rule per client (``CF-Connecting-IP``), logging to a KMS-encrypted log group;
- the ALB's CloudWatch alarms (:class:`LoadBalancerAlarmSet`: 5xx, response time, unhealthy
  targets of each public host's target group, found by the tags the workloads stack gives
  them) on the environment's alert topics, and their dashboard.

The Cloudflare provider takes its API token from ``CLOUDFLARE_API_TOKEN`` (README, Deploying).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_lb import DataAwsLb
from cdktf_cdktf_provider_cloudflare.provider import CloudflareProvider

from iworkz.contracts import AlertsOutputs, DrAzureOutputs, EdgeOutputs, WorkloadsOutputs
from iworkz_constructs.cloudflare_edge import CloudflareEdge, CloudflareEdgeProps, OriginPool, RateLimit
from iworkz_constructs.dns_certificate import ValidationRecord
from iworkz_constructs.load_balancer_alarms import LoadBalancerAlarmSet
from iworkz_constructs.web_acl import WebAcl, WebAclProps
from stacks.base import IworkzStack


class EdgeStack(IworkzStack):
    """Attributes: ``cloudflare`` (:class:`CloudflareEdge`), ``waf`` (:class:`WebAcl`), ``alarms``
    (:class:`LoadBalancerAlarmSet`); publishes :class:`EdgeOutputs`."""

    def build(self, workloads: WorkloadsOutputs, alerts: AlertsOutputs) -> EdgeOutputs:
        context = self.context
        edge = context.env.edge
        # No credentials here: the provider reads CLOUDFLARE_API_TOKEN from the environment.
        CloudflareProvider(self, "cloudflare-provider")
        origin = DataAwsLb(self, "origin", name=workloads.load_balancer_name)
        validation = [
            ValidationRecord(
                workloads.certificate_validation_names[role],
                workloads.certificate_validation_types[role],
                workloads.certificate_validation_values[role],
            )
            for role in workloads.hosts
        ]
        self.cloudflare = CloudflareEdge(
            self,
            "cloudflare",
            CloudflareEdgeProps(
                name=context.prefix,
                zone=edge.cloudflare.zone,
                hosts=workloads.hosts,
                origin=origin.dns_name,
                health_path=workloads.api_health_path,
                validation_records=validation,
                failover_pools=self._failover_pools(),
                manage_zone=edge.cloudflare.manage_zone,
                rate_limit=RateLimit(edge.rate_limit.requests, edge.rate_limit.period_seconds),
                min_tls_version=edge.cloudflare.min_tls_version,
            ),
        )
        AcmCertificateValidation(
            self,
            "certificate-issued",
            certificate_arn=workloads.certificate_arn,
            validation_record_fqdns=[record.name for record in validation],
            depends_on=list(self.cloudflare.validation_records),
        )
        self.waf = WebAcl(
            self,
            "waf",
            WebAclProps(
                name=workloads.load_balancer_name,
                resource_arn=origin.arn,
                managed_rule_groups=edge.waf.managed_rule_groups,
                rate_limit=edge.rate_limit.requests,
                rate_period_seconds=edge.rate_limit.period_seconds,
                account_id=self.aws.account_id,
                region=self.aws.region,
                log_retention_days=edge.waf.log_retention_days,
            ),
        )
        self.alarms = LoadBalancerAlarmSet.tagged(
            self,
            "load-balancer-alarms",
            name=f"{context.prefix}-alb",
            load_balancer_arn_suffix=origin.arn_suffix,
            target_group_tags=workloads.target_group_tags,
            alarm_actions=alerts.alarm_actions(),
            alarms=context.env.alarms.settings("load_balancer"),
        )
        self.alarm_dashboard()
        return EdgeOutputs.of(
            context,
            origin_dns_name=origin.dns_name,
            web_acl_arn=self.waf.acl.arn,
            primary_pool_id=self.cloudflare.pools["primary"].id,
        )

    def _failover_pools(self) -> tuple[OriginPool, ...]:
        """The DR site's gateway, tried when the AWS origin fails the health check (same monitor).

        Its DNS name comes from the DR site's contract as configured: the edge needs no state of
        a stack that may be deployed after it, and the pool is simply unhealthy until then.
        """
        if not self.context.env.dr_azure.enabled:
            return ()
        address = DrAzureOutputs.configured(self.context)["ingress_fqdn"]
        return (OriginPool("dr-azure", address, f"{self.context.prefix}: the DR site's standby gateway on AKS"),)
