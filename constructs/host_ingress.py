"""An Ingress routing host names to Services, with TLS from cert-manager and the design's CORS and rate limit.

For ingress-nginx: ``ingressClassName`` replaces the design's deprecated
``kubernetes.io/ingress.class`` annotation, ``limit-rpm``/``limit-rps`` are the controller's
rate-limit annotations (``rate-limit``/``rate-limit-window`` are not), and ``enable-cors`` is
needed for the ``cors-*`` annotations to take effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.ingress_v1 import (
    IngressV1,
    IngressV1Metadata,
    IngressV1Spec,
    IngressV1SpecRule,
    IngressV1SpecRuleHttp,
    IngressV1SpecRuleHttpPath,
    IngressV1SpecRuleHttpPathBackend,
    IngressV1SpecRuleHttpPathBackendService,
    IngressV1SpecRuleHttpPathBackendServicePort,
    IngressV1SpecTls,
)
from constructs import Construct

# Design 12.2 ingress annotations (CORS methods and headers verbatim).
CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
CORS_HEADERS = "DNT,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Authorization"


@dataclass(frozen=True)
class Route:
    """``host`` -> Service ``service``:``port``."""

    host: str
    service: str
    port: int


@dataclass(frozen=True)
class HostIngressProps:
    """Properties of :class:`HostIngress`.

    | name | meaning | default |
    |---|---|---|
    | name / namespace | the Ingress | required |
    | ingress_class | IngressClass of the controller | required |
    | routes | host -> Service routes | required |
    | tls_secret | Secret cert-manager writes the certificate into | required |
    | cluster_issuer | cert-manager ClusterIssuer that issues it | required |
    | cors_origin | the one origin allowed by CORS | required |
    | rate_limit / rate_limit_window | requests per client per window (``1s`` or ``1m``) | required |
    | depends_on | e.g. the Services and the issuer | none |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    namespace: str
    ingress_class: str
    routes: Sequence[Route]
    tls_secret: str
    cluster_issuer: str
    cors_origin: str
    rate_limit: int
    rate_limit_window: str
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None


class HostIngress(IngressV1):
    """``kubernetes_ingress_v1`` with one ``/`` prefix rule per host."""

    def __init__(self, scope: Construct, id: str, props: HostIngressProps) -> None:
        limit = "limit-rps" if props.rate_limit_window == "1s" else "limit-rpm"
        annotations: Mapping[str, str] = {
            "nginx.ingress.kubernetes.io/ssl-redirect": "true",
            "nginx.ingress.kubernetes.io/use-regex": "true",
            f"nginx.ingress.kubernetes.io/{limit}": str(props.rate_limit),
            "cert-manager.io/cluster-issuer": props.cluster_issuer,
            "nginx.ingress.kubernetes.io/enable-cors": "true",
            "nginx.ingress.kubernetes.io/cors-allow-origin": props.cors_origin,
            "nginx.ingress.kubernetes.io/cors-allow-methods": CORS_METHODS,
            "nginx.ingress.kubernetes.io/cors-allow-headers": CORS_HEADERS,
        }
        super().__init__(
            scope,
            id,
            metadata=IngressV1Metadata(name=props.name, namespace=props.namespace, annotations=dict(annotations)),
            spec=IngressV1Spec(
                ingress_class_name=props.ingress_class,
                tls=[IngressV1SpecTls(hosts=[route.host for route in props.routes], secret_name=props.tls_secret)],
                rule=[
                    IngressV1SpecRule(
                        host=route.host,
                        http=IngressV1SpecRuleHttp(
                            path=[
                                IngressV1SpecRuleHttpPath(
                                    path="/",
                                    path_type="Prefix",
                                    backend=IngressV1SpecRuleHttpPathBackend(
                                        service=IngressV1SpecRuleHttpPathBackendService(
                                            name=route.service,
                                            port=IngressV1SpecRuleHttpPathBackendServicePort(number=route.port),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                    for route in props.routes
                ],
            ),
            depends_on=list(props.depends_on) or None,
            provider=props.provider,
        )
