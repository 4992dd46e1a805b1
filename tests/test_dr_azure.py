"""dr-azure: the Korea Central DR site, asserted on the synthesised JSON, and its configuration rules."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from iworkz.config import ConfigError, load_settings
from iworkz.config.dr_azure import AZURE_LOCATIONS_WITH_ZONES, dns_resolver_inbound_ip, dr_azure_subnets
from iworkz.registry import plan
from iworkz.synth import synthesize
from tests.configs import write_config
from tests.tf import data_sources, one, outputs, resources, through_contract

STACK = "dr-azure-production"
MANDATORY_TAGS = ("Project", "Environment", "ManagedBy", "Owner")


@pytest.fixture(scope="module")
def doc(stack) -> dict[str, Any]:
    return stack(STACK)


@pytest.fixture(scope="module")
def dr(settings):
    return settings.environments["production"].dr_azure


def ref(resource_type: str, logical_id: str, attribute: str) -> str:
    return f"${{{resource_type}.{logical_id}.{attribute}}}"


def logical_id(doc, resource_type: str, **match: Any) -> str:
    found = [
        name for name, body in resources(doc, resource_type).items() if all(body.get(k) == v for k, v in match.items())
    ]
    assert len(found) == 1, f"{resource_type} matching {match}: {found}"
    return found[0]


# --- selection and providers ---------------------------------------------------------------------


def test_only_production_builds_the_dr_site(settings):
    planned, _ = plan(settings, ["dr-azure"])
    # Its producers are read from their state, not built again.
    assert [stack.name for stack in planned] == [STACK]
    assert not settings.environments["staging"].dr_azure.enabled
    assert not settings.environments["dev"].dr_azure.enabled


def test_another_environment_gets_its_site_by_configuration(tmp_path):
    settings = load_settings(
        write_config(
            tmp_path,
            "staging",
            {"dr_azure": {"enabled": True, "vnet_cidr": "10.101.0.0/16", "alert_emails": ["oncall@iworkz.com"]}},
        ),
        ["staging"],
    )
    planned, _ = plan(settings, ["dr-azure"])
    assert [s.name for s in planned if s.spec.component == "dr-azure"] == ["dr-azure-staging"]
    written = {s.name: json.loads(s.path.read_text()) for s in synthesize(settings, planned, tmp_path / "out")}
    staging = written["dr-azure-staging"]
    assert staging["terraform"]["backend"]["s3"]["key"] == "staging/dr-azure.tfstate"
    assert one(staging, "azurerm_resource_group")["tags"]["Environment"] == "staging"
    assert one(staging, "azurerm_storage_account")["name"] == "iworkzstagingdrbackup"
    assert one(staging, "azurerm_virtual_network")["address_space"] == ["10.101.0.0/16"]
    assert one(staging, "azurerm_kubernetes_cluster_node_pool")["max_count"] == 6


def test_state_lives_in_the_shared_s3_backend(doc):
    backend = doc["terraform"]["backend"]["s3"]
    assert backend["key"] == "production/dr-azure.tfstate"
    assert backend["encrypt"] is True
    assert backend["dynamodb_table"] == "terraform-lock"


def test_azurerm_provider_features_and_credentials_from_environment(doc):
    (azurerm,) = doc["provider"]["azurerm"]
    features = azurerm["features"][0]
    assert features["key_vault"] == [{"purge_soft_delete_on_destroy": False, "recover_soft_deleted_key_vaults": True}]
    assert features["resource_group"] == [{"prevent_deletion_if_contains_resources": True}]
    assert features["storage"] == [{"data_plane_available": False}]
    assert features["postgresql_flexible_server"] == [{"restart_server_on_configuration_value_change": True}]
    assert azurerm["storage_use_azuread"] is True
    # Not in config: the provider reads ARM_SUBSCRIPTION_ID / ARM_TENANT_ID at plan time.
    assert "subscription_id" not in azurerm and "tenant_id" not in azurerm
    (aws,) = doc["provider"]["aws"]
    assert aws["region"] == "ap-northeast-1"


def test_tenant_comes_from_the_deploying_identity_when_not_configured(doc):
    (client,) = data_sources(doc, "azurerm_client_config")
    vault = one(doc, "azurerm_key_vault")
    assert vault["tenant_id"] == f"${{data.azurerm_client_config.{client}.tenant_id}}"


SUBSCRIPTION, TENANT = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The production DR site with every optional setting the defaults leave out (one synth)."""
    tmp_path = tmp_path_factory.mktemp("dr-configured")
    options = {
        "subscription_id": SUBSCRIPTION,
        "tenant_id": TENANT,
        "aks_private_cluster": True,
        "aks_authorized_ip_ranges": [],
    }
    settings = load_settings(write_config(tmp_path, "production", {"dr_azure": options}), ["production"])
    planned, _ = plan(settings, [STACK])
    written = {s.name: json.loads(s.path.read_text()) for s in synthesize(settings, planned, tmp_path / "out")}
    return written[STACK]


def test_subscription_and_tenant_from_config_reach_the_provider(configured):
    (azurerm,) = configured["provider"]["azurerm"]
    assert azurerm["subscription_id"] == SUBSCRIPTION
    assert azurerm["tenant_id"] == TENANT
    assert one(configured, "azurerm_key_vault")["tenant_id"] == TENANT


