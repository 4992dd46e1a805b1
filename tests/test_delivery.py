"""The delivery stack: who may assume the pipeline identities, what they may do, and Terraform Cloud.

The trust policies are evaluated as IAM would evaluate them (StringEquals / StringLike on the
token's claims) against sample GitLab ID tokens; the Terraform Cloud resources come from a
synth of the configuration with ``backend.type: cloud`` (once per session) and are compared with
the registry's dependency graph, computed here from the registry, not listed by hand.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from iworkz.backend import state_key, workspace_name
from iworkz.config import Settings, load_settings
from iworkz.contracts import DeliveryOutputs
from iworkz.registry import every_stack, plan
from iworkz.synth import synthesize
from iworkz_constructs.pipeline_permissions import ACCOUNT_SERVICES, ENVIRONMENT_SERVICES, service_of
from stacks.dr_azure import DR_ASSIGNED_ROLES
from tests.configs import ENVIRONMENTS, write_config

StackJson = dict[str, Any]
GITLAB = "gitlab.com"
PROJECT = "iworkz/infrastructure"
STATE_BUCKET = "${data.terraform_remote_state.state.outputs.state_bucket}"


def documents(stack: StackJson) -> dict[str, list[dict[str, Any]]]:
    """The statements of every policy document data source, by its logical id."""
    return {name: body["statement"] for name, body in stack["data"]["aws_iam_policy_document"].items()}


def document_of(stack: StackJson, reference: str) -> list[dict[str, Any]]:
    """The statements of the document a ``${data.aws_iam_policy_document.<id>.json}`` names."""
    match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", reference)
    assert match, reference
    return documents(stack)[match.group(1)]


def role_named(stack: StackJson, name: str) -> dict[str, Any]:
    return next(role for role in stack["resource"]["aws_iam_role"].values() if role["name"] == name)


def role_policy(stack: StackJson, name: str) -> list[dict[str, Any]]:
    policy = next(p for p in stack["resource"]["aws_iam_role_policy"].values() if p["name"] == name)
    return document_of(stack, policy["policy"])


def trust(stack: StackJson, name: str) -> list[dict[str, Any]]:
    return document_of(stack, role_named(stack, name)["assume_role_policy"])


def may_assume(statements: list[dict[str, Any]], issuer: str, claims: Mapping[str, str]) -> bool:
    """IAM's verdict for a web identity token with ``claims`` from ``issuer`` (Allow statements only)."""

    def matches(condition: dict[str, Any]) -> bool:
        variable, values = condition["variable"], condition["values"]
        host, _, claim = variable.rpartition(":")
        if host != issuer or claim not in claims:
            return False
        if condition["test"] == "StringEquals":
            return claims[claim] in values
        if condition["test"] == "StringLike":
            return any(fnmatch.fnmatchcase(claims[claim], value) for value in values)
        raise AssertionError(f"unexpected operator {condition['test']}")

    return any(
        statement["effect"] == "Allow"
        and statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
        and all(matches(condition) for condition in statement["condition"])
        for statement in statements
    )


def gitlab_token(
    ref: str, *, project: str = PROJECT, ref_type: str = "branch", aud: str = "sts.amazonaws.com"
) -> dict[str, str]:
    """The claims IAM sees of a GitLab CI/CD ID token (default sub claim format)."""
    return {"aud": aud, "sub": f"project_path:{project}:ref_type:{ref_type}:ref:{ref}"}


@pytest.fixture(scope="module")
def delivery(stack: Callable[[str], StackJson]) -> StackJson:
    return stack("delivery")


# --- trust ---------------------------------------------------------------------------------------


