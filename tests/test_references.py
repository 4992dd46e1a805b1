"""Every reference in the synthesised stacks resolves (what `terraform validate` would catch)."""

from __future__ import annotations

import copy
from typing import Any

from iworkz.policy.references import check_all, check_document, expressions, stack_for_state_key, traversals


def test_every_reference_resolves(synthesized: dict[str, Any]) -> None:
    broken = check_all(synthesized)
    assert not broken, "references that do not resolve:\n" + "\n".join(map(str, broken))


def test_cross_stack_references_are_checked(synthesized: dict[str, Any]) -> None:
    """At least the stacks with dependencies read remote state, and each source is one of ours."""
    from iworkz.policy.references import remote_state_sources

    for name, document in synthesized.items():
        for data_name, source in remote_state_sources(document, set(synthesized)).items():
            assert source is not None, f"{name}: remote state {data_name} reads no synthesised stack"


# --- the parser ---------------------------------------------------------------------------------


def test_expressions_and_traversals() -> None:
    text = 'arn:${aws_kms_key.key_1A.arn}/x-${lookup(var.tags, "Owner", "${local.owner}")}$${literal}'
    bodies = list(expressions(text))
    assert bodies == ["aws_kms_key.key_1A.arn", 'lookup(var.tags, "Owner", "${local.owner}")']
    assert list(traversals(bodies[1])) == ["var.tags", "local.owner"]
    loop = "[for s in aws_subnet.private-a_1B.*.id : s if s != each.value]"
    assert list(traversals(loop)) == ["aws_subnet.private-a_1B.*.id"]
    assert list(traversals('{ Name = "x", key = aws_vpc.main.id }')) == ["aws_vpc.main.id"]
    assert list(traversals("element(aws_subnet.db[0].id, count.index)")) == ["aws_subnet.db[0].id"]
    assert list(traversals('cond ? data.aws_region.current.name : "x"')) == ["data.aws_region.current.name"]


def test_state_key_maps_to_the_stack_name() -> None:
    stacks = {"network-production", "eks-dev"}
    assert stack_for_state_key("production/network.tfstate", stacks) == "network-production"
    assert stack_for_state_key("dev/eks.tfstate", stacks) == "eks-dev"
    assert stack_for_state_key("staging/eks.tfstate", stacks) is None
    assert stack_for_state_key("delivery.tfstate", {*stacks, "delivery"}) == "delivery"
    assert stack_for_state_key("security.tfstate", stacks) is None


# --- negative tests on a deliberately broken document -----------------------------------------

NETWORK: dict[str, Any] = {
    "output": {"vpc_id": {"value": "${aws_vpc.main.id}"}},
    "resource": {"aws_vpc": {"main": {"cidr_block": "10.0.0.0/16"}}},
}
EKS: dict[str, Any] = {
    "provider": {"aws": [{"region": "ap-northeast-1"}, {"alias": "backup", "region": "ap-northeast-3"}]},
    "variable": {"cluster_version": {"type": "string"}},
    "data": {
        "terraform_remote_state": {
            "cross-stack-reference-input-network-production": {
                "backend": "s3",
                "config": {"bucket": "iworkz-terraform-state", "key": "production/network.tfstate"},
            }
        }
    },
    "resource": {
        "aws_security_group": {
            "nodes": {
                "vpc_id": "${data.terraform_remote_state.cross-stack-reference-input-network-production.outputs.vpc_id}"
            }
        },
        "aws_eks_cluster": {
            "main": {
                "version": "${var.cluster_version}",
                "vpc_config": {"security_group_ids": ["${aws_security_group.nodes.id}"]},
                "depends_on": ["aws_security_group.nodes"],
                "provider": "aws.backup",
            }
        },
    },
}


def _check(eks: dict[str, Any]) -> list[str]:
    documents = {"network-production": NETWORK, "eks-production": eks}
    return [f"{b.reference}: {b.problem}" for b in check_document("eks-production", eks, documents)]


def test_the_good_document_resolves() -> None:
    assert _check(EKS) == []
    eks = copy.deepcopy(EKS)
    eks["ephemeral"] = {"aws_secretsmanager_random_password": {"token": {"password_length": 64}}}
    eks["resource"]["aws_eks_cluster"]["main"]["token_wo"] = (
        "${ephemeral.aws_secretsmanager_random_password.token.random_password}"
    )
    assert _check(eks) == []


def test_fails_reference_to_a_missing_resource() -> None:
    eks = copy.deepcopy(EKS)
    eks["resource"]["aws_eks_cluster"]["main"]["role_arn"] = "${aws_iam_role.cluster_9F.arn}"
    assert _check(eks) == ["aws_iam_role.cluster_9F.arn: no such resource"]


def test_fails_missing_variable_local_data_and_alias() -> None:
    eks = copy.deepcopy(EKS)
    cluster = eks["resource"]["aws_eks_cluster"]["main"]
    cluster["name"] = '${format("%s-%s", var.prefix, local.suffix)}'
    cluster["region_name"] = "${data.aws_region.current.name}"
    cluster["provider"] = "aws.osaka"
    cluster["depends_on"] = ["aws_iam_role.gone"]
    cluster["password_wo"] = "${ephemeral.aws_secretsmanager_random_password.gone.random_password}"
    assert sorted(_check(eks)) == [
        "aws.osaka: no such provider alias",
        "aws_iam_role.gone: no such resource",
        "data.aws_region.current.name: no such data source",
        "ephemeral.aws_secretsmanager_random_password.gone.random_password: no such ephemeral resource",
        "local.suffix: no such local",
        "var.prefix: no such variable",
    ]


def test_fails_remote_state_output_missing_in_the_source_stack() -> None:
    eks = copy.deepcopy(EKS)
    eks["resource"]["aws_security_group"]["nodes"]["vpc_id"] = (
        "${data.terraform_remote_state.cross-stack-reference-input-network-production.outputs.vpc_idd}"
    )
    assert _check(eks) == [
        "data.terraform_remote_state.cross-stack-reference-input-network-production.outputs.vpc_idd: "
        "stack network-production has no output 'vpc_idd'"
    ]