def test_private_cluster_from_config_is_resolvable_from_aws(configured):
    cluster = one(configured, "azurerm_kubernetes_cluster")
    assert cluster["private_cluster_enabled"] is True
    assert cluster["private_cluster_public_fqdn_enabled"] is False
    assert "api_server_access_profile" not in cluster
    zones = {body["domain_name"] for body in resources(configured, "aws_route53_resolver_rule").values()}
    assert "privatelink.koreacentral.azmk8s.io" in zones


def test_location_is_korea_central(doc, dr):
    assert dr.location == "koreacentral" and dr.paired_location == "koreasouth"
    for resource_type in ("azurerm_resource_group", "azurerm_virtual_network", "azurerm_kubernetes_cluster"):
        assert one(doc, resource_type)["location"] == "koreacentral"


# --- resource group, tags --------------------------------------------------------------------------


def test_resource_group_carries_the_platform_tags(doc):
    group = one(doc, "azurerm_resource_group")
    assert group["name"] == "iworkz-production-dr-rg"
    assert group["tags"]["Project"] == "iWORKZ"
    assert group["tags"]["Environment"] == "production"
    assert group["tags"]["ManagedBy"] == "Terraform"
    assert group["tags"]["Owner"] == "DevOps"
    assert group["lifecycle"]["prevent_destroy"] is True


def test_every_tagged_azure_resource_has_the_mandatory_tags(doc):
    tagged = 0
    for resource_type, bodies in doc["resource"].items():
        if not resource_type.startswith("azurerm_"):
            continue
        for name, body in bodies.items():
            if "tags" in body:
                tagged += 1
                missing = [key for key in MANDATORY_TAGS if key not in body["tags"]]
                assert not missing, f"{resource_type}.{name} lacks {missing}"
    assert tagged >= 20


# --- network ---------------------------------------------------------------------------------------


def test_vnet_uses_the_configured_space_and_computed_subnets(doc, dr):
    vnet = one(doc, "azurerm_virtual_network")
    assert vnet["address_space"] == [dr.vnet_cidr]
    expected = dr_azure_subnets(dr.vnet_cidr)
    subnets = {body["name"]: body for body in resources(doc, "azurerm_subnet").values()}
    assert subnets["iworkz-production-dr-vnet-aks-nodes"]["address_prefixes"] == [expected["aks_nodes"]]
    assert subnets["iworkz-production-dr-vnet-postgres"]["address_prefixes"] == [expected["postgres"]]
    assert subnets["iworkz-production-dr-vnet-private-endpoints"]["address_prefixes"] == [expected["private_endpoints"]]
    assert subnets["GatewaySubnet"]["address_prefixes"] == [expected["gateway"]]
    assert subnets["iworkz-production-dr-vnet-dns-resolver"]["address_prefixes"] == [expected["dns_resolver"]]
    assert len(subnets) == 5
    vnet_range = ipaddress.IPv4Network(dr.vnet_cidr)
    for body in subnets.values():
        assert ipaddress.IPv4Network(body["address_prefixes"][0]).subnet_of(vnet_range)


def test_vnet_overlaps_no_aws_vpc_of_any_environment(settings, dr):
    vnet = ipaddress.ip_network(dr.vnet_cidr)
    for env in settings.environments.values():
        assert not vnet.overlaps(ipaddress.ip_network(env.network.vpc_cidr))
        for cidr in (dr.aks_pod_cidr, dr.aks_service_cidr):
            assert not ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(env.network.vpc_cidr))


def test_postgres_subnet_is_delegated(doc):
    subnet = next(b for b in resources(doc, "azurerm_subnet").values() if b["name"].endswith("-postgres"))
    (delegation,) = subnet["delegation"]
    assert delegation["service_delegation"]["name"] == "Microsoft.DBforPostgreSQL/flexibleServers"


def test_nsgs_are_associated_to_every_subnet_but_the_gateway(doc):
    subnet_ids = {body["name"]: name for name, body in resources(doc, "azurerm_subnet").items()}
    associated = {
        body["subnet_id"] for body in resources(doc, "azurerm_subnet_network_security_group_association").values()
    }
    for subnet_name, logical in subnet_ids.items():
        subnet_ref = ref("azurerm_subnet", logical, "id")
        if subnet_name == "GatewaySubnet":  # Azure does not support an NSG on the GatewaySubnet
            assert subnet_ref not in associated
        else:
            assert subnet_ref in associated


def test_data_subnets_deny_the_internet_and_admit_only_the_vnet(doc):
    for suffix, port in (("postgres-nsg", "5432"), ("private-endpoints-nsg", "443"), ("dns-resolver-nsg", "53")):
        nsg = next(b for b in resources(doc, "azurerm_network_security_group").values() if b["name"].endswith(suffix))
        rules = {rule["name"]: rule for rule in nsg["security_rule"]}
        allow = next(r for r in rules.values() if r["access"] == "Allow")
        assert allow["source_address_prefix"] == "VirtualNetwork"
        assert allow["destination_port_range"] == port
        deny = rules["deny-internet"]
        assert (deny["access"], deny["source_address_prefix"], deny["direction"]) == ("Deny", "Internet", "Inbound")


def test_aks_subnet_admits_only_https_from_the_internet(doc):
    nsg = next(
        b for b in resources(doc, "azurerm_network_security_group").values() if b["name"].endswith("aks-nodes-nsg")
    )
    internet = [r for r in nsg["security_rule"] if r["source_address_prefix"] == "Internet" and r["access"] == "Allow"]
    assert [r["destination_port_range"] for r in internet] == ["443"]


# --- AKS ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aks(doc):
    return one(doc, "azurerm_kubernetes_cluster")


