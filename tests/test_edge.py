"""edge-<environment> and the north-south path: Cloudflare -> ALB (Gateway API, AWS WAF) -> pods; the mesh.

``STACKS=edge,workloads ENVS=production .venv/bin/pytest tests/test_edge.py -q``
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from iworkz.config import DEFAULT_CONFIG_DIR, ConfigError, available_environments, load_settings
from iworkz.config.edge import BASELINE_RULE_GROUPS, cloudflare_ranges
from iworkz.policy.rules.base import OPEN_CIDRS
from tests.configs import write_config
from tests.tf import data_sources, one, outputs, resources

ENVIRONMENTS = available_environments(DEFAULT_CONFIG_DIR)
REMOTE = "${data.terraform_remote_state.workloads-production.outputs."


@pytest.fixture(scope="module")
def edge(stack) -> dict[str, Any]:
    return stack("edge-production")


@pytest.fixture(scope="module")
def workloads(stack) -> dict[str, Any]:
    return stack("workloads-production")


def _manifests(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    found = [b["manifest"] for b in resources(doc, "kubernetes_manifest").values() if b["manifest"]["kind"] == kind]
    return {m["metadata"]["name"]: m for m in found}


def _attributes(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items}


# ---------------------------------------------------------------- the origin: ALB through the Gateway API


def test_the_edge_finds_the_alb_the_gateway_configures_by_name(edge, workloads):
    (config,) = _manifests(workloads, "LoadBalancerConfiguration").values()
    name = config["spec"]["loadBalancerName"]
    assert name == "iworkz-production-web" and config["spec"]["scheme"] == "internet-facing"
    assert outputs(workloads)["load_balancer_name"]["value"] == name
    (alb,) = data_sources(edge, "aws_lb").values()
    assert alb["name"] == name  # consumers take the configured name: no copied string


def test_cloudflare_records_are_proxied_and_point_at_the_alb(edge):
    records = {r["name"]: r for r in resources(edge, "cloudflare_dns_record").values() if r.get("proxied")}
    assert set(records) == {"api.iworkz.com", "app.iworkz.com"}
    for record in records.values():
        assert record["type"] == "CNAME" and record["ttl"] == 1
        assert record["content"] == "${data.aws_lb.origin.dns_name}"


def test_a_health_checked_load_balancer_sends_the_hosts_to_the_aws_origin_first(edge):
    pools = resources(edge, "cloudflare_load_balancer_pool")
    pool_id, pool = next((k, p) for k, p in pools.items() if p["origins"][0]["name"] == "primary")
    assert pool["origins"] == [
        {"name": "primary", "address": "${data.aws_lb.origin.dns_name}", "enabled": True, "weight": 1}
    ]
    (monitor,) = resources(edge, "cloudflare_load_balancer_monitor").values()
    assert (monitor["type"], monitor["path"], monitor["expected_codes"]) == ("https", "/health", "200")
    assert monitor["header"] == {"Host": ["api.iworkz.com"]}
    assert pool["monitor"].startswith("${cloudflare_load_balancer_monitor.")
    balancers = {b["name"]: b for b in resources(edge, "cloudflare_load_balancer").values()}
    assert set(balancers) == {"api.iworkz.com", "app.iworkz.com"}
    # Failover order: the AWS origin first, then the DR site's pool where there is one (tests/test_dr_sync.py).
    order = [f"${{cloudflare_load_balancer_pool.{k}.id}}" for k in pools]
    for balancer in balancers.values():
        assert balancer["default_pools"][0] == f"${{cloudflare_load_balancer_pool.{pool_id}.id}}"
        assert (
            sorted(balancer["default_pools"]) == sorted(order)
            and balancer["fallback_pool"] == balancer["default_pools"][-1]
        )
        assert balancer["proxied"] is True and balancer["steering_policy"] == "off"


def test_the_gateway_routes_the_hosts_and_redirects_http(workloads):
    routes = _manifests(workloads, "HTTPRoute")
    assert set(routes) == {"iworkz-https-redirect", "iworkz-api", "iworkz-app"}
    redirect = routes["iworkz-https-redirect"]["spec"]
    assert redirect["parentRefs"][0]["sectionName"] == "http"
    assert redirect["rules"] == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
    ]
    backends = {
        route["spec"]["hostnames"][0]: route["spec"]["rules"][0]["backendRefs"][0]
        for name, route in routes.items()
        if name != "iworkz-https-redirect"
    }
    assert backends == {
        "api.iworkz.com": {"name": "backend-api-service", "port": 80},
        "app.iworkz.com": {"name": "web-frontend-service", "port": 80},
    }
    (gateway,) = _manifests(workloads, "Gateway").values()
    assert {(x["name"], x["protocol"], x["port"]) for x in gateway["spec"]["listeners"]} == {
        ("http", "HTTP", 80),
        ("https", "HTTPS", 443),
    }
    (gateway_class,) = _manifests(workloads, "GatewayClass").values()
    assert gateway_class["spec"]["controllerName"] == "gateway.k8s.aws/alb"
    targets = _manifests(workloads, "TargetGroupConfiguration")
    assert {n: t["spec"]["defaultConfiguration"]["targetType"] for n, t in targets.items()} == {
        "backend-api-service": "ip",
        "web-frontend-service": "ip",
    }


def test_the_alb_speaks_tls_1_3_with_the_certificate_and_the_design_cors(workloads):
    (config,) = _manifests(workloads, "LoadBalancerConfiguration").values()
    (listener,) = config["spec"]["listenerConfigurations"]
    assert listener["protocolPort"] == "HTTPS:443"
    assert listener["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    certificate = next(iter(resources(workloads, "aws_acm_certificate")))
    assert listener["defaultCertificate"] == f"${{aws_acm_certificate.{certificate}.arn}}"
    attributes = _attributes(listener["listenerAttributes"])
    assert attributes["routing.http.response.access_control_allow_origin.header_value"] == "https://app.iworkz.com"
    assert attributes["routing.http.response.access_control_allow_methods.header_value"] == (
        "GET, POST, PUT, DELETE, OPTIONS"
    )
    assert "Authorization" in attributes["routing.http.response.access_control_allow_headers.header_value"]
    assert attributes["routing.http.response.strict_transport_security.header_value"].startswith("max-age=31536000")
    balancer = _attributes(config["spec"]["loadBalancerAttributes"])
    assert balancer["deletion_protection.enabled"] == "true"
    assert balancer["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert "wafV2" not in config["spec"]  # the edge stack associates the web ACL


def test_the_certificate_is_validated_through_cloudflare(edge, workloads):
    (certificate,) = resources(workloads, "aws_acm_certificate").values()
    assert certificate["domain_name"] == "api.iworkz.com"
    assert certificate["subject_alternative_names"] == ["app.iworkz.com"]
    assert certificate["validation_method"] == "DNS"
    names = outputs(workloads)["certificate_validation_names"]["value"]
    assert set(names) == {"api", "app"} and 'option.domain_name == "app.iworkz.com"' in names["app"]
    validation = [r for r in resources(edge, "cloudflare_dns_record").values() if not r.get("proxied")]
    assert sorted(r["name"] for r in validation) == [
        REMOTE + "certificate_validation_names.api}",
        REMOTE + "certificate_validation_names.app}",
    ]
    issued = one(edge, "aws_acm_certificate_validation")
    assert issued["certificate_arn"] == REMOTE + "certificate_arn}"
    assert len(issued["depends_on"]) == 2


# ---------------------------------------------------------------- only Cloudflare reaches the origin


def test_the_origin_admits_only_cloudflare(workloads):
    """The controller's security group of the ALB admits the listener ports from these ranges only."""
    (config,) = _manifests(workloads, "LoadBalancerConfiguration").values()
    assert config["spec"]["sourceRanges"] == cloudflare_ranges("ipv4")
    assert "securityGroups" not in config["spec"]  # so the controller writes the group from sourceRanges
    published = [ipaddress.IPv4Network(c) for c in cloudflare_ranges("ipv4")]
    assert all(any(ipaddress.IPv4Network(c).subnet_of(p) for p in published) for c in config["spec"]["sourceRanges"])
    assert config["spec"]["ipAddressType"] == "ipv4"  # Cloudflare reaches an IPv4 origin over IPv4