def test_the_plan_role_trusts_this_projects_branches_and_nothing_else(delivery: StackJson) -> None:
    statements = trust(delivery, "iworkz-pipeline-plan")
    assert may_assume(statements, GITLAB, gitlab_token("main"))
    assert may_assume(statements, GITLAB, gitlab_token("feature/login"))  # merge requests plan
    assert not may_assume(statements, GITLAB, gitlab_token("main", project="iworkz/infrastructure-fork"))
    assert not may_assume(statements, GITLAB, gitlab_token("main", project="someone/infrastructure"))
    assert not may_assume(statements, GITLAB, gitlab_token("v1.0", ref_type="tag"))
    assert not may_assume(statements, GITLAB, gitlab_token("main", aud="https://gitlab.com"))
    assert not may_assume(statements, "token.actions.githubusercontent.com", gitlab_token("main"))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_deploy_role_trusts_only_the_default_branch(delivery: StackJson, environment: str) -> None:
    statements = trust(delivery, f"iworkz-{environment}-pipeline-deploy")
    assert may_assume(statements, GITLAB, gitlab_token("main"))
    for ref in ("feature/login", "main-old", "mainx", "refs/heads/main"):
        assert not may_assume(statements, GITLAB, gitlab_token(ref)), ref
    assert not may_assume(statements, GITLAB, gitlab_token("main", ref_type="tag"))
    assert not may_assume(statements, GITLAB, gitlab_token("main", project="iworkz/other"))
    # Exactly pinned: aud and sub with StringEquals, no pattern that could widen later.
    conditions = {(c["test"], c["variable"]): c["values"] for s in statements for c in s["condition"]}
    assert conditions == {
        ("StringEquals", f"{GITLAB}:aud"): ["sts.amazonaws.com"],
        ("StringEquals", f"{GITLAB}:sub"): [f"project_path:{PROJECT}:ref_type:branch:ref:main"],
    }


def test_a_merge_request_token_cannot_assume_the_production_deploy_role(delivery: StackJson) -> None:
    merge_request = gitlab_token("feature/payments")  # a merge request pipeline runs on its source branch
    assert may_assume(trust(delivery, "iworkz-pipeline-plan"), GITLAB, merge_request)
    assert not may_assume(trust(delivery, "iworkz-production-pipeline-deploy"), GITLAB, merge_request)
    # a branch named like a pattern is still one branch
    assert not may_assume(trust(delivery, "iworkz-production-pipeline-deploy"), GITLAB, gitlab_token("*"))


def test_every_role_trusts_the_gitlab_provider_of_the_configured_issuer(delivery: StackJson) -> None:
    providers = delivery["resource"]["aws_iam_openid_connect_provider"]
    assert [(p["url"], p["client_id_list"]) for p in providers.values()] == [
        ("https://gitlab.com", ["sts.amazonaws.com"])
    ]
    (logical_id,) = providers
    for role in delivery["resource"]["aws_iam_role"].values():
        principals = {
            i
            for s in document_of(delivery, role["assume_role_policy"])
            for p in s["principals"]
            for i in p["identifiers"]
        }
        assert principals == {f"${{aws_iam_openid_connect_provider.{logical_id}.arn}}"}, role["name"]


# --- permissions ---------------------------------------------------------------------------------


def allowed_actions(statements: list[dict[str, Any]]) -> list[str]:
    return [action for s in statements if s["effect"] == "Allow" for action in s.get("actions", [])]


def test_no_policy_of_the_stack_allows_every_action(delivery: StackJson) -> None:
    for name, statements in documents(delivery).items():
        for statement in statements:
            if statement["effect"] == "Allow":
                assert "not_actions" not in statement, name
                assert not [a for a in statement.get("actions", []) if a.startswith("*")], (name, statement)