def test_aks_identity_entra_rbac_and_no_local_accounts(doc, aks):
    identity = logical_id(doc, "azurerm_user_assigned_identity", name="iworkz-production-dr-aks-identity")
    assert aks["identity"] == {
        "type": "UserAssigned",
        "identity_ids": [ref("azurerm_user_assigned_identity", identity, "id")],
    }
    rbac = aks["azure_active_directory_role_based_access_control"]
    assert rbac["azure_rbac_enabled"] is True
    assert aks["local_account_disabled"] is True
    assert aks["role_based_access_control_enabled"] is True
    assert aks["sku_tier"] == "Standard"


def test_aks_identity_joins_the_node_subnet_before_the_cluster(doc, aks):
    subnet = logical_id(doc, "azurerm_subnet", name="iworkz-production-dr-vnet-aks-nodes")
    assignment = logical_id(
        doc,
        "azurerm_role_assignment",
        scope=ref("azurerm_subnet", subnet, "id"),
        role_definition_name="Network Contributor",
    )
    assert f"azurerm_role_assignment.{assignment}" in aks["depends_on"]


def test_aks_network_is_cni_overlay_with_a_policy(aks, dr):
    network = aks["network_profile"]
    assert network["network_plugin"] == "azure"
    assert network["network_plugin_mode"] == "overlay"
    assert network["network_policy"] == dr.aks_network_policy == "cilium"
    assert network["network_data_plane"] == "cilium"
    assert network["pod_cidr"] == dr.aks_pod_cidr
    assert network["service_cidr"] == dr.aks_service_cidr
    assert ipaddress.ip_address(network["dns_service_ip"]) in ipaddress.ip_network(dr.aks_service_cidr)


def test_aks_api_server_is_private_in_production(aks, dr):
    # The secure default: no public API server; the runner in the AWS VPC reaches it over the VPN.
    assert dr.aks_private_cluster is True and dr.aks_authorized_ip_ranges == []
    assert aks["private_cluster_enabled"] is True
    assert aks["private_cluster_public_fqdn_enabled"] is False
    assert "api_server_access_profile" not in aks


def test_aks_system_pool_spans_three_zones_and_autoscales(aks, dr):
    pool = aks["default_node_pool"]
    assert pool["zones"] == ["1", "2", "3"]
    assert pool["auto_scaling_enabled"] is True
    assert pool["only_critical_addons_enabled"] is True
    assert (pool["min_count"], pool["max_count"]) == (dr.aks_system_pool.min_count, dr.aks_system_pool.max_count)
    assert pool["vm_size"] == dr.aks_system_pool.vm_size
    assert pool["host_encryption_enabled"] is True
    assert pool["os_disk_type"] == "Ephemeral"


def test_aks_user_pool_idles_small_and_scales_up_to_the_configured_maximum(doc, aks, dr):
    pool = one(doc, "azurerm_kubernetes_cluster_node_pool")
    assert pool["mode"] == "User"
    assert pool["auto_scaling_enabled"] is True
    assert pool["min_count"] == dr.aks_user_pool.min_count <= 1
    assert pool["max_count"] == dr.aks_user_pool.max_count == 20
    assert pool["zones"] == ["1", "2", "3"]
    assert pool["kubernetes_cluster_id"].startswith("${azurerm_kubernetes_cluster.")
    assert "node_count" in pool["lifecycle"]["ignore_changes"]


def test_aks_insights_policy_secrets_provider_and_upgrades(doc, aks, dr):
    workspace = logical_id(doc, "azurerm_log_analytics_workspace", name="iworkz-production-dr-logs")
    assert aks["oms_agent"]["log_analytics_workspace_id"] == ref("azurerm_log_analytics_workspace", workspace, "id")
    assert aks["azure_policy_enabled"] is True
    assert aks["key_vault_secrets_provider"]["secret_rotation_enabled"] is True
    assert aks["automatic_upgrade_channel"] == "patch"
    assert aks["node_os_upgrade_channel"] == "NodeImage"
    assert aks["kubernetes_version"] == dr.kubernetes_version


def test_aks_disks_use_a_customer_managed_key(doc, aks):
    des_id = logical_id(doc, "azurerm_disk_encryption_set", name="iworkz-production-dr-aks-des")
    assert aks["disk_encryption_set_id"] == ref("azurerm_disk_encryption_set", des_id, "id")
    des = resources(doc, "azurerm_disk_encryption_set")[des_id]
    assert des["key_vault_key_id"].endswith(".versionless_id}")
    assert des["auto_key_rotation_enabled"] is True


def test_aks_control_plane_logs_go_to_log_analytics(doc, aks):
    settings = [
        s
        for s in resources(doc, "azurerm_monitor_diagnostic_setting").values()
        if "kubernetes_cluster" in s["target_resource_id"]
    ]
    (setting,) = settings
    assert "kube-audit-admin" in {log["category"] for log in setting["enabled_log"]}


# --- PostgreSQL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres(doc):
    return one(doc, "azurerm_postgresql_flexible_server")


def test_postgres_is_version_16_in_the_delegated_subnet_with_private_dns(doc, postgres):
    assert postgres["version"] == "16"
    subnet = logical_id(doc, "azurerm_subnet", name="iworkz-production-dr-vnet-postgres")
    assert postgres["delegated_subnet_id"] == ref("azurerm_subnet", subnet, "id")
    zone_id = logical_id(
        doc, "azurerm_private_dns_zone", name="iworkz-production-dr-pg.private.postgres.database.azure.com"
    )
    assert postgres["private_dns_zone_id"] == ref("azurerm_private_dns_zone", zone_id, "id")
    link = next(
        b
        for b in resources(doc, "azurerm_private_dns_zone_virtual_network_link").values()
        if zone_id in b["private_dns_zone_name"]
    )
    vnet = logical_id(doc, "azurerm_virtual_network", name="iworkz-production-dr-vnet")
    assert link["virtual_network_id"] == ref("azurerm_virtual_network", vnet, "id")
    assert postgres["public_network_access_enabled"] is False