@pytest.mark.parametrize("component", ["workloads", "edge", "platform"])
def test_no_rule_admits_the_whole_internet(stack, component):
    doc = stack(f"{component}-production")
    text = json.dumps(resources(doc, "aws_vpc_security_group_ingress_rule"))
    assert not any(f'"{cidr}"' in text for cidr in OPEN_CIDRS)
    for manifest in (b["manifest"] for b in resources(doc, "kubernetes_manifest").values()):
        assert not set(manifest.get("spec", {}).get("sourceRanges", [])) & set(OPEN_CIDRS)


# ---------------------------------------------------------------- per-client limits on real client addresses


def test_cloudflare_limits_each_client_on_the_api_hosts(edge):
    rulesets = {r["phase"]: r for r in resources(edge, "cloudflare_ruleset").values()}
    (rule,) = rulesets["http_ratelimit"]["rules"]
    assert rule["expression"] == 'starts_with(http.host, "api.")' and rule["action"] == "block"
    limit = rule["ratelimit"]
    assert "ip.src" in limit["characteristics"]  # the visitor's address, as Cloudflare sees it
    assert (limit["requests_per_period"], limit["period"]) == (100, 60)  # design 12.2: 100 per minute


def test_aws_waf_limits_each_client_by_cf_connecting_ip(edge):
    acl = one(edge, "aws_wafv2_web_acl")
    (rate,) = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
    statement = rate["statement"]["rate_based_statement"]
    # every request comes from a Cloudflare address: the client is the header Cloudflare sets
    assert statement["aggregate_key_type"] == "FORWARDED_IP"
    assert statement["forwarded_ip_config"]["header_name"] == "CF-Connecting-IP"
    assert (statement["limit"], statement["evaluation_window_sec"]) == (100, 60)
    assert rate["action"] == {"block": {}}


