"""WorkloadRole: IRSA trust pinned to one service account; all defaults, all options, bad props."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.workload_role import WorkloadRole, WorkloadRoleProps, web_identity_statement
from tests.tf import new_app, one, policy_json, resources, synth_stack

PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.ap-northeast-1.amazonaws.com/id/ABC"
STATEMENT = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket/*"}


def _stack() -> TerraformStack:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    return stack


def _props(**overrides) -> WorkloadRoleProps:
    values = {
        "role_name": "iworkz-test-app",
        "oidc_provider_arn": PROVIDER_ARN,
        "oidc_issuer": ISSUER,
        "namespace": "iworkz",
        "service_account": "api",
        "policy_statements": (STATEMENT,),
    }
    return WorkloadRoleProps(**{**values, **overrides})


def test_defaults_trust_exactly_one_service_account():
    stack = _stack()
    role = WorkloadRole(stack, "app-role", _props())
    assert role.arn and role.name
    doc = synth_stack(stack)
    body = one(doc, "aws_iam_role")
    assert body["name"] == "iworkz-test-app"
    assert body["max_session_duration"] == 3600
    trust = policy_json(doc, body["assume_role_policy"])["Statement"]
    assert len(trust) == 1
    assert trust[0]["Principal"] == {"Federated": PROVIDER_ARN}
    assert trust[0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust[0]["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:iworkz:api",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }
    policy = policy_json(doc, one(doc, "aws_iam_role_policy")["policy"])
    assert policy["Statement"] == [{**STATEMENT, "Action": "s3:GetObject"}]  # one action, written as IAM does
    assert resources(doc, "aws_iam_role_policy_attachment") == {}


def test_all_options():
    stack = _stack()
    backup = AwsProvider(stack, "aws_backup", alias="backup", region="ap-northeast-3")
    WorkloadRole(
        stack,
        "app-role",
        _props(
            policy_statements=(),
            managed_policy_arns=("arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"),
            description="custom",
            max_session_duration=7200,
            provider=backup,
        ),
    )
    doc = synth_stack(stack)
    body = one(doc, "aws_iam_role")
    assert body["description"] == "custom" and body["max_session_duration"] == 7200
    assert body["provider"] == "aws.backup"
    assert resources(doc, "aws_iam_role_policy") == {}
    attached = sorted(a["policy_arn"] for a in resources(doc, "aws_iam_role_policy_attachment").values())
    assert attached == ["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"]


def test_trust_is_the_shared_web_identity_statement():
    # Other constructs (the OpenSearch master role) reuse the same statement builder.
    stack = _stack()
    WorkloadRole(stack, "app-role", _props(namespace="monitoring", service_account="opensearch-bootstrap"))
    trust = policy_json(synth_stack(stack), one(synth_stack(stack), "aws_iam_role")["assume_role_policy"])
    statement = web_identity_statement(PROVIDER_ARN, ISSUER, "monitoring", "opensearch-bootstrap")
    assert trust["Statement"] == [statement]
    assert (
        statement["Condition"]["StringEquals"][f"{ISSUER}:sub"]
        == "system:serviceaccount:monitoring:opensearch-bootstrap"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "*"}, "namespace"),
        ({"service_account": "api-*"}, "service_account"),
        ({"oidc_issuer": "https://" + ISSUER}, "without the scheme"),
        ({"role_name": "x" * 65}, "role_name"),
        ({"max_session_duration": 60}, "max_session_duration"),
    ],
)
def test_fails_on_bad_props(overrides, message):
    with pytest.raises(ValueError, match=message):
        _props(**overrides)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "allows Action"),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "lacks"),
    ],
)
def test_fails_on_a_bad_grant(statement, message):
    """Statements from props and from grants pass the same least-privilege check."""
    stack = TerraformStack(new_app(), "bad-grant")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    role = WorkloadRole(stack, "role", _props(policy_statements=()))
    with pytest.raises(ValueError, match=message):
        role.add_to_policy(statement)