def test_postgres_is_zone_redundant_geo_backed_up_and_grows(postgres, dr):
    assert postgres["high_availability"]["mode"] == "ZoneRedundant"
    assert postgres["high_availability"]["standby_availability_zone"] != postgres["zone"]
    assert postgres["geo_redundant_backup_enabled"] is True
    assert postgres["backup_retention_days"] == dr.postgres_backup_retention_days >= 7
    assert postgres["auto_grow_enabled"] is True
    assert postgres["lifecycle"]["prevent_destroy"] is True


def test_postgres_admin_is_entra_and_no_password_is_known(doc, postgres):
    assert postgres["authentication"]["active_directory_auth_enabled"] is True
    # Password authentication for the standby application's role; the administrator's password
    # is generated ephemerally and written write-only: in neither the plan nor the state.
    assert postgres["authentication"]["password_auth_enabled"] is True
    assert postgres["administrator_login"] == "iworkz_password_admin"
    assert "administrator_password" not in postgres
    (name,) = doc["ephemeral"]["aws_secretsmanager_random_password"]
    assert (
        postgres["administrator_password_wo"]
        == f"${{ephemeral.aws_secretsmanager_random_password.{name}.random_password}}"
    )
    assert postgres["administrator_password_wo_version"] == 1
    admin = one(doc, "azurerm_postgresql_flexible_server_active_directory_administrator")
    identity = logical_id(doc, "azurerm_user_assigned_identity", name="iworkz-production-dr-pg-admin")
    assert admin["object_id"] == ref("azurerm_user_assigned_identity", identity, "principal_id")
    assert admin["principal_type"] == "ServicePrincipal"


def test_postgres_enforces_tls_and_can_subscribe_to_rds(doc):
    settings = {
        b["name"]: b["value"] for b in resources(doc, "azurerm_postgresql_flexible_server_configuration").values()
    }
    assert settings["require_secure_transport"] == "on"
    assert settings["ssl_min_protocol_version"] == "TLSv1.2"
    assert settings["wal_level"] == "logical"
    workers = int(settings["max_worker_processes"])
    assert int(settings["max_logical_replication_workers"]) < workers
    assert int(settings["max_replication_slots"]) >= 1
    assert int(settings["max_sync_workers_per_subscription"]) <= int(settings["max_logical_replication_workers"])


# --- backup storage and Key Vault -----------------------------------------------------------------


@pytest.fixture(scope="module")
def account(doc):
    return one(doc, "azurerm_storage_account")


def test_backup_account_is_geo_redundant_private_and_keyless(account, dr):
    assert account["account_replication_type"] == dr.storage_replication_type == "GZRS"
    assert account["min_tls_version"] == "TLS1_2"
    assert account["allow_nested_items_to_be_public"] is False
    assert account["shared_access_key_enabled"] is False
    assert account["public_network_access_enabled"] is False
    assert account["infrastructure_encryption_enabled"] is True
    assert account["network_rules"] == {"default_action": "Deny", "bypass": ["AzureServices"]}
    assert account["lifecycle"]["prevent_destroy"] is True
    (check,) = account["lifecycle"]["postcondition"]
    assert '"koreasouth"' in check["condition"] and "secondary_location" in check["condition"]


def test_backup_account_versions_and_soft_deletes(account, dr):
    blob = account["blob_properties"]
    assert blob["versioning_enabled"] is True
    assert blob["change_feed_enabled"] is True
    assert blob["delete_retention_policy"]["days"] == dr.blob_soft_delete_days
    assert blob["container_delete_retention_policy"]["days"] == dr.blob_soft_delete_days


def test_backup_account_encrypts_with_a_key_vault_key(doc, account):
    key_id = logical_id(doc, "azurerm_key_vault_key", name="iworkzproductiondrbackup-cmk")
    assert account["customer_managed_key"]["key_vault_key_id"] == ref("azurerm_key_vault_key", key_id, "versionless_id")
    identity = account["identity"]["identity_ids"][0]
    assert account["customer_managed_key"]["user_assigned_identity_id"] == identity


def test_backup_container_is_immutable(doc, dr):
    container_id = logical_id(doc, "azurerm_storage_container", name="backups")
    policy = one(doc, "azurerm_storage_container_immutability_policy")
    assert policy["storage_container_resource_manager_id"] == ref("azurerm_storage_container", container_id, "id")
    assert policy["immutability_period_in_days"] == dr.backup_immutability_days
    assert resources(doc, "azurerm_storage_container")[container_id]["container_access_type"] == "private"


def test_backup_account_has_a_blob_private_endpoint_with_its_dns_zone(doc, account):
    account_id = logical_id(doc, "azurerm_storage_account", name=account["name"])
    endpoint = next(
        b
        for b in resources(doc, "azurerm_private_endpoint").values()
        if b["private_service_connection"]["private_connection_resource_id"]
        == ref("azurerm_storage_account", account_id, "id")
    )
    assert endpoint["private_service_connection"]["subresource_names"] == ["blob"]
    zone = logical_id(doc, "azurerm_private_dns_zone", name="privatelink.blob.core.windows.net")
    assert endpoint["private_dns_zone_group"]["private_dns_zone_ids"] == [ref("azurerm_private_dns_zone", zone, "id")]
    subnet = logical_id(doc, "azurerm_subnet", name="iworkz-production-dr-vnet-private-endpoints")
    assert endpoint["subnet_id"] == ref("azurerm_subnet", subnet, "id")