def test_the_client_address_reaches_the_pods(workloads):
    """The ALB keeps Cloudflare's X-Forwarded-For (client first) and appends; no NLB without client IPs is left."""
    (config,) = _manifests(workloads, "LoadBalancerConfiguration").values()
    assert _attributes(config["spec"]["loadBalancerAttributes"])["routing.http.xff_header_processing.mode"] == "append"
    assert "aws-load-balancer-nlb-target-type" not in json.dumps(workloads)


# ---------------------------------------------------------------- Cloudflare zone: TLS and WAF


def test_the_zone_owner_sets_the_tls_minimums(edge):
    settings = {s["setting_id"]: s["value"] for s in resources(edge, "cloudflare_zone_setting").values()}
    assert settings["min_tls_version"] == "1.2" and settings["tls_1_3"] == "on"
    assert settings["ssl"] == "strict" and settings["always_use_https"] == "on"
    hsts = settings["security_header"]["strict_transport_security"]
    assert hsts["enabled"] is True and hsts["max_age"] >= 31_536_000


def test_the_zone_runs_cloudflares_managed_waf_rulesets(edge):
    rulesets = {r["phase"]: r for r in resources(edge, "cloudflare_ruleset").values()}
    managed = rulesets["http_request_firewall_managed"]["rules"]
    assert {r["action_parameters"]["id"] for r in managed} == {
        "efb7b8c949ac4650a09736fc376e9aee",
        "4814384a9e5d4991b9815dcfc25d2f1f",
    }
    assert all(r["action"] == "execute" for r in managed)


@pytest.mark.parametrize("environment", [e for e in ENVIRONMENTS if e != "production"])
def test_only_the_zone_owner_writes_zone_wide_settings(stack, environment):
    doc = stack(f"edge-{environment}")
    assert not resources(doc, "cloudflare_zone_setting") and not resources(doc, "cloudflare_ruleset")
    assert resources(doc, "cloudflare_load_balancer") and resources(doc, "aws_wafv2_web_acl")


