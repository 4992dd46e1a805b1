"""An internet-facing ALB through the Kubernetes Gateway API: the AWS Load Balancer Controller builds it.

An ACM certificate for the routes' hosts (:class:`DnsCertificate`: whoever owns the DNS writes its
validation records), and objects of the Gateway API CRDs (``gateway.networking.k8s.io``, v1.5.0) and of the controller's
own (``gateway.k8s.aws``), all written as ``kubernetes_manifest``:

- a ``GatewayClass`` for the controller (``gateway.k8s.aws/alb``);
- a ``LoadBalancerConfiguration``: the ALB's name (the edge stack finds it by that name), the
  only address ranges its security group admits (the controller's own group; by default it
  would admit ``0.0.0.0/0``: here Cloudflare's ranges), the certificate and TLS policy of
  the HTTPS listener, the design's CORS headers and HSTS as listener attributes (ALB header
  modification: the controller does not implement the CORS filter of HTTPRoute), and
  ``X-Forwarded-For`` kept and appended (the client address reaches the pods);
- the ``Gateway`` (HTTP :80 and HTTPS :443);
- an ``HTTPRoute`` redirecting HTTP to HTTPS (the design's ``ssl-redirect``) and one per host
  to its Service;
- a ``TargetGroupConfiguration`` per Service: IP targets (the pods) checked on the readiness path.

``wafV2`` is left out of the configuration on purpose: the edge stack associates the web ACL, and
the controller leaves an association alone unless it manages one itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from constructs import Construct

from iworkz_constructs.dns_certificate import DnsCertificate, DnsCertificateProps

GATEWAY_API = "gateway.networking.k8s.io/v1"
LBC_API = "gateway.k8s.aws/v1beta1"
ALB_CONTROLLER = "gateway.k8s.aws/alb"
# TLS 1.3 and TLS 1.2 with forward-secret AEAD ciphers only (design 12.1: TLS 1.3; Cloudflare,
# the only client, speaks 1.3).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
# Design 12.2 ingress annotations (CORS methods and headers verbatim).
CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
CORS_HEADERS = "DNT,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Authorization"
HSTS = "max-age=31536000; includeSubDomains"
HTTP_PORT = 80
# The tag naming the Service behind a target group: alarms find the group by it.
SERVICE_TAG = "iworkz.io/service"
HTTPS_PORT = 443
# ALB names: at most 32 letters, digits and hyphens, not starting or ending with a hyphen.
_ALB_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Route:
    """``host`` -> Service ``service``:``port``; the ALB checks the pods on ``health_path``."""

    host: str
    service: str
    port: int
    health_path: str


@dataclass(frozen=True)
class AlbGatewayProps:
    """Properties of :class:`AlbGateway`.

    | name | meaning | default |
    |---|---|---|
    | name / namespace | the Gateway (and the prefix of its routes and configurations) | required |
    | load_balancer_name | the ALB's name (at most 32 characters) | required |
    | routes | host -> Service routes | required, at least one |
    | source_ranges | the only IPv4 ranges that may connect to the listeners (e.g. Cloudflare's) | required, at least one |
    | cors_origin | the one origin allowed by CORS | required |
    | ssl_policy | TLS policy of the HTTPS listener | ``ELBSecurityPolicy-TLS13-1-2-Res-2021-06`` |
    | gateway_class | name of the GatewayClass created for the controller | ``aws-alb`` |
    | tags | AWS tags of the ALB and its target groups (each group adds :func:`target_group_tags`) | none |
    | depends_on / provider | as usual | none / the stack's default |
    """

    name: str
    namespace: str
    load_balancer_name: str
    routes: Sequence[Route]
    source_ranges: Sequence[str]
    cors_origin: str
    ssl_policy: str = DEFAULT_SSL_POLICY
    gateway_class: str = "aws-alb"
    tags: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not _ALB_NAME.match(self.load_balancer_name):
            raise ValueError(
                f"ALB name {self.load_balancer_name!r}: at most 32 letters, digits and '-', not at either end"
            )
        if not self.routes:
            raise ValueError(f"gateway {self.name}: give at least one route")
        if not self.source_ranges:
            raise ValueError(f"gateway {self.name}: give the ranges that may connect (the default is 0.0.0.0/0)")
        for cidr in self.source_ranges:
            network = ipaddress.ip_network(cidr)
            if network.prefixlen == 0 or network.version != 4:
                raise ValueError(f"gateway {self.name}: source range {cidr} is not a bounded IPv4 range")
        if not self.ssl_policy.startswith("ELBSecurityPolicy-TLS13-"):
            raise ValueError(f"gateway {self.name}: ssl_policy {self.ssl_policy!r} is not a TLS 1.3 policy")


class AlbGateway(Construct):
    """Attributes: ``certificate`` (:class:`DnsCertificate` of the hosts), ``gateway``,
    ``load_balancer_configuration``, ``routes`` (host -> HTTPRoute),
    ``redirect`` (the HTTP -> HTTPS route), ``target_groups`` (Service -> TargetGroupConfiguration),
    ``manifests`` (every object, e.g. for a schema check)."""

    def __init__(self, scope: Construct, id: str, props: AlbGatewayProps) -> None:
        super().__init__(scope, id)
        self.manifests: list[Manifest] = []
        hosts = [route.host for route in props.routes]
        self.certificate = DnsCertificate(self, "certificate", DnsCertificateProps(hosts=hosts, tags=props.tags))
        gateway_class = self._manifest(
            "gateway-class",
            {
                "apiVersion": GATEWAY_API,
                "kind": "GatewayClass",
                "metadata": {"name": props.gateway_class},
                "spec": {"controllerName": ALB_CONTROLLER},
            },
            props,
            list(props.depends_on),
        )
        config_name = f"{props.name}-alb"
        self.load_balancer_configuration = self._manifest(
            "load-balancer-configuration",
            k8s_object(
                LBC_API,
                "LoadBalancerConfiguration",
                config_name,
                props.namespace,
                _alb_spec(props, self.certificate.arn),
            ),
            props,
            list(props.depends_on),
        )
        gateway_spec = {
            "gatewayClassName": props.gateway_class,
            "infrastructure": {
                "parametersRef": {"group": "gateway.k8s.aws", "kind": "LoadBalancerConfiguration", "name": config_name}
            },
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "port": HTTP_PORT,
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                },
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": HTTPS_PORT,
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                },
            ],
        }
        self.gateway = self._manifest(
            "gateway",
            k8s_object(GATEWAY_API, "Gateway", props.name, props.namespace, gateway_spec),
            props,
            [gateway_class, self.load_balancer_configuration],
        )
        self.redirect = self._manifest(
            "https-redirect",
            k8s_object(
                GATEWAY_API,
                "HTTPRoute",
                f"{props.name}-https-redirect",
                props.namespace,
                {
                    "parentRefs": [_parent(props.name, "http")],
                    "hostnames": hosts,
                    "rules": [
                        {
                            "filters": [
                                {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                            ]
                        }
                    ],
                },
            ),
            props,
            [self.gateway],
        )
        self.target_groups: dict[str, Manifest] = {}
        self.routes: dict[str, Manifest] = {}
        for route in props.routes:
            if route.service not in self.target_groups:
                self.target_groups[route.service] = self._manifest(
                    f"{route.service}-target-group",
                    k8s_object(
                        LBC_API,
                        "TargetGroupConfiguration",
                        route.service,
                        props.namespace,
                        {
                            "targetReference": {"name": route.service},
                            "defaultConfiguration": {
                                # The pods themselves (VPC CNI addresses), not node ports.
                                "targetType": "ip",
                                "protocol": "HTTP",
                                "healthCheckConfig": {
                                    "healthCheckPath": route.health_path,
                                    "healthCheckProtocol": "HTTP",
                                    "matcher": {"httpCode": "200"},
                                },
                                "tags": target_group_tags(props.tags, route.service),
                            },
                        },
                    ),
                    props,
                    list(props.depends_on),
                )
            self.routes[route.host] = self._manifest(
                f"{route.host.split('.')[0]}-route",
                host_route(props.name, props.namespace, route),
                props,
                [self.gateway, self.target_groups[route.service]],
            )

    def _manifest(
        self, id: str, manifest: dict[str, Any], props: AlbGatewayProps, depends_on: list[ITerraformDependable]
    ) -> Manifest:
        resource = Manifest(self, id, manifest=manifest, depends_on=depends_on or None, provider=props.provider)
        self.manifests.append(resource)
        return resource


def k8s_object(api_version: str, kind: str, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A namespaced Kubernetes object as ``kubernetes_manifest`` takes it."""
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def host_route(gateway: str, namespace: str, route: Route) -> dict[str, Any]:
    """The ``HTTPRoute`` ``<gateway>-<first label of the host>`` from the Gateway's ``https`` listener to the Service."""
    return k8s_object(
        GATEWAY_API,
        "HTTPRoute",
        f"{gateway}-{route.host.split('.')[0]}",
        namespace,
        {
            "parentRefs": [_parent(gateway, "https")],
            "hostnames": [route.host],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": route.service, "port": route.port}],
                }
            ],
        },
    )