def test_key_vault_is_protected_and_firewalled(doc, dr):
    vault = one(doc, "azurerm_key_vault")
    assert vault["purge_protection_enabled"] is True
    assert vault["rbac_authorization_enabled"] is True
    assert vault["soft_delete_retention_days"] == 90
    assert vault["network_acls"]["default_action"] == "Deny"
    assert vault["network_acls"]["ip_rules"] == dr.deployer_ip_ranges
    assert vault["lifecycle"]["prevent_destroy"] is True
    assert len(vault["name"]) <= 24


def test_log_analytics_retention_from_config(doc, dr):
    workspace = one(doc, "azurerm_log_analytics_workspace")
    assert workspace["retention_in_days"] == dr.log_retention_days


# --- cross-cloud VPN -------------------------------------------------------------------------------


def test_aws_side_attaches_a_vpn_gateway_and_propagates_routes(doc, stack):
    vgw = one(doc, "aws_vpn_gateway")
    network = stack("network-production")
    assert through_contract(vgw["vpc_id"], network).startswith("${aws_vpc.")
    propagations = resources(doc, "aws_vpn_gateway_route_propagation").values()
    tables = {
        f"${{aws_route_table.{name}.id}}"
        for name, body in resources(network, "aws_route_table").items()
        if "private" in body["tags"]["Name"] or "database" in body["tags"]["Name"]
    }
    assert len(tables) == 6
    assert {through_contract(p["route_table_id"], network) for p in propagations} == tables


def test_customer_gateway_points_at_the_azure_gateway_ip(doc):
    gateway = one(doc, "aws_customer_gateway")
    public_ip = logical_id(doc, "azurerm_public_ip", name="iworkz-production-dr-vpngw-ip")
    assert gateway["ip_address"] == ref("azurerm_public_ip", public_ip, "ip_address")
    assert gateway["bgp_asn"] == "65000"
    assert gateway["type"] == "ipsec.1"


def test_vpn_connection_uses_static_routes_and_strong_ikev2_tunnels(doc, dr):
    connection = one(doc, "aws_vpn_connection")
    assert connection["static_routes_only"] is True
    for tunnel in ("tunnel1", "tunnel2"):
        assert connection[f"{tunnel}_ike_versions"] == ["ikev2"]
        assert connection[f"{tunnel}_phase1_encryption_algorithms"] == ["AES256"]
        assert connection[f"{tunnel}_phase2_integrity_algorithms"] == ["SHA2-256"]
        assert connection[f"{tunnel}_phase1_dh_group_numbers"] == [14]
        assert f"{tunnel}_preshared_key" not in connection  # AWS generates it
    route = one(doc, "aws_vpn_connection_route")
    assert route["destination_cidr_block"] == dr.vnet_cidr


def test_azure_gateway_is_zone_redundant_and_route_based(doc):
    gateway = one(doc, "azurerm_virtual_network_gateway")
    assert (gateway["type"], gateway["vpn_type"], gateway["sku"]) == ("Vpn", "RouteBased", "VpnGw2AZ")
    subnet = logical_id(doc, "azurerm_subnet", name="GatewaySubnet")
    assert gateway["ip_configuration"][0]["subnet_id"] == ref("azurerm_subnet", subnet, "id")
    public_ip = next(ip for ip in resources(doc, "azurerm_public_ip").values() if ip["name"].endswith("-vpngw-ip"))
    assert public_ip["sku"] == "Standard" and public_ip["zones"] == ["1", "2", "3"]


def test_azure_gateway_logs_go_to_log_analytics(doc):
    gateway = logical_id(doc, "azurerm_virtual_network_gateway", name="iworkz-production-dr-vpngw")
    workspace = logical_id(doc, "azurerm_log_analytics_workspace", name="iworkz-production-dr-logs")
    (setting,) = [
        s
        for s in resources(doc, "azurerm_monitor_diagnostic_setting").values()
        if s["target_resource_id"] == ref("azurerm_virtual_network_gateway", gateway, "id")
    ]
    assert setting["log_analytics_workspace_id"] == ref("azurerm_log_analytics_workspace", workspace, "id")


def test_azure_connections_take_each_tunnel_key_from_aws(doc, settings):
    connection_id = logical_id(doc, "aws_vpn_connection", type="ipsec.1")
    vpc_cidr = settings.environments["production"].network.vpc_cidr
    locals_ = resources(doc, "azurerm_local_network_gateway")
    for number in (1, 2):
        local = next(name for name, b in locals_.items() if b["name"].endswith(f"tunnel{number}"))
        body = locals_[local]
        assert body["gateway_address"] == ref("aws_vpn_connection", connection_id, f"tunnel{number}_address")
        assert body["address_space"] == [vpc_cidr]
        connection = next(
            b
            for b in resources(doc, "azurerm_virtual_network_gateway_connection").values()
            if b["local_network_gateway_id"] == ref("azurerm_local_network_gateway", local, "id")
        )
        assert connection["type"] == "IPsec" and connection["connection_protocol"] == "IKEv2"
        assert connection["shared_key"] == ref("aws_vpn_connection", connection_id, f"tunnel{number}_preshared_key")
        assert connection["ipsec_policy"]["ike_encryption"] == "AES256"