# ---------------------------------------------------------------- AWS WAF on the ALB


def test_the_web_acl_protects_the_alb_with_the_managed_rule_groups(edge):
    acl_key, acl = next(iter(resources(edge, "aws_wafv2_web_acl").items()))
    groups = [
        r["statement"]["managed_rule_group_statement"]["name"]
        for r in acl["rule"]
        if "managed_rule_group_statement" in r["statement"]
    ]
    assert groups == list(BASELINE_RULE_GROUPS)
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    association = one(edge, "aws_wafv2_web_acl_association")
    assert association["resource_arn"] == "${data.aws_lb.origin.arn}"
    assert association["web_acl_arn"] == f"${{aws_wafv2_web_acl.{acl_key}.arn}}"


def test_the_web_acl_logs_to_a_kms_encrypted_log_group(edge):
    logging = one(edge, "aws_wafv2_web_acl_logging_configuration")
    group_key, group = next(iter(resources(edge, "aws_cloudwatch_log_group").items()))
    assert group["name"].startswith("aws-waf-logs-")
    assert logging["log_destination_configs"] == [f"${{aws_cloudwatch_log_group.{group_key}.arn}}"]
    key = next(iter(resources(edge, "aws_kms_key")))
    assert group["kms_key_id"] == f"${{aws_kms_key.{key}.arn}}"
    assert {f["single_header"]["name"] for f in logging["redacted_fields"]} == {"authorization", "cookie"}


def test_the_cloudflare_token_comes_from_the_environment(edge):
    (provider,) = edge["provider"]["cloudflare"]
    assert provider == {}  # the provider reads CLOUDFLARE_API_TOKEN
    assert "api_token" not in json.dumps(edge) and "api_key" not in json.dumps(edge)


# ---------------------------------------------------------------- east-west: the ambient mesh


def test_mesh_wide_mtls_is_strict_in_the_stack_that_holds_istio_objects(stack, workloads):
    policies = _manifests(workloads, "PeerAuthentication")
    mesh = policies["default"]
    assert mesh["metadata"]["namespace"] == "istio-system"  # Istio's root namespace: the whole mesh
    assert mesh["spec"] == {"mtls": {"mode": "STRICT"}}
    # the platform stack installs Istio's CRDs and holds no object of them
    assert not resources(stack("platform-production"), "kubernetes_manifest")


def test_only_the_ports_clients_outside_the_mesh_reach_accept_plaintext(workloads):
    policies = _manifests(workloads, "PeerAuthentication")
    exceptions = {
        name: (p["spec"]["selector"]["matchLabels"]["app"], p["spec"]["mtls"]["mode"], p["spec"]["portLevelMtls"])
        for name, p in policies.items()
        if name != "default"
    }
    assert exceptions == {
        # the ALB (IP targets) reaches the public workloads' port; Prometheus every metrics port
        "backend-api-entrypoint": (
            "backend-api",
            "STRICT",
            {"3000": {"mode": "PERMISSIVE"}, "9090": {"mode": "PERMISSIVE"}},
        ),
        "web-frontend-entrypoint": (
            "web-frontend",
            "STRICT",
            {"3000": {"mode": "PERMISSIVE"}, "9090": {"mode": "PERMISSIVE"}},
        ),
        "ai-services-entrypoint": ("ai-services", "STRICT", {"9090": {"mode": "PERMISSIVE"}}),
    }


