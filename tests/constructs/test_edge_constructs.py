"""The edge's building blocks on stacks of their own: CloudflareEdge, WebAcl, AlbGateway, MeshMtls,
DnsCertificate; their options and bad props."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_cloudflare.provider import CloudflareProvider
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider

from iworkz_constructs.alb_gateway import AlbGateway, AlbGatewayProps, Route
from iworkz_constructs.cloudflare_edge import CloudflareEdge, CloudflareEdgeProps, OriginPool, RateLimit
from iworkz_constructs.dns_certificate import DnsCertificate, DnsCertificateProps
from iworkz_constructs.mesh_mtls import Entrypoint, MeshMtls, MeshMtlsProps
from iworkz_constructs.web_acl import WebAcl, WebAclProps
from tests.tf import new_app, one, resources, synth_stack

HOSTS = {"api": "api.example.com", "app": "app.example.com"}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    CloudflareProvider(stack, "cloudflare")
    KubernetesProvider(stack, "kubernetes")
    return stack


def _edge(**overrides: Any) -> CloudflareEdgeProps:
    values: dict[str, Any] = {
        "name": "test",
        "zone": "example.com",
        "hosts": HOSTS,
        "origin": "origin.example.com",
        "health_path": "/health",
    }
    return CloudflareEdgeProps(**{**values, **overrides})


def test_the_failover_pools_follow_the_primary_in_order():
    stack = _stack()
    CloudflareEdge(stack, "edge", _edge(failover_pools=[OriginPool("azure", "dr.example.com", "the DR site")]))
    doc = synth_stack(stack)
    pools = {p["name"]: k for k, p in resources(doc, "cloudflare_load_balancer_pool").items()}
    order = [f"${{cloudflare_load_balancer_pool.{pools[name]}.id}}" for name in ("test-primary", "test-azure")]
    for balancer in resources(doc, "cloudflare_load_balancer").values():
        assert balancer["default_pools"] == order and balancer["fallback_pool"] == order[-1]
    # without manage_zone no zone-wide setting or ruleset is written
    assert not resources(doc, "cloudflare_zone_setting") and not resources(doc, "cloudflare_ruleset")


def test_the_zone_owner_writes_tls_settings_and_rulesets():
    stack = _stack()
    CloudflareEdge(stack, "edge", _edge(manage_zone=True, rate_limit=RateLimit(50, 600), min_tls_version="1.3"))
    doc = synth_stack(stack)
    settings = {s["setting_id"]: s["value"] for s in resources(doc, "cloudflare_zone_setting").values()}
    assert settings["min_tls_version"] == "1.3"
    rulesets = {r["phase"]: r for r in resources(doc, "cloudflare_ruleset").values()}
    (rule,) = rulesets["http_ratelimit"]["rules"]
    assert (rule["ratelimit"]["requests_per_period"], rule["ratelimit"]["period"]) == (50, 600)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hosts": {"app": "app.example.com"}}, "API host"),
        ({"hosts": {"api": "api.example.org"}}, "outside the zone"),
        ({"manage_zone": True}, "needs rate_limit"),
        ({"min_tls_version": "1.1"}, "not 1.2 or 1.3"),
        ({"failover_pools": [OriginPool("primary", "x.example.com", "x")]}, "must be unique and not 'primary'"),
    ],
)
def test_bad_edge_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _edge(**overrides)


def _acl(**overrides: Any) -> WebAclProps:
    values: dict[str, Any] = {
        "name": "test-web",
        "resource_arn": "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/test-web/1",
        "managed_rule_groups": ["AWSManagedRulesCommonRuleSet"],
        "rate_limit": 100,
        "rate_period_seconds": 60,
        "account_id": "123456789012",
        "region": "ap-northeast-1",
        "log_retention_days": 365,
    }
    return WebAclProps(**{**values, **overrides})


def test_the_web_acl_counts_clients_by_the_header_it_is_given():
    stack = _stack()
    WebAcl(stack, "waf", _acl(client_ip_header="X-Forwarded-For"))
    acl = one(synth_stack(stack), "aws_wafv2_web_acl")
    statement = acl["rule"][-1]["statement"]["rate_based_statement"]
    assert statement["forwarded_ip_config"] == {"header_name": "X-Forwarded-For", "fallback_behavior": "NO_MATCH"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"managed_rule_groups": []}, "at least one managed rule group"),
        ({"rate_limit": 0}, "below AWS WAF's minimum"),
        ({"rate_period_seconds": 30}, "rate_period_seconds must be one of"),
    ],
)
def test_bad_web_acl_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _acl(**overrides)


def _gateway(**overrides: Any) -> AlbGatewayProps:
    values: dict[str, Any] = {
        "name": "test",
        "namespace": "test",
        "load_balancer_name": "test-web",
        "routes": [Route("api.example.com", "api-service", 80, "/ready")],
        "source_ranges": ["173.245.48.0/20"],
        "cors_origin": "https://app.example.com",
    }
    return AlbGatewayProps(**{**values, **overrides})


def test_one_target_group_configuration_per_service():
    stack = _stack()
    routes = [Route("api.example.com", "shared", 80, "/ready"), Route("app.example.com", "shared", 80, "/ready")]
    gateway = AlbGateway(stack, "gateway", _gateway(routes=routes))
    assert set(gateway.target_groups) == {"shared"} and set(gateway.routes) == {"api.example.com", "app.example.com"}
    kinds = [m["manifest"]["kind"] for m in resources(synth_stack(stack), "kubernetes_manifest").values()]
    expected = ["GatewayClass", "LoadBalancerConfiguration", "Gateway", "TargetGroupConfiguration"]
    assert sorted(kinds) == sorted([*expected, "HTTPRoute", "HTTPRoute", "HTTPRoute"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"load_balancer_name": "a-name-that-is-longer-than-32-chars"}, "at most 32"),
        ({"routes": []}, "at least one route"),
        ({"source_ranges": []}, "default is 0.0.0.0/0"),
        ({"source_ranges": ["0.0.0.0/0"]}, "not a bounded IPv4 range"),
        ({"ssl_policy": "ELBSecurityPolicy-2016-08"}, "not a TLS 1.3 policy"),
    ],
)
def test_bad_gateway_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _gateway(**overrides)


def test_mesh_entrypoints_name_pods_and_ports():
    with pytest.raises(ValueError, match="select its pods"):
        MeshMtlsProps("istio-system", [Entrypoint("x", "ns", {}, [80])])
    with pytest.raises(ValueError, match="not ztunnel's own 15008"):
        MeshMtlsProps("istio-system", [Entrypoint("x", "ns", {"app": "x"}, [15008])])
    stack = _stack()
    MeshMtls(stack, "mesh", MeshMtlsProps("istio-system"))
    (policy,) = resources(synth_stack(stack), "kubernetes_manifest").values()
    assert policy["manifest"]["spec"] == {"mtls": {"mode": "STRICT"}}


def test_certificates_name_each_host():
    with pytest.raises(ValueError, match="at least one host"):
        DnsCertificateProps(hosts=[])
    with pytest.raises(ValueError, match="no wildcards"):
        DnsCertificateProps(hosts=["*.example.com"])
    stack = _stack()
    certificate = DnsCertificate(stack, "certificate", DnsCertificateProps(hosts=["api.example.com"]))
    with pytest.raises(ValueError, match="not a host of this certificate"):
        certificate.validation_record("app.example.com")
    record = certificate.validation_record("api.example.com")
    assert record.name.startswith("${one([for option in aws_acm_certificate.")
    assert one(synth_stack(stack), "aws_acm_certificate")["lifecycle"] == {"create_before_destroy": True}