def test_aws_resolves_the_dr_private_zones_through_the_azure_resolver(doc, dr):
    inbound = one(doc, "azurerm_private_dns_resolver_inbound_endpoint")
    subnet = logical_id(doc, "azurerm_subnet", name="iworkz-production-dr-vnet-dns-resolver")
    assert inbound["ip_configurations"]["subnet_id"] == ref("azurerm_subnet", subnet, "id")
    address = inbound["ip_configurations"]["private_ip_address"]
    assert address == dns_resolver_inbound_ip(dr.vnet_cidr)
    assert ipaddress.ip_address(address) in ipaddress.ip_network(dr_azure_subnets(dr.vnet_cidr)["dns_resolver"])
    vnet = logical_id(doc, "azurerm_virtual_network", name="iworkz-production-dr-vnet")
    assert one(doc, "azurerm_private_dns_resolver")["virtual_network_id"] == ref("azurerm_virtual_network", vnet, "id")
    endpoint = one(doc, "aws_route53_resolver_endpoint")
    assert endpoint["direction"] == "OUTBOUND"
    assert len(endpoint["ip_address"]) == 3
    assert all("terraform_remote_state" in ip["subnet_id"] for ip in endpoint["ip_address"])
    rules = {body["domain_name"]: body for body in resources(doc, "aws_route53_resolver_rule").values()}
    zones = {body["name"] for body in resources(doc, "azurerm_private_dns_zone").values()}
    # AKS creates the zone of its private API server itself: the runner in the VPC resolves it too.
    zones.add(f"privatelink.{dr.location}.azmk8s.io")
    assert set(rules) == zones  # every private zone of the DR site, nothing else
    for rule in rules.values():
        assert rule["rule_type"] == "FORWARD"
        assert rule["target_ip"] == [{"ip": address, "port": 53}]
    associations = resources(doc, "aws_route53_resolver_rule_association").values()
    assert len(associations) == len(rules)
    assert all("terraform_remote_state" in a["vpc_id"] for a in associations)
    group = one(doc, "aws_security_group")
    assert group["ingress"] == []
    assert {(e["protocol"], e["from_port"], tuple(e["cidr_blocks"])) for e in group["egress"]} == {
        ("udp", 53, (f"{address}/32",)),
        ("tcp", 53, (f"{address}/32",)),
    }


def test_no_literal_shared_keys_in_the_stack(doc):
    def keys(node: Any, path: str = "") -> list[tuple[str, Any]]:
        if isinstance(node, dict):
            return [item for key, value in node.items() for item in keys(value, f"{path}.{key}")]
        if isinstance(node, list):
            return [item for value in node for item in keys(value, path)]
        return [(path, node)]

    shared = [(path, value) for path, value in keys(doc["resource"]) if "shared_key" in path.rsplit(".", 1)[-1]]
    assert len(shared) == 2
    assert all(str(value).startswith("${aws_vpn_connection.") for _, value in shared)


# --- outputs -----------------------------------------------------------------------------------------


def test_outputs(doc):
    out = outputs(doc)
    assert out["aks_cluster_name"]["value"].endswith(".name}")
    assert out["aks_cluster_id"]["value"].endswith(".id}")
    assert out["postgres_fqdn"]["value"].endswith(".fqdn}")
    assert out["postgres_fqdn"]["sensitive"] is True
    assert out["backup_storage_account_name"]["value"].startswith("${azurerm_storage_account.")
    assert out["vpn_gateway_public_ip"]["value"].endswith(".ip_address}")


def test_policy_passes_with_one_documented_suppression(doc, synth_outdir):
    report = json.loads((synth_outdir / "policy-report.json").read_text())
    mine = [s for s in report["suppressions"] if s["stack"] == STACK]
    assert [(s["path"], s["rule"]) for s in mine] == [(f"{STACK}/vnet/aks-nodes-nsg", "OPEN_INGRESS")]
    assert "HTTPS" in mine[0]["reason"]


# --- configuration: bad input ---------------------------------------------------------------------


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir)
    return caught.value.render()


