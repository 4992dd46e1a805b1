"""The DR site's public entry: a Gateway API ``Gateway`` that istiod implements, on the site's
static address, with a certificate cert-manager obtains from Let's Encrypt by DNS-01 at Cloudflare.

Objects of the CRDs the DR platform stack installs (Gateway API, cert-manager, External Secrets),
all ``kubernetes_manifest``:

- the ``Gateway`` (class ``istio``): one HTTPS listener for the hosts, terminating TLS with the
  certificate's Secret; istiod creates its Deployment and a LoadBalancer Service, which takes the
  site's static public IP (``azure-load-balancer-ipv4`` in its resource group) and admits only
  ``source_ranges`` (Cloudflare's: the edge's failover pool is the only client);
- an ``HTTPRoute`` per host to its Service (:class:`~iworkz_constructs.alb_gateway.Route`, as on
  the primary);
- a ``ClusterIssuer`` for Let's Encrypt answering DNS-01 through Cloudflare's API with a scoped
  token (``Zone:DNS:Edit``) that an ExternalSecret reads from the Key Vault: no token in code or
  state; the ``Certificate`` for the hosts, renewed by cert-manager.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from constructs import Construct

from iworkz_constructs.alb_gateway import GATEWAY_API, HTTPS_PORT, Route, host_route, k8s_object
from iworkz_constructs.external_secret import RemoteValue
from iworkz_constructs.key_vault_store import KeyVaultStore

CERT_MANAGER_API = "cert-manager.io/v1"
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
TOKEN_KEY = "api-token"


@dataclass(frozen=True)
class StandbyGatewayProps:
    """Properties of :class:`StandbyGateway`.

    | name | meaning | default |
    |---|---|---|
    | name / namespace | the Gateway (prefix of its routes, certificate and issuer) | required |
    | routes | host -> Service routes | required, at least one |
    | address / resource_group_name | the static public IP and its resource group | required |
    | source_ranges | the only IPv4 ranges that may connect (the edge's: Cloudflare) | required, at least one |
    | store | the Key Vault store the Cloudflare token is read through | required |
    | token_secret | the Key Vault secret holding the Cloudflare API token | required |
    | cert_manager_namespace | cert-manager's namespace (where a ClusterIssuer's secrets live) | required |
    | gateway_class | GatewayClass of istiod | ``istio`` |
    | acme_server | ACME directory | Let's Encrypt production |
    | depends_on / provider | as usual | none / the stack's default |
    """

    name: str
    namespace: str
    routes: Sequence[Route]
    address: str
    resource_group_name: str
    source_ranges: Sequence[str]
    store: KeyVaultStore
    token_secret: str
    cert_manager_namespace: str
    gateway_class: str = "istio"
    acme_server: str = LETS_ENCRYPT
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError(f"gateway {self.name}: give at least one route")
        if not self.source_ranges:
            raise ValueError(f"gateway {self.name}: give the ranges that may connect (the default is the internet)")
        for cidr in self.source_ranges:
            network = ipaddress.ip_network(cidr)
            if network.prefixlen == 0 or network.version != 4:
                raise ValueError(f"gateway {self.name}: source range {cidr} is not a bounded IPv4 range")
        if not self.acme_server.startswith("https://"):
            raise ValueError(f"gateway {self.name}: acme_server {self.acme_server!r} is not an https URL")


class StandbyGateway(Construct):
    """Attributes: ``gateway``, ``routes`` (host -> HTTPRoute), ``issuer``, ``certificate``,
    ``token`` (the ExternalSecret of the Cloudflare token), ``tls_secret`` (the certificate's Secret)."""

    def __init__(self, scope: Construct, id: str, props: StandbyGatewayProps) -> None:
        super().__init__(scope, id)
        hosts = [route.host for route in props.routes]
        self.tls_secret = f"{props.name}-tls"
        issuer_name = f"{props.name}-letsencrypt-dns"
        self.token = props.store.external_secret(
            self,
            f"{props.name}-cloudflare-token",
            props.cert_manager_namespace,
            [RemoteValue(TOKEN_KEY, props.token_secret)],
            depends_on=props.depends_on,
        )
        self.issuer = self._manifest(
            "issuer",
            {
                "apiVersion": CERT_MANAGER_API,
                "kind": "ClusterIssuer",
                "metadata": {"name": issuer_name},
                "spec": {
                    "acme": {
                        "server": props.acme_server,
                        "privateKeySecretRef": {"name": f"{issuer_name}-account"},
                        "solvers": [
                            {
                                "dns01": {
                                    "cloudflare": {
                                        "apiTokenSecretRef": {"name": self.token.secret_name, "key": TOKEN_KEY}
                                    }
                                },
                                "selector": {"dnsNames": hosts},
                            }
                        ],
                    }
                },
            },
            props,
            [self.token.manifest],
        )
        self.certificate = self._manifest(
            "certificate",
            k8s_object(
                CERT_MANAGER_API,
                "Certificate",
                props.name,
                props.namespace,
                {
                    "secretName": self.tls_secret,
                    "dnsNames": hosts,
                    "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer_name},
                    "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                },
            ),
            props,
            [self.issuer],
        )
        self.gateway = self._manifest(
            "gateway",
            k8s_object(GATEWAY_API, "Gateway", props.name, props.namespace, _gateway_spec(props, self.tls_secret)),
            props,
            [self.certificate],
        )
        self.routes = {
            route.host: self._manifest(
                f"{route.host.split('.')[0]}-route",
                host_route(props.name, props.namespace, route),
                props,
                [self.gateway],
            )
            for route in props.routes
        }

    def _manifest(
        self, id: str, manifest: dict[str, Any], props: StandbyGatewayProps, depends_on: list[ITerraformDependable]
    ) -> Manifest:
        return Manifest(
            self, id, manifest=manifest, depends_on=[*props.depends_on, *depends_on], provider=props.provider
        )


def _gateway_spec(props: StandbyGatewayProps, tls_secret: str) -> dict[str, Any]:
    return {
        "gatewayClassName": props.gateway_class,
        # istiod copies these onto the Service it creates: AKS's cloud provider reads them.
        "infrastructure": {
            "annotations": {
                "service.beta.kubernetes.io/azure-load-balancer-ipv4": props.address,
                "service.beta.kubernetes.io/azure-load-balancer-resource-group": props.resource_group_name,
                "service.beta.kubernetes.io/azure-allowed-ip-ranges": ",".join(props.source_ranges),
            }
        },
        "listeners": [
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": HTTPS_PORT,
                "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": tls_secret}]},
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            }
        ],
    }