def test_every_role_is_capped_by_the_boundary(delivery: StackJson) -> None:
    (boundary_id,) = delivery["resource"]["aws_iam_policy"]
    for role in delivery["resource"]["aws_iam_role"].values():
        assert role["permissions_boundary"] == f"${{aws_iam_policy.{boundary_id}.arn}}", role["name"]
    boundary = document_of(delivery, delivery["resource"]["aws_iam_policy"][boundary_id]["policy"])
    services = {a.split(":")[0] for a in allowed_actions(boundary)}
    assert services == set(ENVIRONMENT_SERVICES) | set(ACCOUNT_SERVICES)
    guards = {s["sid"]: s for s in boundary if s["effect"] == "Deny"}
    assert {"NoLongTermCredentials", "PipelineIdentitiesAreReadOnly", "OnlyTheConfiguredRegions"} <= set(guards)
    assert "iam:CreateAccessKey" in guards["NoLongTermCredentials"]["actions"]
    # the pipelines may read their own identities (plans of this stack) but change nothing of them
    assert guards["PipelineIdentitiesAreReadOnly"]["not_actions"] == ["iam:Get*", "iam:List*"]
    for role in delivery["resource"]["aws_iam_role"].values():
        arn = f"arn:aws:iam::${{data.aws_caller_identity.current.account_id}}:role/{role['name']}"
        assert any(
            fnmatch.fnmatchcase(arn, pattern) for pattern in guards["PipelineIdentitiesAreReadOnly"]["resources"]
        )
    regions = guards["OnlyTheConfiguredRegions"]["condition"][0]["values"]
    assert set(regions) == {"ap-northeast-1", "ap-northeast-3"}