BAD_INPUTS = [
    pytest.param(
        {"dr_azure": {"vnet_cidr": "10.0.0.0/16"}},
        ["production.yaml", "dr_azure.vnet_cidr", "10.0.0.0/16", "overlaps the AWS VPC of production"],
        id="vnet-overlaps-aws",
    ),
    pytest.param(
        {"dr_azure": {"vnet_cidr": "10.1.128.0/17"}},
        ["production.yaml", "dr_azure.vnet_cidr", "10.1.128.0/17", "overlaps the AWS VPC of staging"],
        id="vnet-overlaps-another-environments-vpc",
    ),
    pytest.param(
        {"dr_azure": {"aks_service_cidr": "10.2.0.0/16"}},
        ["production.yaml", "dr_azure.aks_service_cidr", "10.2.0.0/16", "overlaps the AWS VPC of dev"],
        id="aks-service-range-overlaps-aws",
    ),
    pytest.param(
        {"dr_azure": {"location": "koreanorth"}},
        ["production.yaml", "dr_azure.location", "koreanorth", "known Azure location"],
        id="unknown-location",
    ),
    pytest.param(
        {"dr_azure": {"location": "koreasouth", "paired_location": "koreacentral"}},
        ["production.yaml", "dr_azure.postgres_zone_redundant", "True", "koreasouth has no availability zones"],
        id="zone-redundant-without-zones",
    ),
    pytest.param(
        {"dr_azure": {"postgres_backup_retention_days": 3}},
        ["production.yaml", "dr_azure.postgres_backup_retention_days", "3", "7 to 35 days"],
        id="backup-retention-below-7",
    ),
    pytest.param(
        {"dr_azure": {"paired_location": "japanwest"}},
        ["production.yaml", "dr_azure.paired_location", "japanwest", "Azure pair of koreacentral (koreasouth)"],
        id="wrong-paired-region",
    ),
    pytest.param(
        {"dr_azure": {"aks_private_cluster": False, "aks_authorized_ip_ranges": []}},
        ["production.yaml", "dr_azure.aks_authorized_ip_ranges", "authorised IP ranges"],
        id="public-api-without-allow-list",
    ),
    pytest.param(
        {"dr_azure": {"aks_authorized_ip_ranges": ["0.0.0.0/0"]}},
        ["production.yaml", "dr_azure.aks_authorized_ip_ranges", "0.0.0.0/0"],
        id="api-open-to-the-internet",
    ),
    pytest.param(
        {"dr_azure": {"aks_user_pool": {"vm_size": "Standard_D8ds_v5", "min_count": 5, "max_count": 2}}},
        ["production.yaml", "dr_azure.aks_user_pool.min_count", "5", "must not exceed max_count"],
        id="pool-min-above-max",
    ),
    pytest.param(
        {"dr_azure": {"kubernetes_version": "1.28"}},
        ["production.yaml", "dr_azure.kubernetes_version", "1.28", "end of life"],
        id="end-of-life-kubernetes",
    ),
    pytest.param(
        {"dr_azure": {"aks_pod_cidr": "10.100.0.0/16"}},
        ["production.yaml", "dr_azure.aks_pod_cidr", "10.100.0.0/16", "overlaps vnet_cidr"],
        id="pod-range-overlaps-vnet",
    ),
    pytest.param(
        {"dr_azure": {"vnet_cidr": "10.100.0.0/24"}},
        ["production.yaml", "dr_azure.vnet_cidr", "10.100.0.0/24", "/22 or larger"],
        id="vnet-too-small",
    ),
    pytest.param(
        {"dr_azure": {"storage_replication_type": "LRS"}},
        ["production.yaml", "dr_azure.storage_replication_type", "LRS", "'GZRS'"],
        id="storage-not-geo-redundant",
    ),
    pytest.param(
        {"dr_azure": {"postgres_sku_name": "B_Standard_B2s"}},
        ["production.yaml", "dr_azure.postgres_sku_name", "B_Standard_B2s", "burstable"],
        id="burstable-with-ha",
    ),
    pytest.param(
        {"dr_azure": {"subscription_id": "my-subscription"}},
        ["production.yaml", "dr_azure.subscription_id", "my-subscription"],
        id="subscription-not-a-uuid",
    ),
]


@pytest.mark.parametrize(("patch", "expected"), BAD_INPUTS)
def test_fails_on_bad_dr_input(tmp_path, patch, expected):
    message = _error(write_config(tmp_path, "production", patch))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_a_disabled_site_may_reuse_ranges_freely(tmp_path):
    # staging's DR section is disabled: its VNet is never built, so it is not checked against AWS.
    settings = load_settings(write_config(tmp_path, "staging", {"dr_azure": {"vnet_cidr": "10.0.0.0/16"}}))
    assert not settings.environments["staging"].dr_azure.enabled


def test_zone_redundancy_may_be_turned_off(tmp_path):
    settings = load_settings(write_config(tmp_path, "production", {"dr_azure": {"postgres_zone_redundant": False}}))
    assert settings.environments["production"].dr_azure.postgres_zone_redundant is False


def test_korea_central_has_zones_and_korea_south_has_none():
    assert "koreacentral" in AZURE_LOCATIONS_WITH_ZONES
    assert "koreasouth" not in AZURE_LOCATIONS_WITH_ZONES


def test_subnets_are_computed_from_any_vnet_size():
    subnets = dr_azure_subnets("10.200.0.0/20")
    assert subnets == {
        "aks_nodes": "10.200.0.0/21",
        "postgres": "10.200.8.0/24",
        "private_endpoints": "10.200.9.0/24",
        "gateway": "10.200.10.0/24",
        "dns_resolver": "10.200.11.0/24",
    }
    assert dns_resolver_inbound_ip("10.200.0.0/20") == "10.200.11.4"


def test_azure_names_fit_their_limits_and_stay_stable():
    from iworkz_constructs.azure_names import compact_name

    assert compact_name("iworkz-production-dr-kv", 24) == "iworkz-production-dr-kv"
    long_vault = compact_name("iworkz-preproduction1-dr-kv", 24)
    assert len(long_vault) <= 24 and long_vault == compact_name("iworkz-preproduction1-dr-kv", 24)
    assert long_vault != compact_name("iworkz-preproduction2-dr-kv", 24)
    account = compact_name("iworkz-preproduction1-drbackup", 24, alphanumeric=True)
    assert len(account) <= 24 and account.isalnum() and account.islower()


# --- locks, Defender, activity log, alerts ---------------------------------------------------------


def test_every_stateful_resource_carries_a_cannot_delete_lock(doc):
    locks = {lock["scope"]: lock for lock in resources(doc, "azurerm_management_lock").values()}
    assert all(lock["lock_level"] == "CanNotDelete" for lock in locks.values())
    for resource_type in (
        "azurerm_postgresql_flexible_server",
        "azurerm_storage_account",
        "azurerm_key_vault",
        "azurerm_log_analytics_workspace",
    ):
        for name in resources(doc, resource_type):
            assert ref(resource_type, name, "id") in locks, f"{resource_type}.{name} has no lock"
    assert len(locks) == 4


