"""Private DNS and private endpoints shared by the DR site's Azure constructs.

Functions, not a construct: they add their resources to the caller's scope with the ids
``dns-zone``, ``dns-zone-link`` and ``private-endpoint``, so the callers' Terraform
addresses stay what they were.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktf_cdktf_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from cdktf_cdktf_provider_azurerm.private_endpoint import (
    PrivateEndpoint,
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
)
from constructs import Construct


def linked_private_dns_zone(
    scope: Construct,
    *,
    zone_name: str,
    link_name: str,
    resource_group_name: str,
    virtual_network_id: str,
    tags: Mapping[str, str],
) -> tuple[PrivateDnsZone, PrivateDnsZoneVirtualNetworkLink]:
    """A private DNS zone resolvable from the VNet (no auto-registration)."""
    zone = PrivateDnsZone(scope, "dns-zone", name=zone_name, resource_group_name=resource_group_name, tags=dict(tags))
    link = PrivateDnsZoneVirtualNetworkLink(
        scope,
        "dns-zone-link",
        name=link_name,
        resource_group_name=resource_group_name,
        private_dns_zone_name=zone.name,
        virtual_network_id=virtual_network_id,
        registration_enabled=False,
        tags=dict(tags),
    )
    return zone, link


def private_endpoint(
    scope: Construct,
    *,
    name: str,
    connection_name: str,
    resource_id: str,
    subresource: str,
    zone_id: str,
    subnet_id: str,
    resource_group_name: str,
    location: str,
    tags: Mapping[str, str],
) -> PrivateEndpoint:
    """A private endpoint for one sub-resource, registered in the given private DNS zone."""
    return PrivateEndpoint(
        scope,
        "private-endpoint",
        name=name,
        resource_group_name=resource_group_name,
        location=location,
        subnet_id=subnet_id,
        private_service_connection=PrivateEndpointPrivateServiceConnection(
            name=connection_name,
            private_connection_resource_id=resource_id,
            subresource_names=[subresource],
            is_manual_connection=False,
        ),
        private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(name=subresource, private_dns_zone_ids=[zone_id]),
        tags=dict(tags),
    )


def private_access(
    scope: Construct,
    *,
    link_name: str,
    endpoint_name: str,
    connection_name: str,
    resource_id: str,
    subresource: str,
    zone_name: str,
    subnet_id: str,
    virtual_network_id: str,
    resource_group_name: str,
    location: str,
    tags: Mapping[str, str],
) -> PrivateEndpoint:
    """The resource's ``subresource`` reachable only inside the VNet: the zone, its link and the endpoint."""
    zone, _ = linked_private_dns_zone(
        scope,
        zone_name=zone_name,
        link_name=link_name,
        resource_group_name=resource_group_name,
        virtual_network_id=virtual_network_id,
        tags=tags,
    )
    return private_endpoint(
        scope,
        name=endpoint_name,
        connection_name=connection_name,
        resource_id=resource_id,
        subresource=subresource,
        zone_id=zone.id,
        subnet_id=subnet_id,
        resource_group_name=resource_group_name,
        location=location,
        tags=tags,
    )
