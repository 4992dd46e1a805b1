"""The DR site's public ingress address: a zone-redundant static IP with a DNS name, for AKS.

The standby cluster's gateway Service takes this address (annotations
``service.beta.kubernetes.io/azure-load-balancer-ipv4`` and ``...-resource-group``), so that it
survives a re-created Service or cluster; its DNS name (``<label>.<location>.cloudapp.azure.com``)
is known from configuration, which lets the edge name the Azure origin of its failover pool
before the cluster exists. The cluster's identity may join the address and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.public_ip import PublicIp
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

from iworkz_constructs.aks_cluster import ZONES

_LABEL = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")


def ingress_fqdn(label: str, location: str) -> str:
    """The DNS name Azure gives a public IP with ``domain_name_label``."""
    return f"{label}.{location}.cloudapp.azure.com"


@dataclass(frozen=True)
class AzureIngressAddressProps:
    """Properties of :class:`AzureIngressAddress`.

    | name | meaning | default |
    |---|---|---|
    | name | the public IP's name | required |
    | resource_group_name / location | where it lives | required |
    | domain_name_label | DNS label, unique in the region | required |
    | cluster_principal_id | the AKS cluster identity that attaches the address to its load balancer | required |
    | tags | tags | none |
    """

    name: str
    resource_group_name: str
    location: str
    domain_name_label: str
    cluster_principal_id: str
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _LABEL.match(self.domain_name_label):
            raise ValueError(f"domain_name_label {self.domain_name_label!r}: 3-63 lower-case letters, digits, '-'")


class AzureIngressAddress(Construct):
    """Attributes: ``ip`` (the resource), ``address``, ``fqdn``, ``name``."""

    def __init__(self, scope: Construct, id: str, props: AzureIngressAddressProps) -> None:
        super().__init__(scope, id)
        self.ip = PublicIp(
            self,
            "ip",
            name=props.name,
            resource_group_name=props.resource_group_name,
            location=props.location,
            sku="Standard",
            allocation_method="Static",
            zones=list(ZONES),
            domain_name_label=props.domain_name_label,
            tags=dict(props.tags) or None,
        )
        RoleAssignment(
            self,
            "cluster-may-join",
            scope=self.ip.id,
            role_definition_name="Network Contributor",
            principal_id=props.cluster_principal_id,
            principal_type="ServicePrincipal",
        )
        self.name = props.name
        self.address = self.ip.ip_address
        self.fqdn = ingress_fqdn(props.domain_name_label, props.location)
