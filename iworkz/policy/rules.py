"""The guardrail rules, evaluated over one stack's synthesised Terraform JSON.

Rules read the synthesised document rather than the construct objects because only the
synthesised form has cdktf's tokens resolved into Terraform references
(``${aws_s3_bucket.logs_1A2B3C4D.id}``), which is what ties a bucket to its encryption
configuration, an instance to its parameter group or a subnet to its route table. The
aspect (:mod:`iworkz.policy.aspect`) collects what the document cannot tell: the
suppressions and which azurerm resource types accept tags.

Each finding names the resource's construct path, its Terraform address, the rule and the fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

StackJson = dict[str, Any]

# Rule identifiers: the first argument of iworkz.policy.suppress().
ENCRYPTION_CMK = "ENCRYPTION_CMK"
PUBLIC_IP = "PUBLIC_IP"
OPEN_INGRESS = "OPEN_INGRESS"
PUBLIC_BUCKET = "PUBLIC_BUCKET"
PUBLIC_DATABASE = "PUBLIC_DATABASE"
EKS_PUBLIC_ENDPOINT = "EKS_PUBLIC_ENDPOINT"
DELETION_PROTECTION = "DELETION_PROTECTION"
PREVENT_DESTROY = "PREVENT_DESTROY"
MANDATORY_TAGS = "MANDATORY_TAGS"
IMDSV2 = "IMDSV2"
TLS_ONLY = "TLS_ONLY"
ACCESS_LOGGING = "ACCESS_LOGGING"

RULES: dict[str, str] = {
    ENCRYPTION_CMK: "data at rest is encrypted with a customer-managed KMS key",
    PUBLIC_IP: "nothing outside a public subnet gets a public IP address",
    OPEN_INGRESS: "no security group or NSG rule admits the whole internet (0.0.0.0/0, ::/0, *, Internet)",
    PUBLIC_BUCKET: "every bucket blocks public access (all four public access block settings true)",
    PUBLIC_DATABASE: "databases and search domains are reachable only from private networks",
    EKS_PUBLIC_ENDPOINT: "a production EKS API endpoint is not open to 0.0.0.0/0",
    DELETION_PROTECTION: "stateful resources have deletion protection on",
    PREVENT_DESTROY: "stateful resources have lifecycle.prevent_destroy = true",
    MANDATORY_TAGS: "resources carry the tags Project, Environment, ManagedBy and Owner",
    IMDSV2: "instances require IMDSv2 (metadata_options.http_tokens = required)",
    TLS_ONLY: "data travels only over TLS",
    ACCESS_LOGGING: "S3 buckets log server access",
}

MANDATORY_TAG_KEYS = ("Project", "Environment", "ManagedBy", "Owner")
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
OPEN_AZURE_PREFIXES = frozenset({"*", "0.0.0.0/0", "0.0.0.0", "internet", "any", "::/0"})

# Resources that hold data: deletion protection (where the API has it) and prevent_destroy.
STATEFUL_TYPES: tuple[str, ...] = (
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_elasticache_replication_group",
    "aws_opensearch_domain",
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_dynamodb_table",
    "azurerm_postgresql_flexible_server",
    "azurerm_storage_account",
    "azurerm_key_vault",
)

_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_]+)\}$")


@dataclass(frozen=True)
class Finding:
    """One resource breaking one rule."""

    stack: str
    path: str
    address: str
    rule: str
    attribute: str
    value: object
    problem: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "path": self.path,
            "address": self.address,
            "rule": self.rule,
            "attribute": self.attribute,
            "value": self.value,
            "problem": self.problem,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: dict[str, Any]
    path: str

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


@dataclass
class StackDocument:
    """A synthesised stack with lookups the rules share."""

    name: str
    doc: StackJson
    taggable_types: frozenset[str] = frozenset()
    by_type: dict[str, list[Resource]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for resource_type, instances in (self.doc.get("resource") or {}).items():
            for name, body in instances.items():
                path = ((body.get("//") or {}).get("metadata") or {}).get("path") or f"{self.name}/{name}"
                self.by_type.setdefault(resource_type, []).append(Resource(resource_type, name, body, path))

    def of(self, resource_type: str) -> list[Resource]:
        return self.by_type.get(resource_type, [])

    def all(self) -> Iterator[Resource]:
        for instances in self.by_type.values():
            yield from instances

    @property
    def environment(self) -> str | None:
        for provider in blocks((self.doc.get("provider") or {}).get("aws")):
            for default in blocks(provider.get("default_tags")):
                tags = default.get("tags") or {}
                if tags.get("Environment"):
                    return str(tags["Environment"])
        return None


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block as a list of dicts (cdktf writes single blocks as objects, others as lists)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def first(value: Any) -> dict[str, Any]:
    found = blocks(value)
    return found[0] if found else {}


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def is_set(value: Any) -> bool:
    return value is not None and value != "" and value != []


def referenced(value: Any, resource_type: str) -> str | None:
    """The logical name of ``resource_type`` that ``${type.name.attr}`` points at."""
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        if match and match.group(1) == resource_type:
            return match.group(2)
    return None


Check = Callable[[StackDocument], Iterable[Finding]]
CHECKS: list[Check] = []


def check(function: Check) -> Check:
    CHECKS.append(function)
    return function


def finding(
    stack: StackDocument, resource: Resource, rule: str, attribute: str, value: object, problem: str, fix: str
) -> Finding:
    return Finding(stack.name, resource.path, resource.address, rule, attribute, value, problem, fix)


def evaluate(stack: StackDocument) -> list[Finding]:
    """Every finding of every rule in one stack, in a stable order."""
    found = [item for function in CHECKS for item in function(stack)]
    return sorted(found, key=lambda f: (f.path, f.rule, f.attribute))


# --- encryption at rest with customer-managed keys -------------------------------------------

_KMS_ATTRIBUTE: dict[str, str] = {
    "aws_cloudwatch_log_group": "kms_key_id",
    "aws_secretsmanager_secret": "kms_key_id",
    "aws_backup_vault": "kms_key_arn",
    "aws_sns_topic": "kms_master_key_id",
}


@check
def encryption_cmk(stack: StackDocument) -> Iterator[Finding]:
    def missing(resource: Resource, attribute: str, value: object, fix: str) -> Finding:
        return finding(stack, resource, ENCRYPTION_CMK, attribute, value, RULES[ENCRYPTION_CMK], fix)

    for resource_type, attribute in _KMS_ATTRIBUTE.items():
        for r in stack.of(resource_type):
            if not is_set(r.get(attribute)):
                yield missing(r, attribute, r.get(attribute), f"set {attribute} to a customer-managed KMS key ARN")
    for r in [*stack.of("aws_db_instance"), *stack.of("aws_rds_cluster")]:
        if not is_set(r.get("replicate_source_db")) and not is_true(r.get("storage_encrypted")):
            yield missing(r, "storage_encrypted", r.get("storage_encrypted"), "set storage_encrypted = true")
        if not is_set(r.get("kms_key_id")):
            yield missing(r, "kms_key_id", r.get("kms_key_id"), "set kms_key_id to a customer-managed KMS key ARN")
        if is_true(r.get("performance_insights_enabled")) and not is_set(r.get("performance_insights_kms_key_id")):
            yield missing(
                r,
                "performance_insights_kms_key_id",
                None,
                "set performance_insights_kms_key_id to a customer-managed KMS key ARN",
            )
    for r in stack.of("aws_elasticache_replication_group"):
        if not is_true(r.get("at_rest_encryption_enabled")):
            value = r.get("at_rest_encryption_enabled")
            yield missing(r, "at_rest_encryption_enabled", value, "set at_rest_encryption_enabled = true")
        if not is_set(r.get("kms_key_id")):
            yield missing(r, "kms_key_id", r.get("kms_key_id"), "set kms_key_id to a customer-managed KMS key ARN")
    for r in stack.of("aws_opensearch_domain"):
        rest = first(r.get("encrypt_at_rest"))
        if not is_true(rest.get("enabled")) or not is_set(rest.get("kms_key_id")):
            yield missing(
                r,
                "encrypt_at_rest",
                rest or None,
                "set encrypt_at_rest { enabled = true, kms_key_id = <customer-managed key ARN> }",
            )
    for r in stack.of("aws_dynamodb_table"):
        sse = first(r.get("server_side_encryption"))
        if not is_true(sse.get("enabled")) or not is_set(sse.get("kms_key_arn")):
            yield missing(
                r,
                "server_side_encryption",
                sse or None,
                "set server_side_encryption { enabled = true, kms_key_arn = <customer-managed key ARN> }",
            )
    for r in stack.of("aws_eks_cluster"):
        configs = blocks(r.get("encryption_config"))
        covered = any(
            "secrets" in (c.get("resources") or []) and is_set(first(c.get("provider")).get("key_arn")) for c in configs
        )
        if not covered:
            yield missing(
                r,
                "encryption_config",
                configs or None,
                'add encryption_config { resources = ["secrets"], provider { key_arn = <customer-managed key ARN> } }',
            )
    for r in stack.of("aws_ebs_volume"):
        if not is_true(r.get("encrypted")) or not is_set(r.get("kms_key_id")):
            yield missing(r, "kms_key_id", r.get("kms_key_id"), "set encrypted = true and kms_key_id")
    for r in stack.of("aws_launch_template"):
        mappings = blocks(r.get("block_device_mappings"))
        volumes = [first(m.get("ebs")) for m in mappings if m.get("ebs") is not None]
        if not volumes:
            yield missing(
                r,
                "block_device_mappings",
                None,
                "add block_device_mappings for the root volume with ebs { encrypted = true, kms_key_id = <key ARN> }",
            )
        for ebs in volumes:
            if not is_true(ebs.get("encrypted")) or not is_set(ebs.get("kms_key_id")):
                yield missing(
                    r,
                    "block_device_mappings.ebs",
                    ebs,
                    "set ebs { encrypted = true, kms_key_id = <customer-managed key ARN> }",
                )
    for bucket, sse in _bucket_encryption(stack):
        algorithm = sse.get("sse_algorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse") or not is_set(sse.get("kms_master_key_id")):
            yield missing(
                bucket,
                "server_side_encryption_configuration",
                sse or None,
                "add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = aws:kms and "
                "kms_master_key_id = <customer-managed key ARN> (SecureBucket does this when given kms_key_arn)",
            )


def _bucket_encryption(stack: StackDocument) -> Iterator[tuple[Resource, dict[str, Any]]]:
    configs = _for_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration")
    for bucket in stack.of("aws_s3_bucket"):
        rules = [rule for config in configs.get(bucket.name, []) for rule in blocks(config.get("rule"))]
        inline = first(bucket.get("server_side_encryption_configuration"))
        rules.extend(blocks(inline.get("rule")))
        defaults = [first(rule.get("apply_server_side_encryption_by_default")) for rule in rules]
        yield bucket, (defaults[0] if defaults else {})


def _for_bucket(stack: StackDocument, satellite_type: str) -> dict[str, list[Resource]]:
    """Satellite resources (encryption, policy, ...) by the logical name of their bucket."""
    by_literal_name = {str(b.get("bucket")): b.name for b in stack.of("aws_s3_bucket") if is_set(b.get("bucket"))}
    found: dict[str, list[Resource]] = {}
    for satellite in stack.of(satellite_type):
        value = satellite.get("bucket")
        name = referenced(value, "aws_s3_bucket") or by_literal_name.get(str(value))
        if name is not None:
            found.setdefault(name, []).append(satellite)
    return found


# --- no public exposure ------------------------------------------------------------------------


@check
def public_ip(stack: StackDocument) -> Iterator[Finding]:
    public_subnets = _public_subnets(stack)
    for r in stack.of("aws_subnet"):
        if is_true(r.get("map_public_ip_on_launch")) and r.name not in public_subnets:
            yield finding(
                stack,
                r,
                PUBLIC_IP,
                "map_public_ip_on_launch",
                True,
                "a subnet without a route to an internet gateway hands out public IP addresses",
                "set map_public_ip_on_launch = false (only public subnets may map public IPs)",
            )
    for r in stack.of("aws_instance"):
        if is_true(r.get("associate_public_ip_address")):
            yield finding(
                stack,
                r,
                PUBLIC_IP,
                "associate_public_ip_address",
                True,
                RULES[PUBLIC_IP],
                "set associate_public_ip_address = false; reach instances through SSM or a load balancer",
            )
    for r in stack.of("aws_launch_template"):
        for interface in blocks(r.get("network_interfaces")):
            if is_true(interface.get("associate_public_ip_address")):
                yield finding(
                    stack,
                    r,
                    PUBLIC_IP,
                    "network_interfaces.associate_public_ip_address",
                    True,
                    RULES[PUBLIC_IP],
                    "set associate_public_ip_address = false",
                )


def _public_subnets(stack: StackDocument) -> set[str]:
    """Subnets associated with a route table that routes to an internet gateway."""
    public_tables = set()
    for table in stack.of("aws_route_table"):
        if any(referenced(route.get("gateway_id"), "aws_internet_gateway") for route in blocks(table.get("route"))):
            public_tables.add(table.name)
    for route in stack.of("aws_route"):
        table_name = referenced(route.get("route_table_id"), "aws_route_table")
        if table_name and referenced(route.get("gateway_id"), "aws_internet_gateway"):
            public_tables.add(table_name)
    subnets = set()
    for association in stack.of("aws_route_table_association"):
        table_name = referenced(association.get("route_table_id"), "aws_route_table")
        subnet_name = referenced(association.get("subnet_id"), "aws_subnet")
        if table_name in public_tables and subnet_name:
            subnets.add(subnet_name)
    return subnets


@check
def open_ingress(stack: StackDocument) -> Iterator[Finding]:
    fix = "allow only the sources that need access (a VPC CIDR, a prefix list or a security group)"

    def open_cidrs(rule: dict[str, Any]) -> list[str]:
        cidrs = [*(rule.get("cidr_blocks") or []), *(rule.get("ipv6_cidr_blocks") or [])]
        return [c for c in cidrs if c in OPEN_CIDRS]

    for r in stack.of("aws_security_group"):
        for rule in blocks(r.get("ingress")):
            if open_cidrs(rule):
                yield finding(stack, r, OPEN_INGRESS, "ingress.cidr_blocks", open_cidrs(rule), RULES[OPEN_INGRESS], fix)
    for r in stack.of("aws_security_group_rule"):
        if r.get("type") == "ingress" and open_cidrs(r.body):
            yield finding(stack, r, OPEN_INGRESS, "cidr_blocks", open_cidrs(r.body), RULES[OPEN_INGRESS], fix)
    for r in stack.of("aws_vpc_security_group_ingress_rule"):
        for attribute in ("cidr_ipv4", "cidr_ipv6"):
            if r.get(attribute) in OPEN_CIDRS:
                yield finding(stack, r, OPEN_INGRESS, attribute, r.get(attribute), RULES[OPEN_INGRESS], fix)

    def open_azure(rule: dict[str, Any]) -> list[str]:
        if str(rule.get("direction", "")).lower() != "inbound" or str(rule.get("access", "")).lower() != "allow":
            return []
        prefixes = [rule.get("source_address_prefix"), *(rule.get("source_address_prefixes") or [])]
        return [str(p) for p in prefixes if isinstance(p, str) and p.lower() in OPEN_AZURE_PREFIXES]

    for r in stack.of("azurerm_network_security_group"):
        for rule in blocks(r.get("security_rule")):
            if open_azure(rule):
                yield finding(
                    stack,
                    r,
                    OPEN_INGRESS,
                    "security_rule.source_address_prefix",
                    open_azure(rule),
                    RULES[OPEN_INGRESS],
                    fix,
                )
    for r in stack.of("azurerm_network_security_rule"):
        if open_azure(r.body):
            yield finding(stack, r, OPEN_INGRESS, "source_address_prefix", open_azure(r.body), RULES[OPEN_INGRESS], fix)


_PUBLIC_ACCESS_SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


@check
def public_bucket(stack: StackDocument) -> Iterator[Finding]:
    blocks_by_bucket = _for_bucket(stack, "aws_s3_bucket_public_access_block")
    acls_by_bucket = _for_bucket(stack, "aws_s3_bucket_acl")
    for bucket in stack.of("aws_s3_bucket"):
        settings = blocks_by_bucket.get(bucket.name, [])
        if not any(all(is_true(pab.get(key)) for key in _PUBLIC_ACCESS_SETTINGS) for pab in settings):
            yield finding(
                stack,
                bucket,
                PUBLIC_BUCKET,
                "aws_s3_bucket_public_access_block",
                [{key: pab.get(key) for key in _PUBLIC_ACCESS_SETTINGS} for pab in settings] or None,
                RULES[PUBLIC_BUCKET],
                "add an aws_s3_bucket_public_access_block with all four settings true (SecureBucket does this)",
            )
        for acl in acls_by_bucket.get(bucket.name, []):
            if str(acl.get("acl", "")).startswith("public"):
                yield finding(
                    stack, bucket, PUBLIC_BUCKET, "acl", acl.get("acl"), RULES[PUBLIC_BUCKET], "use a private ACL"
                )
    for r in stack.of("azurerm_storage_account"):
        if not is_false(r.get("allow_nested_items_to_be_public")):
            yield finding(
                stack,
                r,
                PUBLIC_BUCKET,
                "allow_nested_items_to_be_public",
                r.get("allow_nested_items_to_be_public"),
                "blobs can be made public (azurerm defaults this to true)",
                "set allow_nested_items_to_be_public = false",
            )


@check
def public_database(stack: StackDocument) -> Iterator[Finding]:
    for resource_type in ("aws_db_instance", "aws_rds_cluster_instance"):
        for r in stack.of(resource_type):
            if is_true(r.get("publicly_accessible")):
                yield finding(
                    stack,
                    r,
                    PUBLIC_DATABASE,
                    "publicly_accessible",
                    True,
                    RULES[PUBLIC_DATABASE],
                    "set publicly_accessible = false and reach the database from the VPC",
                )
    for r in stack.of("aws_opensearch_domain"):
        if not first(r.get("vpc_options")).get("subnet_ids"):
            yield finding(
                stack,
                r,
                PUBLIC_DATABASE,
                "vpc_options",
                r.get("vpc_options"),
                "a domain without vpc_options has a public endpoint",
                "set vpc_options { subnet_ids, security_group_ids } to place the domain in private subnets",
            )
    for r in stack.of("azurerm_postgresql_flexible_server"):
        if not is_false(r.get("public_network_access_enabled")):
            yield finding(
                stack,
                r,
                PUBLIC_DATABASE,
                "public_network_access_enabled",
                r.get("public_network_access_enabled"),
                "the server accepts connections from the internet (azurerm defaults this to true)",
                "set public_network_access_enabled = false and use delegated_subnet_id + private_dns_zone_id",
            )


@check
def eks_public_endpoint(stack: StackDocument) -> Iterator[Finding]:
    if stack.environment != "production":
        return
    for r in stack.of("aws_eks_cluster"):
        vpc_config = first(r.get("vpc_config"))
        if is_false(vpc_config.get("endpoint_public_access")):
            continue
        cidrs = vpc_config.get("public_access_cidrs")
        if not cidrs or any(c in OPEN_CIDRS for c in cidrs):
            yield finding(
                stack,
                r,
                EKS_PUBLIC_ENDPOINT,
                "vpc_config.public_access_cidrs",
                cidrs,
                "the production API endpoint is public and open to 0.0.0.0/0 (the provider's default)",
                "set vpc_config.endpoint_public_access = false, or public_access_cidrs to the operators' CIDRs",
            )


# --- deletion protection -------------------------------------------------------------------------

_DELETION_PROTECTION_ATTRIBUTE = {
    "aws_db_instance": "deletion_protection",
    "aws_rds_cluster": "deletion_protection",
    "aws_dynamodb_table": "deletion_protection_enabled",
    "azurerm_key_vault": "purge_protection_enabled",
}


@check
def deletion_protection(stack: StackDocument) -> Iterator[Finding]:
    for resource_type in STATEFUL_TYPES:
        for r in stack.of(resource_type):
            if not is_true(first(r.get("lifecycle")).get("prevent_destroy")):
                yield finding(
                    stack,
                    r,
                    PREVENT_DESTROY,
                    "lifecycle.prevent_destroy",
                    first(r.get("lifecycle")).get("prevent_destroy"),
                    f"{RULES[PREVENT_DESTROY]} ({resource_type} holds data)",
                    "pass lifecycle=TerraformResourceLifecycle(prevent_destroy=True)",
                )
            attribute = _DELETION_PROTECTION_ATTRIBUTE.get(resource_type)
            if attribute and not is_true(r.get(attribute)):
                yield finding(
                    stack,
                    r,
                    DELETION_PROTECTION,
                    attribute,
                    r.get(attribute),
                    RULES[DELETION_PROTECTION],
                    f"set {attribute} = true",
                )
    for r in stack.of("aws_s3_bucket"):
        if is_true(r.get("force_destroy")):
            yield finding(
                stack,
                r,
                DELETION_PROTECTION,
                "force_destroy",
                True,
                "force_destroy deletes every object with the bucket",
                "set force_destroy = false",
            )
    for r in [*stack.of("aws_db_instance"), *stack.of("aws_rds_cluster")]:
        if not is_set(r.get("replicate_source_db")) and is_true(r.get("skip_final_snapshot")):
            yield finding(
                stack,
                r,
                DELETION_PROTECTION,
                "skip_final_snapshot",
                True,
                "deleting the database would leave no final snapshot",
                "set skip_final_snapshot = false and a final_snapshot_identifier",
            )


# --- mandatory tags ------------------------------------------------------------------------------


@check
def mandatory_tags(stack: StackDocument) -> Iterator[Finding]:
    for index, provider in enumerate(blocks((stack.doc.get("provider") or {}).get("aws"))):
        tags: dict[str, Any] = {}
        for default in blocks(provider.get("default_tags")):
            tags.update(default.get("tags") or {})
        missing = [key for key in MANDATORY_TAG_KEYS if not tags.get(key)]
        if missing:
            alias = provider.get("alias") or "aws"
            address = f"provider.aws.{alias}" if provider.get("alias") else "provider.aws"
            yield Finding(
                stack.name,
                f"{stack.name}/provider[{alias}#{index}]",
                address,
                MANDATORY_TAGS,
                "default_tags.tags",
                sorted(tags),
                f"the AWS provider's default_tags lack {', '.join(missing)}",
                "create AWS providers through stacks.aws_providers.AwsProviders (default_tags from config)",
            )
    for resource_type in sorted(stack.taggable_types):
        for r in stack.of(resource_type):
            tags = r.get("tags") or {}
            missing = [key for key in MANDATORY_TAG_KEYS if not (isinstance(tags, dict) and tags.get(key))]
            if missing:
                yield finding(
                    stack,
                    r,
                    MANDATORY_TAGS,
                    "tags",
                    tags or None,
                    f"{RULES[MANDATORY_TAGS]}; missing {', '.join(missing)}",
                    "pass tags= with Project, Environment, ManagedBy and Owner (the stack's default tags)",
                )


# --- IMDSv2 --------------------------------------------------------------------------------------


@check
def imdsv2(stack: StackDocument) -> Iterator[Finding]:
    for r in [*stack.of("aws_launch_template"), *stack.of("aws_instance")]:
        tokens = first(r.get("metadata_options")).get("http_tokens")
        if tokens != "required":
            yield finding(
                stack,
                r,
                IMDSV2,
                "metadata_options.http_tokens",
                tokens,
                RULES[IMDSV2],
                'set metadata_options { http_tokens = "required", http_put_response_hop_limit = 2 }',
            )
    for r in stack.of("aws_eks_node_group"):
        if not first(r.get("launch_template")):
            yield finding(
                stack,
                r,
                IMDSV2,
                "launch_template",
                None,
                "a node group without a launch template cannot enforce IMDSv2 nor encrypt its volumes with a CMK",
                "give the node group a launch_template whose metadata_options require http_tokens",
            )


# --- TLS only ------------------------------------------------------------------------------------


@check
def tls_only(stack: StackDocument) -> Iterator[Finding]:
    policies = _for_bucket(stack, "aws_s3_bucket_policy")
    for bucket in stack.of("aws_s3_bucket"):
        if not any(_denies_insecure_transport(stack, policy.get("policy")) for policy in policies.get(bucket.name, [])):
            yield finding(
                stack,
                bucket,
                TLS_ONLY,
                "aws_s3_bucket_policy",
                None,
                "no bucket policy denies requests with aws:SecureTransport = false",
                "add a bucket policy statement Deny s3:* when Bool aws:SecureTransport = false (SecureBucket does)",
            )
    groups = {g.name: g for g in stack.of("aws_db_parameter_group")}
    groups_by_literal = {str(g.get("name")): g for g in groups.values() if is_set(g.get("name"))}
    for r in stack.of("aws_db_instance"):
        value = r.get("parameter_group_name")
        group = groups.get(referenced(value, "aws_db_parameter_group") or "") or groups_by_literal.get(str(value))
        parameters = {str(p.get("name")): str(p.get("value")) for p in blocks(group.get("parameter"))} if group else {}
        if parameters.get("rds.force_ssl") != "1":
            yield finding(
                stack,
                r,
                TLS_ONLY,
                "parameter_group_name",
                value,
                "the instance's parameter group does not set rds.force_ssl = 1",
                "use an aws_db_parameter_group in this stack with parameter rds.force_ssl = 1",
            )
    for r in stack.of("aws_elasticache_replication_group"):
        if not is_true(r.get("transit_encryption_enabled")) or r.get("transit_encryption_mode") == "preferred":
            yield finding(
                stack,
                r,
                TLS_ONLY,
                "transit_encryption_enabled",
                r.get("transit_encryption_enabled"),
                RULES[TLS_ONLY],
                'set transit_encryption_enabled = true (transit_encryption_mode "required")',
            )
    for r in stack.of("aws_opensearch_domain"):
        options = first(r.get("domain_endpoint_options"))
        policy = str(options.get("tls_security_policy", ""))
        if not is_true(options.get("enforce_https")) or "TLS-1-0" in policy:
            yield finding(
                stack,
                r,
                TLS_ONLY,
                "domain_endpoint_options",
                options or None,
                RULES[TLS_ONLY],
                'set domain_endpoint_options { enforce_https = true, tls_security_policy = "Policy-Min-TLS-1-2-2019-07" }',
            )
        if not is_true(first(r.get("node_to_node_encryption")).get("enabled")):
            yield finding(
                stack,
                r,
                TLS_ONLY,
                "node_to_node_encryption",
                r.get("node_to_node_encryption"),
                RULES[TLS_ONLY],
                "set node_to_node_encryption { enabled = true }",
            )
    for r in stack.of("azurerm_storage_account"):
        if r.get("min_tls_version") not in ("TLS1_2", "TLS1_3") or is_false(r.get("https_traffic_only_enabled")):
            yield finding(
                stack,
                r,
                TLS_ONLY,
                "min_tls_version",
                r.get("min_tls_version"),
                RULES[TLS_ONLY],
                'set min_tls_version = "TLS1_2" and keep https_traffic_only_enabled = true',
            )


def _denies_insecure_transport(stack: StackDocument, policy: Any) -> bool:
    document_name = None
    if isinstance(policy, str):
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}", policy)
        document_name = match.group(1) if match else None
    if document_name is not None:
        document = ((stack.doc.get("data") or {}).get("aws_iam_policy_document") or {}).get(document_name) or {}
        for statement in blocks(document.get("statement")):
            for condition in blocks(statement.get("condition")):
                if (
                    statement.get("effect") == "Deny"
                    and condition.get("variable") == "aws:SecureTransport"
                    and [str(v).lower() for v in condition.get("values") or []] == ["false"]
                ):
                    return True
        return False
    try:
        parsed = json.loads(policy) if isinstance(policy, str) else policy
    except json.JSONDecodeError:
        return False
    if not isinstance(parsed, dict):
        return False
    statements = parsed.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if str(condition.get("aws:SecureTransport", "")).lower() == "false":
            return True
    return False


# --- access logging ------------------------------------------------------------------------------


@check
def access_logging(stack: StackDocument) -> Iterator[Finding]:
    logging = _for_bucket(stack, "aws_s3_bucket_logging")
    for bucket in stack.of("aws_s3_bucket"):
        if bucket.name not in logging and not first(bucket.get("logging")):
            yield finding(
                stack,
                bucket,
                ACCESS_LOGGING,
                "aws_s3_bucket_logging",
                None,
                RULES[ACCESS_LOGGING],
                "add an aws_s3_bucket_logging to an access-log bucket (SecureBucket access_log_bucket)",
            )
