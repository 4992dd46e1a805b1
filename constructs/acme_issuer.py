"""A cert-manager ``ClusterIssuer`` for an ACME CA (Let's Encrypt) solving HTTP-01 through an ingress class.

``kubernetes_manifest`` needs the ClusterIssuer CRD at plan time: the stack that holds this
deploys after the one that installs cert-manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.manifest import Manifest
from constructs import Construct

LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"


@dataclass(frozen=True)
class AcmeIssuerProps:
    """Properties of :class:`AcmeIssuer`.

    | name | meaning | default |
    |---|---|---|
    | name | the ClusterIssuer | required |
    | email | ACME account e-mail (expiry notices) | required |
    | ingress_class | class whose controller serves the HTTP-01 challenges | required |
    | server | ACME directory | Let's Encrypt production |
    | depends_on / provider | as usual | none / the stack's default |
    """

    name: str
    email: str
    ingress_class: str
    server: str = LETS_ENCRYPT
    depends_on: Sequence[ITerraformDependable] = ()
    provider: TerraformProvider | None = None


class AcmeIssuer(Manifest):
    """The ClusterIssuer; its account key lives in Secret ``<name>-account-key``."""

    def __init__(self, scope: Construct, id: str, props: AcmeIssuerProps) -> None:
        super().__init__(
            scope,
            id,
            manifest={
                "apiVersion": "cert-manager.io/v1",
                "kind": "ClusterIssuer",
                "metadata": {"name": props.name},
                "spec": {
                    "acme": {
                        "server": props.server,
                        "email": props.email,
                        "privateKeySecretRef": {"name": f"{props.name}-account-key"},
                        "solvers": [{"http01": {"ingress": {"ingressClassName": props.ingress_class}}}],
                    }
                },
            },
            depends_on=list(props.depends_on) or None,
            provider=props.provider,
        )
        self.issuer_name = props.name