def test_the_application_namespace_is_in_the_ambient_mesh(workloads):
    namespace = next(
        b
        for b in resources(workloads, "kubernetes_namespace_v1").values()
        if b["metadata"]["name"] == "iworkz-production"
    )
    assert namespace["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"


# ---------------------------------------------------------------- nothing of ingress-nginx is left


def test_no_ingress_nginx_is_left_anywhere(synthesized):
    for name, doc in synthesized.items():
        text = json.dumps({k: v for k, v in doc.items() if k != "removed"})
        assert "ingress-nginx" not in text and "nginx.ingress.kubernetes.io" not in text, name
        assert not resources(doc, "kubernetes_ingress_v1"), name
    issuers = {
        name: m["manifest"]
        for name, doc in synthesized.items()
        for m in resources(doc, "kubernetes_manifest").values()
        if m["manifest"]["kind"] == "ClusterIssuer"
    }
    # The one issuer left is the DR gateway's (DNS-01 at Cloudflare: no HTTP-01 through an ingress).
    assert all(name.startswith("dr-workloads-") for name in issuers), sorted(issuers)
    assert all("http01" not in json.dumps(issuer) for issuer in issuers.values())


def test_the_edge_deploys_after_the_workloads():
    from iworkz.registry import BY_COMPONENT

    # alerts: the ALB's alarms notify its topics.
    assert BY_COMPONENT["edge"].depends_on == ("workloads", "alerts")
    assert set(BY_COMPONENT["edge"].providers) == {"aws", "cloudflare"}


# ---------------------------------------------------------------- bad input at the config edge


def _error(config_dir) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir)
    return str(caught.value)


BAD_INPUTS = [
    pytest.param(
        "staging",
        {"edge": {"cloudflare": {"zone": "iworkz.jp"}}},
        ["staging.yaml", "edge.cloudflare.zone", "api.staging.iworkz.com", "outside the Cloudflare zone iworkz.jp"],
        id="host-outside-the-zone",
    ),
    pytest.param(
        "production",
        {"edge": {"rate_limit": {"requests": 0}}},
        ["production.yaml", "edge.rate_limit.requests", "0", "would block every client"],
        id="rate-limit-zero",
    ),
    pytest.param(
        "production",
        {"edge": {"rate_limit": {"period_seconds": 30}}},
        ["production.yaml", "edge.rate_limit.period_seconds", "60, 600"],
        id="rate-period",
    ),
    pytest.param(
        "production",
        {"edge": {"waf": {"managed_rule_groups": [*BASELINE_RULE_GROUPS, "AWSManagedRulesSqlInjection"]}}},
        [
            "production.yaml",
            "edge.waf.managed_rule_groups",
            "AWSManagedRulesSqlInjection is not an AWS managed rule group",
        ],
        id="unknown-waf-rule-group",
    ),
    pytest.param(
        "production",
        {"edge": {"waf": {"managed_rule_groups": ["AWSManagedRulesCommonRuleSet"]}}},
        ["production.yaml", "edge.waf.managed_rule_groups", "baseline rule groups"],
        id="baseline-rule-group-missing",
    ),
    pytest.param(
        "production",
        {"edge": {"origin_ranges": ["173.245.48.0/33"]}},
        ["production.yaml", "edge.origin_ranges[0]", "173.245.48.0/33", "CIDR block"],
        id="origin-range-not-a-cidr",
    ),
    pytest.param(
        "production",
        {"edge": {"origin_ranges": ["0.0.0.0/0"]}},
        ["production.yaml", "edge.origin_ranges[0]", "only Cloudflare"],
        id="origin-range-outside-cloudflare",
    ),
    pytest.param(
        "staging",
        {"edge": {"cloudflare": {"manage_zone": True}}},
        ["staging.yaml", "edge.cloudflare.manage_zone", "already managed by production"],
        id="two-zone-owners",
    ),
    pytest.param(
        None,
        {"project": "iworkz-platform-xy"},
        ["production.yaml", "(derived name)", "iworkz-platform-xy-production-web", "ALB name", "allows 32"],
        id="alb-name-too-long",
    ),
]


@pytest.mark.parametrize(("env", "patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_edge_input(tmp_path, env, patch, expected):
    message = _error(write_config(tmp_path, env, patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_the_origin_ranges_can_be_narrowed_to_some_of_cloudflares(tmp_path):
    config = write_config(tmp_path, "dev", {"edge": {"origin_ranges": ["104.16.0.0/13", "173.245.48.0/21"]}})
    assert load_settings(config).environments["dev"].edge.origin_ranges == ["104.16.0.0/13", "173.245.48.0/21"]
