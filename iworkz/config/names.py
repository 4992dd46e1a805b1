"""Names the stacks derive from ``project`` and the environment, checked against each service's limits.

The stacks name resources ``<project>-<environment>-<suffix>`` (seed naming). A long project or
environment name can push a derived name past what the service accepts, which AWS or Azure
would only refuse at apply time; :func:`derived_name_problems` refuses it at the edge. A test
compares :func:`derived_names` with every such name in the synthesised stacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iworkz.config.ai import (
    artifact_bucket,
    data_capture_bucket,
    guardrail_name,
    invocation_log_bucket,
    matching_endpoint,
)
from iworkz.config.data import ACCESS_LOGS_BUCKET
from iworkz.config.edge import load_balancer_name
from iworkz.errors import Problem

if TYPE_CHECKING:
    from iworkz.config import CommonConfig, EnvironmentConfig


@dataclass(frozen=True)
class NameRule:
    service: str
    max_length: int
    pattern: re.Pattern[str]
    charset: str


_HYPHENATED = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
NAME_RULES = {
    # ElastiCache: replication group ids of 1-40 characters (iworkz_constructs.redis keeps them
    # to 31 so that the member clusters' ids, <id>-0001-001, stay within 40), user ids of 1-40.
    "elasticache_replication_group": NameRule(
        "ElastiCache replication group id", 31, _HYPHENATED, "letters, digits, '-'"
    ),
    "elasticache_user": NameRule("ElastiCache user id", 40, _HYPHENATED, "letters, digits, '-'"),
    "rds_instance": NameRule("RDS DB instance identifier", 63, _HYPHENATED, "letters, digits, single '-'"),
    "opensearch_domain": NameRule("OpenSearch domain name", 28, _HYPHENATED, "lower-case letters, digits, '-'"),
    "s3_bucket": NameRule(
        "S3 bucket name", 63, re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"), "lower-case letters, digits, '-', '.'"
    ),
    "iam_role": NameRule("IAM role name", 64, re.compile(r"^[\w+=,.@-]+$"), "letters, digits, '+=,.@_-'"),
    "eks_cluster": NameRule("EKS cluster name", 100, re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*$"), "letters, digits, '-'"),
    # The ALB the workloads' Gateway gets (the edge stack finds it by this name; its web ACL shares it).
    "load_balancer": NameRule(
        "ALB name", 32, re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$"), "letters, digits, '-'"
    ),
    "aks_cluster": NameRule(
        "AKS cluster name", 63, re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9]$"), "letters, digits, '-', '_'"
    ),
    "azure_postgres": NameRule("Azure PostgreSQL server name", 63, _HYPHENATED, "lower-case letters, digits, '-'"),
    "sagemaker_endpoint": NameRule(
        "SageMaker endpoint name", 63, re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"), "letters, digits, '-'"
    ),
    "bedrock_guardrail": NameRule(
        "Bedrock guardrail name", 50, re.compile(r"^[0-9a-zA-Z_-]+$"), "letters, digits, '-', '_'"
    ),
}

# The IAM roles every environment has, by suffix (their stacks: eks, network, data (with the AWS
# Backup role), monitoring, platform, workloads, alerts); tests/test_config_edge.py compares them
# with the synth.
ROLE_SUFFIXES = (
    "cluster-admin",
    "eks-cluster",
    "eks-node",
    "vpc-cni",
    "ebs-csi-driver",
    "fargate-default",
    "vpc-flow-logs",
    "search-admin",
    "backup",
    "postgres-monitoring",
    "fluent-bit",
    "jaeger",
    "redis-exporter",
    "monitoring-secrets",
    "ai-services",
    "app-secrets",
    "database-setup-secrets",
    "aws-load-balancer-controller",
    "backend-api",
    "cluster-autoscaler",
    "alert-forwarder",
    "asg-metrics",
    "cloudwatch-agent",
    "otel-collector",
)
REDIS_USERS = ("default", "app", "monitoring")


def prefix_of(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def derived_names(common: CommonConfig, env: EnvironmentConfig) -> dict[str, list[str]]:
    """Every derived name of the environment's stacks, by rule key of :data:`NAME_RULES`."""
    prefix = prefix_of(common.project, env.name)
    redis = f"{prefix}-redis"
    postgres = f"{prefix}-postgres"
    buckets = [ACCESS_LOGS_BUCKET, *env.data.buckets]
    names = {
        "elasticache_replication_group": [redis],
        "elasticache_user": [f"{redis}-{user}" for user in REDIS_USERS],
        "rds_instance": [postgres, *(f"{postgres}-replica-{i}" for i in range(1, env.data.postgres.read_replicas + 1))],
        "opensearch_domain": [f"{prefix}-search"],
        "s3_bucket": [f"{prefix}-{b}{suffix}" for b in buckets for suffix in ("", f"-{env.aws.backup_region}")],
        "iam_role": [f"{prefix}-{suffix}" for suffix in ROLE_SUFFIXES]
        + [f"{prefix}-{b}-replication" for b in env.data.buckets],
        "eks_cluster": [prefix],
        "load_balancer": [load_balancer_name(prefix)],
    }
    ai = env.ai
    logging = [invocation_log_bucket(prefix)] if ai.bedrock.invocation_logging else []
    names["s3_bucket"] += [artifact_bucket(prefix), data_capture_bucket(prefix), *logging]
    names["bedrock_guardrail"] = [guardrail_name(prefix)]
    if ai.endpoint.enabled:
        names["sagemaker_endpoint"] = [matching_endpoint(prefix)]
        names["iam_role"].append(f"{matching_endpoint(prefix)}-sagemaker")
    if ai.bedrock.invocation_logging:
        names["iam_role"].append(f"{prefix}-bedrock-invocation-logging")
    if env.dr_azure.enabled:
        # dr-sync's roles: the copy's reader of the buckets and its namespace's secret store.
        names["iam_role"] += [f"{prefix}-dr-object-copy", f"{prefix}-dr-sync-secrets"]
        names["aks_cluster"] = [f"{prefix}-dr-aks"]
        names["azure_postgres"] = [f"{prefix}-dr-pg"]
    return names


def derived_name_problems(file: str, common: CommonConfig, env: EnvironmentConfig) -> list[Problem]:
    problems = []
    for key, names in derived_names(common, env).items():
        rule = NAME_RULES[key]
        for name in names:
            if len(name) > rule.max_length or not rule.pattern.match(name):
                over = len(name) - rule.max_length
                problems.append(
                    Problem(
                        file,
                        "(derived name)",
                        name,
                        f"the {rule.service} derived from project {common.project!r} and environment "
                        f"{env.name!r} is {len(name)} characters of {rule.charset}; the service allows "
                        f"{rule.max_length}",
                        f"shorten project (config/common.yaml) or the environment name by {over} or more"
                        if over > 0
                        else "use only lower-case letters, digits and single hyphens in project and environment",
                    )
                )
                break
    return problems
