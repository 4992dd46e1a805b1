"""A default lives in one place: a configuration field that feeds a construct prop defaults to
what the prop defaults to (or is left out), never to something else; and no shipped or default
configuration holds a placeholder range."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from iworkz.config import ConfigError, load_settings
from iworkz.config.data import OpenSearchConfig, PostgresConfig, RedisConfig
from iworkz.config.dr_azure import AksPoolConfig, DrAzureConfig
from iworkz.config.edge import CloudflareConfig
from iworkz.config.eks import AccessPrincipal as AccessPrincipalConfig
from iworkz.config.eks import EksConfig, NodeGroupConfig
from iworkz.config.network import NetworkConfig
from iworkz_constructs.aks_cluster import AksClusterProps, AksNodePoolSpec
from iworkz_constructs.azure_postgres import AzurePostgresProps
from iworkz_constructs.azure_redis import AzureRedisProps
from iworkz_constructs.cloudflare_edge import CloudflareEdgeProps
from iworkz_constructs.eks_cluster import AccessPrincipal, EksClusterProps
from iworkz_constructs.node_group import NodeGroupProps
from iworkz_constructs.opensearch import OpenSearchProps
from iworkz_constructs.postgres import PostgresProps
from iworkz_constructs.redis import RedisProps
from iworkz_constructs.vpc import VpcProps
from tests.configs import ENVIRONMENTS, write_config

# (config model, field) -> (props class, prop): the config field is passed as that prop.
FEEDS = {
    (EksConfig, "endpoint_public_access"): (EksClusterProps, "endpoint_public_access"),
    (EksConfig, "public_access_cidrs"): (EksClusterProps, "public_access_cidrs"),
    (EksConfig, "log_retention_days"): (EksClusterProps, "log_retention_days"),
    (EksConfig, "metadata_hop_limit"): (NodeGroupProps, "metadata_hop_limit"),
    (AccessPrincipalConfig, "policy"): (AccessPrincipal, "policy"),
    (NodeGroupConfig, "ami_type"): (NodeGroupProps, "ami_type"),
    (NodeGroupConfig, "capacity_type"): (NodeGroupProps, "capacity_type"),
    (NodeGroupConfig, "disk_size_gb"): (NodeGroupProps, "disk_size_gb"),
    (NodeGroupConfig, "max_unavailable_percentage"): (NodeGroupProps, "max_unavailable_percentage"),
    (NodeGroupConfig, "labels"): (NodeGroupProps, "labels"),
    (NodeGroupConfig, "taints"): (NodeGroupProps, "taints"),
    (NetworkConfig, "flow_log_retention_days"): (VpcProps, "flow_log_retention_days"),
    (PostgresConfig, "engine_version"): (PostgresProps, "engine_version"),
    (PostgresConfig, "instance_class"): (PostgresProps, "instance_class"),
    (PostgresConfig, "allocated_storage_gb"): (PostgresProps, "allocated_storage_gb"),
    (PostgresConfig, "max_allocated_storage_gb"): (PostgresProps, "max_allocated_storage_gb"),
    (PostgresConfig, "multi_az"): (PostgresProps, "multi_az"),
    (PostgresConfig, "read_replicas"): (PostgresProps, "read_replicas"),
    (PostgresConfig, "backup_retention_days"): (PostgresProps, "backup_retention_days"),
    (PostgresConfig, "backup_window"): (PostgresProps, "backup_window"),
    (PostgresConfig, "maintenance_window"): (PostgresProps, "maintenance_window"),
    (PostgresConfig, "database_name"): (PostgresProps, "database_name"),
    (PostgresConfig, "master_username"): (PostgresProps, "master_username"),
    (PostgresConfig, "log_retention_days"): (PostgresProps, "log_retention_days"),
    (PostgresConfig, "performance_insights_retention_days"): (PostgresProps, "performance_insights_retention_days"),
    (RedisConfig, "engine_version"): (RedisProps, "engine_version"),
    (RedisConfig, "node_type"): (RedisProps, "node_type"),
    (RedisConfig, "shards"): (RedisProps, "shards"),
    (RedisConfig, "replicas_per_shard"): (RedisProps, "replicas_per_shard"),
    (RedisConfig, "snapshot_retention_days"): (RedisProps, "snapshot_retention_days"),
    (RedisConfig, "log_retention_days"): (RedisProps, "log_retention_days"),
    (OpenSearchConfig, "engine_version"): (OpenSearchProps, "engine_version"),
    (OpenSearchConfig, "instance_type"): (OpenSearchProps, "instance_type"),
    (OpenSearchConfig, "instance_count"): (OpenSearchProps, "instance_count"),
    (OpenSearchConfig, "master_instance_type"): (OpenSearchProps, "master_instance_type"),
    (OpenSearchConfig, "master_count"): (OpenSearchProps, "master_count"),
    (OpenSearchConfig, "volume_size_gb"): (OpenSearchProps, "volume_size_gb"),
    (OpenSearchConfig, "log_retention_days"): (OpenSearchProps, "log_retention_days"),
    (OpenSearchConfig, "warm_count"): (OpenSearchProps, "warm_count"),
    (OpenSearchConfig, "warm_instance_type"): (OpenSearchProps, "warm_instance_type"),
    (OpenSearchConfig, "cold_storage"): (OpenSearchProps, "cold_storage"),
    (AksPoolConfig, "max_pods"): (AksNodePoolSpec, "max_pods"),
    (AksPoolConfig, "os_disk_size_gb"): (AksNodePoolSpec, "os_disk_size_gb"),
    (DrAzureConfig, "cache_sku_name"): (AzureRedisProps, "sku_name"),
    (DrAzureConfig, "cache_capacity"): (AzureRedisProps, "capacity"),
    (DrAzureConfig, "aks_private_cluster"): (AksClusterProps, "private_cluster"),
    (DrAzureConfig, "aks_authorized_ip_ranges"): (AksClusterProps, "authorized_ip_ranges"),
    (DrAzureConfig, "aks_admin_group_object_ids"): (AksClusterProps, "admin_group_object_ids"),
    (DrAzureConfig, "aks_network_policy"): (AksClusterProps, "network_policy"),
    (DrAzureConfig, "aks_automatic_upgrade_channel"): (AksClusterProps, "automatic_upgrade_channel"),
    (DrAzureConfig, "aks_node_os_upgrade_channel"): (AksClusterProps, "node_os_upgrade_channel"),
    (DrAzureConfig, "postgres_sku_name"): (AzurePostgresProps, "sku_name"),
    (DrAzureConfig, "postgres_storage_mb"): (AzurePostgresProps, "storage_mb"),
    (DrAzureConfig, "postgres_zone_redundant"): (AzurePostgresProps, "zone_redundant"),
    (DrAzureConfig, "postgres_backup_retention_days"): (AzurePostgresProps, "backup_retention_days"),
    (CloudflareConfig, "min_tls_version"): (CloudflareEdgeProps, "min_tls_version"),
}


def _config_default(model: type[BaseModel], name: str) -> object:
    field = model.model_fields[name]
    return field.default_factory() if field.default is PydanticUndefined else field.default  # type: ignore[call-arg,misc]


def _props_default(props: type, name: str) -> object:
    field = next(f for f in dataclasses.fields(props) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    assert field.default_factory is not dataclasses.MISSING, f"{props.__name__}.{name} has no default"
    return field.default_factory()


def _same(config_value: object, props_value: object) -> bool:
    if isinstance(config_value, list | tuple) and isinstance(props_value, list | tuple):
        return list(config_value) == list(props_value)
    return config_value == props_value


@pytest.mark.parametrize(("source", "target"), FEEDS.items(), ids=[f"{m.__name__}.{f}" for m, f in FEEDS])
def test_a_config_default_is_the_construct_default(source, target):
    config_value, props_value = _config_default(*source), _props_default(*target)
    assert _same(config_value, props_value), (
        f"{source[0].__name__}.{source[1]} defaults to {config_value!r} but feeds "
        f"{target[0].__name__}.{target[1]}, which defaults to {props_value!r}"
    )


PLACEHOLDER_FIELDS: list[dict[str, dict[str, object]]] = [
    {"eks": {"endpoint_public_access": True, "public_access_cidrs": ["{cidr}"]}},
    {"dr_azure": {"aks_private_cluster": False, "aks_authorized_ip_ranges": ["{cidr}"]}},
    {"dr_azure": {"deployer_ip_ranges": ["{cidr}"]}},
]


def _with(patch: dict[str, dict[str, object]], cidr: str) -> dict[str, dict[str, object]]:
    return {
        section: {k: [cidr] if v == ["{cidr}"] else v for k, v in values.items()} for section, values in patch.items()
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("cidr", ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"])
@pytest.mark.parametrize("patch", PLACEHOLDER_FIELDS, ids=["eks", "aks", "key-vault"])
def test_documentation_ranges_are_refused_everywhere(tmp_path, environment, cidr, patch):
    with pytest.raises(ConfigError, match="documentation range") as caught:
        load_settings(write_config(tmp_path, environment, _with(patch, cidr)))
    assert "real egress CIDRs" in caught.value.render()


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "198.18.0.0/15"])
def test_other_placeholder_and_private_ranges_are_refused(tmp_path, cidr):
    with pytest.raises(ConfigError, match="not a public"):
        load_settings(write_config(tmp_path, "staging", _with(PLACEHOLDER_FIELDS[0], cidr)))


def test_an_operator_opts_into_public_access_with_real_ranges(tmp_path):
    patch = {
        "eks": {"endpoint_public_access": True, "public_access_cidrs": ["52.95.110.0/24"]},
        "dr_azure": {"aks_private_cluster": False, "aks_authorized_ip_ranges": ["52.95.110.0/24"]},
    }
    env = load_settings(write_config(tmp_path, "production", patch)).environments["production"]
    assert env.eks.public_access_cidrs == env.dr_azure.aks_authorized_ip_ranges == ["52.95.110.0/24"]


def test_no_shipped_configuration_is_reachable_from_outside(settings):
    for env in settings.environments.values():
        assert env.eks.endpoint_public_access is False and env.eks.public_access_cidrs == []
        assert env.dr_azure.aks_private_cluster is True and env.dr_azure.aks_authorized_ip_ranges == []
        assert env.dr_azure.deployer_ip_ranges == []