def _parent(gateway: str, listener: str) -> dict[str, str]:
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway, "sectionName": listener}


def _attributes(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def _alb_spec(props: AlbGatewayProps, certificate_arn: str) -> dict[str, Any]:
    listener_attributes = {
        # Design 12.2 CORS (the Ingress's cors-allow-*), for the one origin of the web app.
        "routing.http.response.access_control_allow_origin.header_value": props.cors_origin,
        "routing.http.response.access_control_allow_methods.header_value": CORS_METHODS,
        "routing.http.response.access_control_allow_headers.header_value": CORS_HEADERS,
        "routing.http.response.strict_transport_security.header_value": HSTS,
        "routing.http.response.x_content_type_options.header_value": "nosniff",
        "routing.http.response.server.enabled": "false",
    }
    load_balancer_attributes = {
        "deletion_protection.enabled": "true",
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "strictest",
        # Keep the X-Forwarded-For Cloudflare sends (the client first) and append Cloudflare's edge
        # address: the pods see the client; CF-Connecting-IP passes through unchanged.
        "routing.http.xff_header_processing.mode": "append",
    }
    return {
        "loadBalancerName": props.load_balancer_name,
        "scheme": "internet-facing",
        "ipAddressType": "ipv4",
        # The controller's security group of the ALB admits the listener ports from these only;
        # it opens the pods' security group to the ALB itself (its backend group).
        "sourceRanges": list(props.source_ranges),
        "loadBalancerAttributes": _attributes(load_balancer_attributes),
        "listenerConfigurations": [
            {
                "protocolPort": f"HTTPS:{HTTPS_PORT}",
                "defaultCertificate": certificate_arn,
                "sslPolicy": props.ssl_policy,
                "listenerAttributes": _attributes(listener_attributes),
            }
        ],
        "tags": dict(props.tags),
    }


def target_group_tags(tags: Mapping[str, str], service: str) -> dict[str, str]:
    """The AWS tags of the target group the controller builds for ``service`` (the Gateway's ``tags``
    and :data:`SERVICE_TAG`): a stack that alarms on the group finds it by them."""
    return {**tags, SERVICE_TAG: service}
