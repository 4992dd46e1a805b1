"""Delivery section of ``config/common.yaml``: who may plan and deploy, from where.

The GitLab project whose pipelines assume the plan and deploy identities (its OIDC issuer,
project path, default branch and the audiences its ID tokens carry), and the Terraform Cloud
settings the ``delivery`` stack applies when ``backend.type: cloud``.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from iworkz.config.base import Model, rule_error

# Characters that make an IAM StringLike pattern or an Entra claims expression match more than one value.
WILDCARDS = frozenset("*?[]")
# A GitLab namespace or project path segment (letters, digits, '_', '.', '-'; no leading '-').
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
# A git branch name as GitLab accepts it, minus the characters that are wildcards above.
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]+(?<![/.])$")


def validate_issuer(value: str) -> str:
    """An OIDC issuer: an https URL with a host and no query, fragment or trailing slash."""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise rule_error(
            "the OIDC issuer must be an https URL (AWS and Entra ID fetch its keys over TLS)",
            "e.g. 'https://gitlab.com' or 'https://gitlab.example.com'",
        )
    if parts.query or parts.fragment or value.endswith("/") or parts.username or parts.port:
        raise rule_error(
            "the OIDC issuer is exactly the token's iss claim: no trailing slash, port, credentials, query or fragment",
            f"e.g. 'https://{parts.hostname}'",
        )
    return value


def check_exact(value: str, what: str, example: str) -> None:
    """Refuses a wildcard: the value is pinned into trust policies, where it would match many."""
    if WILDCARDS & set(value):
        raise rule_error(
            f"a wildcard in the {what} would let other {what}s' tokens assume the deploy roles "
            "(the value is pinned into their trust policies' sub claims)",
            f"name exactly one, e.g. {example!r}",
        )


class GitLabSettings(Model):
    """The GitLab project whose CI/CD ID tokens the plan and deploy identities trust."""

    issuer: str = "https://gitlab.com"
    # <group>/<project> (subgroups allowed): the project_path claim, pinned in every trust.
    project_path: str = "iworkz/infrastructure"
    # Deploys (and the plans they apply) run only on this branch; merge requests may plan.
    default_branch: str = "main"
    # The aud claim of the ID tokens the jobs request (id_tokens in .gitlab-ci.yml).
    aws_audience: str = "sts.amazonaws.com"
    azure_audience: str = "api://AzureADTokenExchange"

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return validate_issuer(value)

    @field_validator("project_path")
    @classmethod
    def _project_path(cls, value: str) -> str:
        check_exact(value, "project path", "iworkz/infrastructure")
        segments = value.split("/")
        if len(segments) < 2 or not all(_PATH_SEGMENT.match(segment) for segment in segments):
            raise rule_error(
                "must be the project's full path, <group>/<project> (subgroups allowed)",
                "e.g. 'iworkz/infrastructure'",
            )
        return value

    @field_validator("default_branch")
    @classmethod
    def _default_branch(cls, value: str) -> str:
        check_exact(value, "branch", "main")
        if not _BRANCH.match(value):
            raise rule_error("must be a git branch name", "e.g. 'main'")
        return value

    @field_validator("aws_audience", "azure_audience")
    @classmethod
    def _audience(cls, value: str) -> str:
        check_exact(value, "audience", "sts.amazonaws.com")
        if not value or value != value.strip():
            raise rule_error("must be the exact aud value the jobs request", "e.g. 'sts.amazonaws.com'")
        return value


class TerraformCloudSettings(Model):
    """What the delivery stack sets up in Terraform Cloud (``backend.type: cloud`` only)."""

    # The Terraform Cloud project holding the workspaces (its name is part of the runs' sub claim).
    project: str = Field("iworkz-infrastructure", pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]{2,39}$")
    # Where the environments' runs execute: remote (Terraform Cloud's workers, with dynamic
    # credentials) or local (the GitLab jobs; Terraform Cloud keeps state and locks only).
    execution_mode: Literal["remote", "local"] = "remote"
    # Members of the organization (their Terraform Cloud account e-mail) who are told of
    # failed runs, runs awaiting approval and drift (health assessments).
    notify_members: list[str] = Field(default_factory=list)

    @field_validator("notify_members")
    @classmethod
    def _members(cls, value: list[str]) -> list[str]:
        bad = [member for member in value if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", member)]
        if bad:
            raise rule_error(
                f"must be e-mail addresses of organization members: {', '.join(bad)}",
                "e.g. 'platform-oncall@iworkz.example'",
            )
        return value


class DeliveryConfig(Model):
    gitlab: GitLabSettings = GitLabSettings()
    terraform_cloud: TerraformCloudSettings = TerraformCloudSettings()
