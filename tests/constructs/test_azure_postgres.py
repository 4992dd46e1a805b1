"""AzurePostgres: all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from iworkz_constructs.azure_postgres import AzurePostgres, AzurePostgresProps, LogicalReplication, PostgresAdmin
from tests.tf import new_app, one, resources, synth_stack

SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/pg"
VNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
ADMIN = PostgresAdmin(object_id="00000000-0000-0000-0000-000000000001", principal_name="dr-db-admins")


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    return stack


def _props(**overrides) -> AzurePostgresProps:
    values = {
        "name": "dr-pg",
        "resource_group_name": "dr-rg",
        "location": "koreacentral",
        "delegated_subnet_id": SUBNET,
        "virtual_network_id": VNET,
        "tenant_id": "tenant",
        "admin": ADMIN,
        **overrides,
    }
    return AzurePostgresProps(**values)


def _settings(doc) -> dict[str, str]:
    return {b["name"]: b["value"] for b in resources(doc, "azurerm_postgresql_flexible_server_configuration").values()}


def test_defaults_private_zone_redundant_entra_only():
    stack = _stack()
    AzurePostgres(stack, "pg", _props())
    doc = synth_stack(stack)
    server = one(doc, "azurerm_postgresql_flexible_server")
    assert server["version"] == "16"
    assert server["delegated_subnet_id"] == SUBNET
    assert server["public_network_access_enabled"] is False
    assert server["high_availability"] == {"mode": "ZoneRedundant", "standby_availability_zone": "2"}
    assert server["zone"] == "1"
    assert server["geo_redundant_backup_enabled"] is True
    assert server["backup_retention_days"] == 14
    assert server["auto_grow_enabled"] is True
    assert server["authentication"] == {
        "active_directory_auth_enabled": True,
        "password_auth_enabled": False,
        "tenant_id": "tenant",
    }
    assert server["lifecycle"]["prevent_destroy"] is True
    zone = one(doc, "azurerm_private_dns_zone")
    assert zone["name"] == "dr-pg.private.postgres.database.azure.com"
    assert one(doc, "azurerm_private_dns_zone_virtual_network_link")["virtual_network_id"] == VNET
    assert len(server["depends_on"]) == 1
    admin = one(doc, "azurerm_postgresql_flexible_server_active_directory_administrator")
    assert (admin["object_id"], admin["principal_name"], admin["principal_type"]) == (
        ADMIN.object_id,
        "dr-db-admins",
        "Group",
    )
    settings = _settings(doc)
    assert settings["require_secure_transport"] == "on"
    assert settings["ssl_min_protocol_version"] == "TLSv1.2"
    assert settings["wal_level"] == "logical"
    assert settings["max_logical_replication_workers"] == "8"
    assert settings["max_worker_processes"] == "16"
    # Settings are applied one after the other (the server rejects concurrent updates).
    chained = [
        b for b in resources(doc, "azurerm_postgresql_flexible_server_configuration").values() if "depends_on" in b
    ]
    assert len(chained) == len(settings) - 1
    assert resources(doc, "azurerm_monitor_diagnostic_setting") == {}


def test_all_options():
    stack = _stack()
    AzurePostgres(
        stack,
        "pg",
        _props(
            sku_name="MO_Standard_E4ds_v5",
            storage_mb=262144,
            zone_redundant=False,
            backup_retention_days=35,
            geo_redundant_backup=False,
            replication=LogicalReplication(
                max_replication_slots=20,
                max_wal_senders=20,
                max_worker_processes=32,
                max_logical_replication_workers=16,
                max_sync_workers_per_subscription=8,
            ),
            log_analytics_workspace_id="workspace",
            prevent_destroy=False,
            tags={"Project": "iWORKZ"},
        ),
    )
    doc = synth_stack(stack)
    server = one(doc, "azurerm_postgresql_flexible_server")
    assert server["sku_name"] == "MO_Standard_E4ds_v5"
    assert server["storage_mb"] == 262144
    assert "high_availability" not in server
    assert server["backup_retention_days"] == 35
    assert server["geo_redundant_backup_enabled"] is False
    assert server["lifecycle"]["prevent_destroy"] is False
    assert server["tags"] == {"Project": "iWORKZ"}
    settings = _settings(doc)
    assert (settings["max_replication_slots"], settings["max_logical_replication_workers"]) == ("20", "16")
    assert one(doc, "azurerm_monitor_diagnostic_setting")["log_analytics_workspace_id"] == "workspace"


def test_fails_on_short_retention():
    with pytest.raises(ValueError, match="7-35"):
        _props(backup_retention_days=3)


def test_fails_on_other_major_versions():
    with pytest.raises(ValueError, match="version"):
        _props(version="13")


def test_fails_on_burstable_ha():
    with pytest.raises(ValueError, match="burstable"):
        _props(sku_name="B_Standard_B2s")


def test_fails_on_too_many_replication_workers():
    with pytest.raises(ValueError, match="below max_worker_processes"):
        LogicalReplication(max_worker_processes=8, max_logical_replication_workers=8)
    with pytest.raises(ValueError, match="must not exceed"):
        LogicalReplication(max_logical_replication_workers=4, max_sync_workers_per_subscription=6)