def test_defender_plans_cover_the_resource_types_of_the_site(doc, dr):
    plans = {p["resource_type"]: p for p in resources(doc, "azurerm_security_center_subscription_pricing").values()}
    assert (
        set(plans)
        == set(dr.defender_plans)
        == {
            "VirtualMachines",
            "Containers",
            "OpenSourceRelationalDatabases",
            "StorageAccounts",
            "KeyVaults",
            "Arm",
        }
    )
    assert all(p["tier"] == "Standard" for p in plans.values())
    assert plans["StorageAccounts"]["subplan"] == "DefenderForStorageV2"


def test_the_subscription_activity_log_lands_in_log_analytics_for_7_years(doc, dr):
    workspace = logical_id(doc, "azurerm_log_analytics_workspace")
    [setting] = [
        s for s in resources(doc, "azurerm_monitor_diagnostic_setting").values() if s["name"].endswith("activity-log")
    ]
    assert setting["target_resource_id"] == "/subscriptions/${data.azurerm_client_config.client.subscription_id}"
    assert setting["log_analytics_workspace_id"] == ref("azurerm_log_analytics_workspace", workspace, "id")
    assert {log["category"] for log in setting["enabled_log"]} >= {"Administrative", "Security", "Policy"}
    table = one(doc, "azurerm_log_analytics_workspace_table")
    assert table["name"] == "AzureActivity"
    assert table["total_retention_in_days"] == dr.activity_log_total_retention_days >= 7 * 365
    assert resources(doc, "azurerm_log_analytics_workspace")[workspace]["lifecycle"]["prevent_destroy"] is True


def test_alerts_watch_the_dr_database_and_storage_and_mail_the_receivers(doc, dr):
    # The e-mail group (the alert path's group: tests/test_alert_path.py).
    ((group_name, group),) = [
        (k, g) for k, g in resources(doc, "azurerm_monitor_action_group").items() if g.get("email_receiver")
    ]
    assert [r["email_address"] for r in group["email_receiver"]] == dr.alert_emails == ["devops@iworkz.com"]
    alerts = {a["name"]: a for a in resources(doc, "azurerm_monitor_metric_alert").values()}
    server = ref("azurerm_postgresql_flexible_server", logical_id(doc, "azurerm_postgresql_flexible_server"), "id")
    account = ref("azurerm_storage_account", logical_id(doc, "azurerm_storage_account"), "id")
    watched = {alert["scopes"][0] for alert in alerts.values()}
    assert watched == {server, account}
    down = alerts["iworkz-production-dr-pg-down"]
    assert down["criteria"] == [
        {
            "metric_namespace": "Microsoft.DBforPostgreSQL/flexibleServers",
            "metric_name": "is_db_alive",
            "aggregation": "Minimum",
            "operator": "LessThan",
            "threshold": 1,
        }
    ]
    assert all(
        a["action"][0] == {"action_group_id": ref("azurerm_monitor_action_group", group_name, "id")}
        for a in alerts.values()
    )


@pytest.mark.parametrize(
    ("patch", "field", "rule"),
    [
        ({"dr_azure": {"alert_emails": []}}, "dr_azure.alert_emails", "at least one receiver"),
        ({"dr_azure": {"defender_plans": ["Containers", "Dns"]}}, "dr_azure.defender_plans[1]", "unknown Defender"),
        ({"dr_azure": {"defender_plans": ["Containers"]}}, "dr_azure.defender_plans", "needs a written reason"),
        (
            {"dr_azure": {"activity_log_total_retention_days": 365}},
            "dr_azure.activity_log_total_retention_days",
            "2555",
        ),
    ],
)
def test_bad_dr_protection_input_stops_at_the_config_edge(tmp_path, patch, field, rule):
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, "production", patch))
    [problem] = caught.value.problems
    assert problem.field == field and rule in problem.rule, problem.render()


def test_the_standby_cache_is_private_tls_only_and_signs_in_with_entra(doc, dr):
    ((cache_id, cache),) = resources(doc, "azurerm_redis_cache").items()
    assert (cache["sku_name"], cache["family"], cache["capacity"]) == (dr.cache_sku_name, "P", dr.cache_capacity)
    assert cache["minimum_tls_version"] == "1.2" and cache["non_ssl_port_enabled"] is False
    assert cache["public_network_access_enabled"] is False
    # Entra ID only: the access keys cannot sign in, and no output names them.
    assert cache["access_keys_authentication_enabled"] is False
    assert cache["redis_configuration"]["active_directory_authentication_enabled"] is True
    assert not [name for name, out in outputs(doc).items() if "access_key" in json.dumps(out)]
    (endpoint,) = [
        body
        for body in resources(doc, "azurerm_private_endpoint").values()
        if body["private_service_connection"]["private_connection_resource_id"]
        == ref("azurerm_redis_cache", cache_id, "id")
    ]
    assert endpoint["private_service_connection"]["subresource_names"] == ["redisCache"]
    zones = {body["name"] for body in resources(doc, "azurerm_private_dns_zone").values()}
    assert "privatelink.redis.cache.windows.net" in zones


def test_a_cache_size_its_sku_does_not_offer_is_refused(tmp_path):
    patch = {"dr_azure": {"cache_sku_name": "Premium", "cache_capacity": 0}}
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, "production", patch))
    (problem,) = caught.value.problems
    assert problem.field == "dr_azure.cache_capacity" and "sizes 1-5" in problem.render()