def test_the_plan_role_only_reads(delivery: StackJson) -> None:
    statements = role_policy(delivery, "iworkz-pipeline-plan")
    reads = next(s for s in statements if s.get("sid") == "ReadConfiguration")
    assert all(re.fullmatch(r"[a-z0-9-]+:(Describe|Get|List)\*", action) for action in reads["actions"])
    denied = {a for s in statements if s["effect"] == "Deny" for a in s["actions"]}
    assert {"secretsmanager:GetSecretValue", "s3:GetObject"} <= denied
    writes = [a for a in allowed_actions(statements) if not re.search(r":(Describe|Get|List)", a)]
    # besides reads: only the state lock (lock files, lock table) and the state key
    assert set(writes) <= {
        "s3:PutObject",
        "s3:DeleteObject",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    lock_files = next(s for s in statements if s.get("sid") == "StateLockFiles")
    assert all(resource.endswith(".tflock") for resource in lock_files["resources"])
    assert not any(s.get("sid") == "StateWrite" for s in statements)


def stacks_of(settings: Settings) -> list[Any]:
    return [stack for stack in every_stack(settings) if stack.spec.component != "state"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_deploy_role_writes_only_its_environments_state(
    delivery: StackJson, settings: Settings, environment: str
) -> None:
    statements = role_policy(delivery, f"iworkz-{environment}-pipeline-deploy")
    bucket = f"arn:aws:s3:::{STATE_BUCKET}"  # read from the state stack's contract
    own = [stack for stack in stacks_of(settings) if stack.environment == environment]
    write = next(s for s in statements if s.get("sid") == "StateWrite")
    assert write["resources"] == sorted(f"{bucket}/{state_key(s.context(settings))}" for s in own)
    producers = {p for s in own for p in s.producers(settings)}
    read = next(s for s in statements if s.get("sid") == "StateRead")
    assert set(read["resources"]) == {f"{bucket}/{state_key(s.context(settings))}" for s in [*own, *producers]}
    lock = next(s for s in statements if s.get("sid") == "StateLockTable")
    keys = {state_key(s.context(settings)) for s in [*own, *producers]}
    assert set(lock["condition"][0]["values"]) == {
        f"{STATE_BUCKET}/{key}{suffix}" for key in keys for suffix in ("", "-md5")
    }
    managed = [s for s in statements if not s.get("sid", "").startswith("State")]  # the state grants aside
    assert {a.split(":")[0] for a in allowed_actions(managed)} == set(ENVIRONMENT_SERVICES)
    # IAM, buckets and secrets of its own environment only
    scoped = {s["sid"]: s["resources"] for s in managed if s["sid"].startswith("ManageTheNamed")}
    assert all(f"iworkz-{environment}" in r or "oidc.eks" in r for resources in scoped.values() for r in resources)


def test_the_services_cover_every_resource_type_the_stacks_synthesise(synthesized: dict[str, StackJson]) -> None:
    """A new kind of AWS resource in a stack needs its service in pipeline_permissions."""
    for name, document in synthesized.items():
        environment_stack = name not in ("state", "delivery") and any(name.endswith(f"-{e}") for e in ENVIRONMENTS)
        allowed = set(ENVIRONMENT_SERVICES) | (set() if environment_stack else set(ACCOUNT_SERVICES))
        for resource_type in document.get("resource", {}):
            if not resource_type.startswith("aws_"):
                continue
            service = service_of(resource_type)
            assert service is not None, f"{name}: {resource_type} has no IAM service in RESOURCE_SERVICES"
            assert service in allowed, f"{name}: {resource_type} needs {service!r} in the pipeline services"


# --- outputs and the DR site ---------------------------------------------------------------------


def test_the_pipelines_variables_are_the_stacks_outputs(delivery: StackJson) -> None:
    assert sorted(delivery["output"]) == sorted(DeliveryOutputs.output_names())
    deploy = delivery["output"]["aws_deploy_role_arns"]["value"]
    assert sorted(deploy) == sorted(ENVIRONMENTS)
    assert sorted(delivery["output"]["azure_deploy_client_ids"]["value"]) == ["production"]  # DR is production only


def test_the_entra_applications_federate_without_a_secret(delivery: StackJson) -> None:
    resources = delivery["resource"]
    assert not [t for t in resources if "password" in t or "certificate" in t]
    exact = {c["display_name"]: c for c in resources["azuread_application_federated_identity_credential"].values()}
    assert [c["subject"] for c in exact.values()] == [f"project_path:{PROJECT}:ref_type:branch:ref:main"]
    assert all(
        c["issuer"] == "https://gitlab.com" and c["audiences"] == ["api://AzureADTokenExchange"] for c in exact.values()
    )
    (flexible,) = resources["azuread_application_flexible_federated_identity_credential"].values()
    assert (
        flexible["claims_matching_expression"]
        == f"claims['sub'] matches 'project_path:{PROJECT}:ref_type:branch:ref:*'"
    )


def test_the_dr_stack_grants_the_pipelines_its_resource_group_only(stack: Callable[[str], StackJson]) -> None:
    dr = stack("dr-azure-production")
    assignments = dr["resource"]["azurerm_role_assignment"]
    pipeline = {name: a for name, a in assignments.items() if name.startswith("pipeline-access")}
    assert {a["role_definition_name"] for a in pipeline.values()} == {
        "Reader",
        "Contributor",
        "Role Based Access Control Administrator",
    }
    assert {a["scope"] for a in pipeline.values()} == {"${azurerm_resource_group.resource-group.id}"}
    assert {a["principal_id"] for a in pipeline.values()} == {
        "${data.terraform_remote_state.delivery.outputs.azure_plan_principal_id}",
        "${data.terraform_remote_state.delivery.outputs.azure_deploy_principal_ids.production}",
    }
    admin = next(a for a in pipeline.values() if a["role_definition_name"] == "Role Based Access Control Administrator")
    assert admin["condition_version"] == "2.0"
    assert "roleAssignments/write" in admin["condition"] and "roleAssignments/delete" in admin["condition"]
    # the deployer may assign exactly the roles the stack's own resources assign
    others = {a["role_definition_name"] for name, a in assignments.items() if name not in pipeline}
    assert others and others <= set(DR_ASSIGNED_ROLES)
    granted = {d["name"] for d in dr["data"]["azurerm_role_definition"].values()}
    assert granted == set(DR_ASSIGNED_ROLES)


def test_with_the_s3_backend_there_is_no_terraform_cloud(delivery: StackJson) -> None:
    assert not [t for t in delivery["resource"] if t.startswith("tfe_")]
    assert "tfe" not in delivery["terraform"]["required_providers"]
    assert delivery["terraform"]["backend"]["s3"]["key"] == "delivery.tfstate"


# --- Terraform Cloud -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, StackJson]:
    """The delivery stack of the configuration with ``backend.type: cloud`` (one synth)."""
    folder = tmp_path_factory.mktemp("cloud")
    config = write_config(
        folder,
        None,
        {"backend": {"type": "cloud"}, "delivery": {"terraform_cloud": {"notify_members": ["oncall@iworkz.example"]}}},
    )
    settings = load_settings(config)
    planned, _ = plan(settings, ["delivery"])
    (written,) = synthesize(settings, planned, folder / "cdktf.out")
    return settings, json.loads(Path(written.path).read_text())


def by_name(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``${tfe_workspace.<id>.id}`` -> workspace name."""
    return {f"${{tfe_workspace.{logical_id}.id}}": body["name"] for logical_id, body in resources.items()}


def test_the_state_stack_has_no_workspace_and_every_other_stack_one(cloud: tuple[Settings, StackJson]) -> None:
    settings, document = cloud
    names = {workspace_name(s.context(settings)) for s in every_stack(settings)}
    assert not [s for s in every_stack(settings) if s.spec.component == "state"]  # disabled with cloud
    workspaces = document["resource"]["tfe_workspace"]
    # the delivery workspace runs this stack: looked up, not created
    assert {w["name"] for w in workspaces.values()} == names - {"iworkz-delivery"}
    assert [d["name"] for d in document["data"]["tfe_workspace"].values()] == ["iworkz-delivery"]
    for w in workspaces.values():
        stack_name = w["name"].removeprefix("iworkz-")
        assert w["working_directory"] == f"cdktf.out/stacks/{stack_name}"
        assert w["auto_apply"] is False and w["project_id"].startswith("${tfe_project.")


def workspace_ids(document: StackJson) -> dict[str, str]:
    ids = by_name(document["resource"]["tfe_workspace"])
    ids |= {f"${{data.tfe_workspace.{i}.id}}": d["name"] for i, d in document["data"]["tfe_workspace"].items()}
    return ids


def test_run_triggers_are_the_registrys_dependency_edges(cloud: tuple[Settings, StackJson]) -> None:
    settings, document = cloud
    ids = workspace_ids(document)
    triggers = {
        (ids[t["sourceable_id"]], ids[t["workspace_id"]]) for t in document["resource"]["tfe_run_trigger"].values()
    }
    edges = {
        (workspace_name(producer.context(settings)), workspace_name(stack.context(settings)))
        for stack in every_stack(settings)
        for producer in stack.producers(settings)
    }
    assert triggers == edges and ("iworkz-network-production", "iworkz-eks-production") in edges


def test_remote_state_is_shared_with_the_consumers_only(cloud: tuple[Settings, StackJson]) -> None:
    settings, document = cloud
    ids = workspace_ids(document)
    shared = {
        ids[s["workspace_id"]]: {ids[c] for c in s["remote_state_consumer_ids"]}
        for s in document["resource"]["tfe_workspace_settings"].values()
    }
    assert all(s["global_remote_state"] is False for s in document["resource"]["tfe_workspace_settings"].values())
    stacks = every_stack(settings)
    expected = {
        workspace_name(producer.context(settings)): {
            workspace_name(consumer.context(settings))
            for consumer in stacks
            if producer in consumer.producers(settings)
        }
        for producer in stacks
    }
    assert shared == expected
    assert shared["iworkz-delivery"] == {"iworkz-dr-azure-production"}


def test_runs_get_dynamic_credentials_of_their_environment(cloud: tuple[Settings, StackJson]) -> None:
    settings, document = cloud
    resources = document["resource"]
    sets = {f"${{tfe_variable_set.{i}.id}}": v["name"] for i, v in resources["tfe_variable_set"].items()}
    variables: dict[str, dict[str, str]] = {}
    for v in resources["tfe_variable"].values():
        assert v["category"] == "env" and not v.get("sensitive")
        variables.setdefault(sets[v["variable_set_id"]], {})[v["key"]] = v["value"]
    roles = {f"${{aws_iam_role.{i}.arn}}": r["name"] for i, r in resources["aws_iam_role"].items()}
    for environment in ENVIRONMENTS:
        env_vars = variables[f"iworkz-{environment}"]
        assert env_vars["TFC_AWS_PROVIDER_AUTH"] == "true"
        assert roles[env_vars["TFC_AWS_RUN_ROLE_ARN"]] == f"iworkz-{environment}-pipeline-deploy"
    assert variables["iworkz-production"]["TFC_AZURE_PROVIDER_AUTH"] == "true"
    assert "TFC_AZURE_RUN_CLIENT_ID" not in variables["iworkz-staging"]  # no DR site there
    attached = {
        (sets[a["variable_set_id"]], workspace_ids(document)[a["workspace_id"]])
        for a in resources["tfe_workspace_variable_set"].values()
    }
    expected = {
        (f"iworkz-{s.environment}", workspace_name(s.context(settings))) for s in every_stack(settings) if s.environment
    }
    assert attached == expected
    # the deploy roles trust exactly their environment's workspaces, any run phase
    tfc_trust = trust(document, "iworkz-production-pipeline-deploy")
    run = {
        "aud": "aws.workload.identity",
        "sub": "organization:iworkz:project:iworkz-infrastructure:workspace:iworkz-data-production:run_phase:apply",
    }
    assert may_assume(tfc_trust, "app.terraform.io", run)
    assert not may_assume(tfc_trust, "app.terraform.io", {**run, "sub": run["sub"].replace("production", "staging")})
    assert not may_assume(trust(document, "iworkz-staging-pipeline-deploy"), "app.terraform.io", run)


def test_notifications_reach_members_by_email_without_a_url(cloud: tuple[Settings, StackJson]) -> None:
    settings, document = cloud
    notifications = document["resource"]["tfe_notification_configuration"].values()
    assert notifications and all(n["destination_type"] == "email" and "url" not in n for n in notifications)
    assert all("assessment:drifted" in n["triggers"] for n in notifications)
    ids = workspace_ids(document)
    notified = {ids[n["workspace_id"]] for n in notifications}
    assert notified == {workspace_name(s.context(settings)) for s in every_stack(settings) if s.environment}
    (member,) = document["data"]["tfe_organization_membership"].values()
    assert member["email"] == "oncall@iworkz.example"


def test_no_credential_in_either_variant(delivery: StackJson, cloud: tuple[Settings, StackJson]) -> None:
    # an attribute holding a credential, an AWS access key, or a Terraform Cloud token variable
    forbidden = re.compile(
        r'"(password|client_secret|secret_access_key|access_key|token|token_wo|value_wo)"\s*:|AKIA[0-9A-Z]{16}|TF_TOKEN_|TFE_TOKEN'
    )
    for document in (delivery, cloud[1]):
        text = json.dumps({k: v for k, v in document.items() if k != "//"})
        assert not forbidden.findall(text)


def test_the_cloud_variant_keeps_the_roles_of_the_s3_one(
    delivery: StackJson, cloud: tuple[Settings, StackJson]
) -> None:
    """Switching the backend adds Terraform Cloud, keeps every IAM role, and drops the state grants."""
    s3_roles = {r["name"] for r in delivery["resource"]["aws_iam_role"].values()}
    assert {r["name"] for r in cloud[1]["resource"]["aws_iam_role"].values()} == s3_roles
    assert not any(s.get("sid", "").startswith("State") for s in role_policy(cloud[1], "iworkz-pipeline-plan"))


def test_account_settings_see_every_environment(settings: Settings) -> None:
    """The delivery stack is the same in every ENVS selection: it reads the account's environments."""
    selected = load_settings(environments=["dev"])
    assert sorted(selected.every_environment) == sorted(settings.every_environment) == sorted(ENVIRONMENTS)
    assert (
        dataclasses.replace(selected, environments=selected.every_environment).environments.keys()
        == settings.environments.keys()
    )
