"""The pipeline identity constructs: what each refuses, and what it writes.

PipelineRole / FederatedIssuer / PipelineBoundary (AWS), EntraPipelineApp (Entra ID),
AzurePipelineAccess (role assignments on the DR resource group), TerraformCloudProject.
"""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.azure_pipeline_access import AzurePipelineAccessProps
from iworkz_constructs.entra_pipeline_app import EntraPipelineAppProps, Federation
from iworkz_constructs.pipeline_role import (
    FederatedIssuer,
    FederatedIssuerProps,
    FederatedSubjects,
    PipelineBoundaryProps,
    PipelineRole,
    PipelineRoleProps,
)
from iworkz_constructs.terraform_cloud import TerraformCloudProjectProps, VariableSetSpec, WorkspaceSpec
from tests.tf import new_app, one, synth_stack

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
READ = {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"}


def subjects(**overrides: Any) -> FederatedSubjects:
    values: dict[str, Any] = {"provider_arn": PROVIDER, "issuer_host": "gitlab.com", "audience": "sts.amazonaws.com"}
    return FederatedSubjects(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "at least one sub claim"),
        ({"subject_patterns": ("project_path:*:ref_type:branch:ref:main",)}, "only its last ':' component"),
        ({"subject_patterns": ("project_path:iworkz/*:ref_type:branch:ref:main",)}, "only its last ':' component"),
        ({"subject_patterns": ("*",)}, "only its last ':' component"),
        ({"subjects": ("project_path:iworkz/infra:ref_type:branch:ref:*",)}, "list it under subject_patterns"),
        ({"subjects": ("x",), "issuer_host": "https://gitlab.com"}, "without scheme"),
        ({"subjects": ("x",), "audience": "*"}, "one exact value"),
    ],
)
def test_a_trust_refuses_what_would_match_other_pipelines(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        subjects(**overrides)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "every service"),
        ({"Effect": "Allow", "Action": ["*:*"], "Resource": "*"}, "every service"),
        ({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}, "NotAction"),
        ({"Effect": "Allow", "Action": ["s3:GetObject"]}, "needs Resource"),
    ],
)
def test_a_pipeline_role_refuses_every_action(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PipelineRoleProps("r", "d", (subjects(subjects=("s",)),), "arn:aws:iam::1:policy/b", [statement])


def test_a_pipeline_role_needs_a_trust_and_a_policy() -> None:
    with pytest.raises(ValueError, match="trusts"):
        PipelineRoleProps("r", "d", (), "arn:aws:iam::1:policy/b", [READ])
    with pytest.raises(ValueError, match="without permissions"):
        PipelineRoleProps("r", "d", (subjects(subjects=("s",)),), "arn:aws:iam::1:policy/b", [])


def test_the_boundary_allows_services_never_everything() -> None:
    with pytest.raises(ValueError, match="service prefixes"):
        PipelineBoundaryProps("b", ("*",))
    with pytest.raises(ValueError, match="Deny statements only"):
        PipelineBoundaryProps("b", ("ec2",), guards=[READ])
    with pytest.raises(ValueError, match="whole service on every resource"):
        PipelineBoundaryProps("b", ("ec2",), scoped=[{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}])


def test_the_issuer_is_an_https_url_and_a_trust_uses_its_audiences() -> None:
    with pytest.raises(ValueError, match="https URL"):
        FederatedIssuerProps("http://gitlab.com", ("sts.amazonaws.com",))
    with pytest.raises(ValueError, match="https URL"):
        FederatedIssuerProps("https://gitlab.com/", ("sts.amazonaws.com",))
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    issuer = FederatedIssuer(stack, "gitlab", FederatedIssuerProps("https://gitlab.com", ("sts.amazonaws.com",)))
    with pytest.raises(ValueError, match="not one the provider accepts"):
        issuer.trust("https://gitlab.com", subjects=("s",))
    PipelineRole(
        stack,
        "role",
        PipelineRoleProps(
            "iworkz-test",
            "test",
            (issuer.trust("sts.amazonaws.com", subjects=("s",)),),
            "arn:aws:iam::1:policy/b",
            [READ],
        ),
    )
    document = synth_stack(stack)
    assert one(document, "aws_iam_openid_connect_provider")["url"] == "https://gitlab.com"
    assert one(document, "aws_iam_role")["permissions_boundary"] == "arn:aws:iam::1:policy/b"


@pytest.mark.parametrize(
    ("subject", "valid"),
    [
        ("project_path:iworkz/infra:ref_type:branch:ref:main", True),
        ("project_path:iworkz/infra:ref_type:branch:ref:*", True),
        ("project_path:iworkz/*:ref_type:branch:ref:main", False),
        ("*", False),
        ("project_path:iworkz/infra:ref_type:branch:ref:ma?n", False),
        ("project_path:iworkz/infra:ref_type:branch:ref:x' or true", False),
    ],
)
def test_an_entra_federation_pins_everything_but_the_last_component(subject: str, valid: bool) -> None:
    if valid:
        Federation("f", "https://gitlab.com", subject)
    else:
        with pytest.raises(ValueError, match="last ':' component"):
            Federation("f", "https://gitlab.com", subject)


def test_an_entra_application_has_at_most_twenty_unique_federations() -> None:
    federation = Federation("f", "https://gitlab.com", "project_path:a/b:ref_type:branch:ref:main")
    with pytest.raises(ValueError, match="unique"):
        EntraPipelineAppProps("app", "d", (federation, federation))
    with pytest.raises(ValueError, match="20 federations"):
        EntraPipelineAppProps(
            "app", "d", tuple(Federation(f"f{i}", federation.issuer, federation.subject) for i in range(21))
        )
    with pytest.raises(ValueError, match="https URL"):
        Federation("f", "http://gitlab.com", federation.subject)


@pytest.mark.parametrize(
    "role", ["Owner", "User Access Administrator", "Contributor", "Role Based Access Control Administrator"]
)
def test_the_deployer_cannot_be_allowed_to_assign_escalating_roles(role: str) -> None:
    with pytest.raises(ValueError, match="without"):
        AzurePipelineAccessProps("/subscriptions/s/resourceGroups/rg", ("p",), "d", ("Reader", role))
    with pytest.raises(ValueError, match="not a subscription"):
        AzurePipelineAccessProps("/subscriptions/s", ("p",), "d", ("Reader",))


def workspace(name: str, **overrides: Any) -> WorkspaceSpec:
    return WorkspaceSpec(**{"name": name, "stack": name, "execution_mode": "remote", **overrides})


def project(**overrides: Any) -> TerraformCloudProjectProps:
    values: dict[str, Any] = {
        "organization": "iworkz",
        "project": "infra",
        "terraform_version": "1.12.2",
        "workspaces": (workspace("network-dev"), workspace("eks-dev", producers=("network-dev",))),
        "notify_members": ("oncall@iworkz.example",),
    }
    return TerraformCloudProjectProps(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"workspaces": (workspace("eks-dev", producers=("network-dev",)),)}, "have no workspace"),
        ({"workspaces": (workspace("a"), workspace("A"))}, "ignores case"),
        ({"workspaces": (workspace("a", variable_set="dev"),)}, "not defined"),
        ({"notify_members": ()}, "at least one member"),
        ({"terraform_version": "~> 1.12"}, "exact version"),
    ],
)
def test_a_terraform_cloud_project_refuses_inconsistent_workspaces(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        project(**overrides)


def test_workspace_names_and_credentials_are_checked() -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        workspace("iworkz/network")
    with pytest.raises(ValueError, match="cannot trigger itself"):
        workspace("a", producers=("a",))
    for key in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "TFE_TOKEN", "ARM_CLIENT_SECRET", "GITLAB_TOKEN"):
        with pytest.raises(ValueError, match="static credentials"):
            VariableSetSpec("dev", "d", {key: "x"})
    assert workspace("network-dev").working_directory == "cdktf.out/stacks/network-dev"
