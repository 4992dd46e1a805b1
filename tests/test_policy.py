"""Synth-time policy: every stack is checked, violations fail the synth, suppressions are reported."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupIngress
from constructs import Construct

from iworkz.errors import UserError
from iworkz.policy import SuppressionError, suppress, waive
from iworkz.policy.report import REPORT_FILE, PolicyError
from iworkz.policy.rules import (
    ACCESS_LOGGING,
    AUDIT_TRAIL,
    AZURE_DELETE_LOCK,
    BACKUP_COVERAGE,
    BACKUP_VAULT_LOCK,
    BUCKET_REPLICATION,
    DELETION_PROTECTION,
    EKS_PUBLIC_ENDPOINT,
    ENCRYPTION_CMK,
    IMDSV2,
    MANDATORY_TAGS,
    OPEN_INGRESS,
    PREVENT_DESTROY,
    PUBLIC_BUCKET,
    PUBLIC_DATABASE,
    PUBLIC_IP,
    RULES,
    TLS_ONLY,
    StackDocument,
    evaluate,
)
from iworkz.policy.tree import check_stack, taggable_azurerm_types
from iworkz.policy.tree import facts as policy_facts
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps
from tests.early import scan_snapshots, scan_synthesised_stacks
from tests.tf import new_app

TAGS = {"Project": "iWORKZ", "Environment": "production", "ManagedBy": "Terraform", "Owner": "DevOps"}


def tiny_stack(name: str = "policy-test") -> TerraformStack:
    stack = TerraformStack(new_app(), name)
    AwsProvider(stack, "aws", region="ap-northeast-1", default_tags=[AwsProviderDefaultTags(tags=TAGS)])
    return stack


def rules_of(error: PolicyError) -> set[tuple[str, str]]:
    return {(item.path, item.rule) for item in error.violations}


# --- the real stacks --------------------------------------------------------------------------


def test_every_synthesised_stack_is_checked(synthesized: dict[str, Any], synth_outdir: Path) -> None:
    report = json.loads((synth_outdir / REPORT_FILE).read_text())
    assert report["stacks"] == sorted(synthesized)
    assert report["violations"] == []


def test_report_counts_and_lists_every_suppression(synthesized: dict[str, Any], synth_outdir: Path) -> None:
    report = json.loads((synth_outdir / REPORT_FILE).read_text())
    assert report["suppression_count"] == len(report["suppressions"])
    for entry in report["suppressions"]:
        assert entry["rule"] in RULES
        assert len(entry["reason"]) >= 10, entry
        assert entry["path"].split("/")[0] in synthesized


def test_no_suppression_is_stale(synth_outdir: Path) -> None:
    """A suppression that covers no finding hides nothing today and would hide a regression tomorrow."""
    report = json.loads((synth_outdir / REPORT_FILE).read_text())
    stale = [f"{s['path']} {s['rule']}" for s in report["suppressions"] if not s["suppressed_findings"]]
    assert not stale, f"suppressions that suppress nothing (remove them): {stale}"


def test_state_stack_access_log_bucket_is_suppressed_with_reasons(
    synthesized: dict[str, Any], synth_outdir: Path
) -> None:
    if "state" not in synthesized:
        pytest.skip("state stack not selected")
    report = json.loads((synth_outdir / REPORT_FILE).read_text())
    # on the bucket resource itself, not on the SecureBucket construct (and its other resources)
    rules = {s["rule"] for s in report["suppressions"] if s["path"] == "state/state-access-logs/bucket"}
    assert rules == {ENCRYPTION_CMK, ACCESS_LOGGING}


def test_every_synthesised_stack_passes_the_rules_again(synthesized: dict[str, Any], synth_outdir: Path) -> None:
    """The rules pass on the published documents, with the reported suppressions (nothing else is exempt)."""
    report = json.loads((synth_outdir / REPORT_FILE).read_text())
    suppressed = {(address, s["rule"]) for s in report["suppressions"] for address in s["suppressed_findings"]}
    for name, document in synthesized.items():
        taggable = _azurerm_taggable_types(document)
        for item in evaluate(StackDocument(name, document, taggable)):
            assert (item.address, item.rule) in suppressed, f"{item.path}: {item.rule} {item.problem}"


def _azurerm_taggable_types(document: dict[str, Any]) -> frozenset[str]:
    """Cross-check without the resource classes: azurerm resources that carry a location accept tags."""
    return frozenset(
        resource_type
        for resource_type, instances in (document.get("resource") or {}).items()
        if resource_type.startswith("azurerm_") and any("location" in body for body in instances.values())
    )


# Resources that reference a security group without attaching it to anything.
SECURITY_GROUP_RULES = (
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
)


def test_every_security_group_is_attached(synthesized: dict[str, Any]) -> None:
    """checkov's CKV2_AWS_5, which .checkov.yaml skips (its list of the resources that take a security
    group lacks aws_sagemaker_model): each group is used by a resource other than the groups' rules."""
    for name, document in synthesized.items():
        found = document.get("resource") or {}
        users = json.dumps({kind: bodies for kind, bodies in found.items() if kind not in SECURITY_GROUP_RULES})
        for group in found.get("aws_security_group", {}):
            assert f"${{aws_security_group.{group}.id}}" in users, f"{name}: aws_security_group.{group} is unused"


# --- deliberately bad constructs --------------------------------------------------------------


def test_fails_unencrypted_public_bucket_with_path_rule_and_fix() -> None:
    stack = tiny_stack()
    S3Bucket(stack, "naked", bucket="iworkz-policy-naked")
    with pytest.raises(PolicyError) as caught:
        check_stack(stack)
    found = rules_of(caught.value)
    for rule in (ENCRYPTION_CMK, PUBLIC_BUCKET, TLS_ONLY, PREVENT_DESTROY, ACCESS_LOGGING):
        assert ("policy-test/naked", rule) in found
    message = caught.value.render()
    assert "policy-test/naked (aws_s3_bucket.naked)" in message
    assert "rule: ENCRYPTION_CMK" in message
    assert "fix:" in message and "kms_master_key_id" in message
    assert isinstance(caught.value, UserError)  # the CLI prints it and exits 2


def test_fails_security_group_open_to_the_internet() -> None:
    stack = tiny_stack()
    SecurityGroup(
        stack,
        "open",
        name="open",
        ingress=[SecurityGroupIngress(from_port=22, to_port=22, protocol="tcp", cidr_blocks=["0.0.0.0/0"])],
    )
    with pytest.raises(PolicyError) as caught:
        check_stack(stack)
    assert rules_of(caught.value) == {("policy-test/open", OPEN_INGRESS)}
    assert "0.0.0.0/0" in caught.value.render()


def test_fails_database_without_deletion_protection() -> None:
    stack = tiny_stack()
    DbInstance(
        stack,
        "db",
        engine="postgres",
        instance_class="db.t4g.micro",
        allocated_storage=20,
        publicly_accessible=True,
        skip_final_snapshot=True,
    )
    with pytest.raises(PolicyError) as caught:
        check_stack(stack)
    found = rules_of(caught.value)
    assert {
        ("policy-test/db", DELETION_PROTECTION),
        ("policy-test/db", PREVENT_DESTROY),
        ("policy-test/db", ENCRYPTION_CMK),
        ("policy-test/db", PUBLIC_DATABASE),
        ("policy-test/db", TLS_ONLY),
    } <= found
    assert "set deletion_protection = true" in caught.value.render()


def test_secure_bucket_passes_and_a_suppression_is_counted() -> None:
    stack = tiny_stack()
    logs = SecureBucket(
        stack,
        "logs",
        SecureBucketProps(
            bucket_name="iworkz-policy-logs",
            sse_s3_reason="S3 server access logging delivers only to SSE-S3 targets",
            access_log_opt_out="this bucket is the access-log target itself",
        ),
    )
    SecureBucket(
        stack,
        "data",
        SecureBucketProps(
            bucket_name="iworkz-policy-data",
            kms_key_arn="arn:aws:kms:ap-northeast-1:111122223333:key/policy-test",
            access_log_bucket=logs.name,
        ),
    )
    data = stack.node.find_child("data").node.find_child("bucket")
    suppress(data, BACKUP_COVERAGE, "a test bucket: no backup plan in this stack")
    suppress(data, BUCKET_REPLICATION, "a test bucket: no second region in this stack")
    report = check_stack(stack)
    assert report.violations == []
    assert report.suppression_count == 4
    assert {s.path for s, _ in report.suppressed} == {"policy-test/logs/bucket", "policy-test/data/bucket"}
    assert sorted(f.rule for _, f in report.suppressed) == [
        ACCESS_LOGGING,
        BACKUP_COVERAGE,
        BUCKET_REPLICATION,
        ENCRYPTION_CMK,
    ]


def _open_web_group(stack: TerraformStack) -> Construct:
    group = Construct(stack, "legacy")
    SecurityGroup(
        group,
        "web",
        name="web",
        ingress=[SecurityGroupIngress(from_port=443, to_port=443, protocol="tcp", cidr_blocks=["0.0.0.0/0"])],
    )
    return group


def test_suppression_on_an_ancestor_covers_its_children_only_when_asked() -> None:
    stack = tiny_stack()
    suppress(_open_web_group(stack), OPEN_INGRESS, "public HTTPS entry point behind AWS Shield, reviewed by security")
    with pytest.raises(PolicyError) as caught:
        check_stack(stack)
    assert rules_of(caught.value) == {("policy-test/legacy/web", OPEN_INGRESS)}


def test_suppression_with_children_covers_the_resource_only_for_its_rule() -> None:
    stack = tiny_stack()
    suppress(
        _open_web_group(stack),
        OPEN_INGRESS,
        "public HTTPS entry point behind AWS Shield, reviewed by security",
        include_children=True,
    )
    report = check_stack(stack)
    assert report.suppression_count == 1
    assert [(s.rule, f.path) for s, f in report.suppressed] == [(OPEN_INGRESS, "policy-test/legacy/web")]

    other = tiny_stack()
    bucket_scope = Construct(other, "scope")
    S3Bucket(
        bucket_scope, "naked", bucket="iworkz-policy-naked", lifecycle=TerraformResourceLifecycle(prevent_destroy=True)
    )
    suppress(bucket_scope, ENCRYPTION_CMK, "the test suppresses only encryption on purpose", include_children=True)
    with pytest.raises(PolicyError) as caught:
        check_stack(other)
    rules = {rule for _, rule in rules_of(caught.value)}
    assert ENCRYPTION_CMK not in rules
    assert PUBLIC_BUCKET in rules


@pytest.mark.parametrize("reason", ["", "   ", "because"])
def test_fails_suppression_without_a_reason(reason: str) -> None:
    stack = tiny_stack()
    with pytest.raises(SuppressionError, match="needs a written reason"):
        suppress(stack, OPEN_INGRESS, reason)
    with pytest.raises(ValueError):  # the historical contract of suppress()
        suppress(stack, OPEN_INGRESS, reason)


def test_fails_suppression_of_an_unknown_rule() -> None:
    stack = tiny_stack()
    with pytest.raises(SuppressionError, match="unknown policy rule 'ENCRYPTION'"):
        suppress(stack, "ENCRYPTION", "a typo must not silently suppress nothing")


def test_suppressions_and_waivers_are_recorded_on_their_own_stack() -> None:
    """Each stack keeps what was suppressed or waived in it (no walk over the construct tree); the
    facts of several stacks list them in the stacks' order."""
    first, second = tiny_stack("one"), tiny_stack("two")
    suppress(_open_web_group(second), OPEN_INGRESS, "public HTTPS entry point, reviewed", include_children=True)
    bucket = S3Bucket(first, "naked", bucket="iworkz-policy-naked")
    suppress(bucket, ENCRYPTION_CMK, "the test suppresses only encryption on purpose")
    waive(first, "guardduty_features.LAMBDA_NETWORK_LOGS", "no Lambda function in this test stack")
    both = policy_facts([first, second])
    assert [(s.stack, s.path, s.rule, s.include_children) for s in both.suppressions] == [
        ("one", "one/naked", ENCRYPTION_CMK, False),
        ("two", "two/legacy", OPEN_INGRESS, True),
    ]
    assert [(w.stack, w.control) for w in both.waivers] == [("one", "guardduty_features.LAMBDA_NETWORK_LOGS")]
    assert [s.stack for s in policy_facts([second]).suppressions] == ["two"]
    assert policy_facts([second]).waivers == ()


def test_taggable_azurerm_types_are_the_resource_classes_with_tags() -> None:
    """What MANDATORY_TAGS checks on azurerm: resource types whose class takes ``tags``; a data source
    of the same name and a resource without tags are not among them."""
    # loaded, as a stack that uses them loads them
    import cdktf_cdktf_provider_azurerm.data_azurerm_resource_group
    import cdktf_cdktf_provider_azurerm.resource_group
    import cdktf_cdktf_provider_azurerm.role_assignment  # noqa: F401

    taggable = taggable_azurerm_types()
    assert "azurerm_resource_group" in taggable
    assert "azurerm_role_assignment" not in taggable


# --- rules on documents (no synth) ------------------------------------------------------------


def _doc(resources: dict[str, dict[str, Any]], environment: str = "production") -> dict[str, Any]:
    tags = {**TAGS, "Environment": environment}
    return {
        "provider": {"aws": [{"region": "ap-northeast-1", "default_tags": [{"tags": tags}]}]},
        "resource": copy.deepcopy(resources),
    }


# The rules for what must never be missing (a backup selection, a delete lock, ...) flag every
# data store of these fragments; tests/test_security_rules.py tests them on fragments of their own.
_COMPLETENESS_RULES = frozenset(
    {BACKUP_COVERAGE, BACKUP_VAULT_LOCK, BUCKET_REPLICATION, AZURE_DELETE_LOCK, AUDIT_TRAIL}
)


def _found(document: dict[str, Any], taggable: frozenset[str] = frozenset()) -> set[tuple[str, str]]:
    findings = evaluate(StackDocument("doc", document, taggable))
    return {(f.address, f.rule) for f in findings if f.rule not in _COMPLETENESS_RULES}


def test_public_ip_only_allowed_in_subnets_routed_to_an_internet_gateway() -> None:
    document = _doc(
        {
            "aws_internet_gateway": {"igw": {}},
            "aws_route_table": {"public": {}, "private": {}},
            "aws_route": {
                "default": {
                    "route_table_id": "${aws_route_table.public.id}",
                    "gateway_id": "${aws_internet_gateway.igw.id}",
                }
            },
            "aws_subnet": {
                "public-a": {"map_public_ip_on_launch": True},
                "private-a": {"map_public_ip_on_launch": True},
            },
            "aws_route_table_association": {
                "pa": {"subnet_id": "${aws_subnet.public-a.id}", "route_table_id": "${aws_route_table.public.id}"},
                "pr": {"subnet_id": "${aws_subnet.private-a.id}", "route_table_id": "${aws_route_table.private.id}"},
            },
        }
    )
    assert _found(document) == {("aws_subnet.private-a", PUBLIC_IP)}


def test_eks_public_endpoint_is_a_violation_only_in_production() -> None:
    encrypted = [{"resources": ["secrets"], "provider": {"key_arn": "arn:aws:kms:key"}}]
    cluster: dict[str, Any] = {
        "aws_eks_cluster": {"main": {"vpc_config": {"subnet_ids": []}, "encryption_config": encrypted}}
    }
    assert _found(_doc(cluster, "production")) == {("aws_eks_cluster.main", EKS_PUBLIC_ENDPOINT)}
    assert _found(_doc(cluster, "dev")) == set()
    restricted = copy.deepcopy(cluster)
    restricted["aws_eks_cluster"]["main"]["vpc_config"]["public_access_cidrs"] = ["203.0.113.0/24"]
    assert _found(_doc(restricted, "production")) == set()


def test_launch_template_needs_imdsv2_and_encrypted_volumes() -> None:
    template = {"aws_launch_template": {"nodes": {"metadata_options": {"http_tokens": "optional"}}}}
    assert _found(_doc(template)) == {
        ("aws_launch_template.nodes", IMDSV2),
        ("aws_launch_template.nodes", ENCRYPTION_CMK),
    }
    good = {
        "aws_launch_template": {
            "nodes": {
                "metadata_options": {"http_tokens": "required"},
                "block_device_mappings": [
                    {"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "kms_key_id": "arn:aws:kms:key"}}
                ],
            }
        }
    }
    assert _found(_doc(good)) == set()


def test_provider_without_mandatory_default_tags() -> None:
    document = _doc({})
    del document["provider"]["aws"][0]["default_tags"][0]["tags"]["Owner"]
    assert _found(document) == {("provider.aws", MANDATORY_TAGS)}


def test_azurerm_resources_that_take_tags_need_them() -> None:
    storage: dict[str, Any] = {
        "azurerm_storage_account": {
            "backup": {
                "location": "koreacentral",
                "min_tls_version": "TLS1_2",
                "allow_nested_items_to_be_public": False,
                "lifecycle": {"prevent_destroy": True},
                "tags": {"Project": "iWORKZ", "Environment": "production"},
            }
        }
    }
    taggable = frozenset({"azurerm_storage_account"})
    assert _found(_doc(storage), taggable) == {("azurerm_storage_account.backup", MANDATORY_TAGS)}
    storage["azurerm_storage_account"]["backup"]["tags"].update(ManagedBy="Terraform", Owner="DevOps")
    assert _found(_doc(storage), taggable) == set()
    storage["azurerm_storage_account"]["backup"]["min_tls_version"] = "TLS1_0"
    assert _found(_doc(storage), taggable) == {("azurerm_storage_account.backup", TLS_ONLY)}


def test_rds_needs_force_ssl_parameter_group() -> None:
    instance = {
        "storage_encrypted": True,
        "kms_key_id": "arn:aws:kms:key",
        "deletion_protection": True,
        "lifecycle": {"prevent_destroy": True},
        "parameter_group_name": "${aws_db_parameter_group.pg.name}",
    }
    group = {"name": "pg", "parameter": [{"name": "rds.force_ssl", "value": "0"}]}
    document = _doc({"aws_db_instance": {"db": instance}, "aws_db_parameter_group": {"pg": group}})
    assert _found(document) == {("aws_db_instance.db", TLS_ONLY)}
    document["resource"]["aws_db_parameter_group"]["pg"]["parameter"][0]["value"] = "1"
    assert _found(document) == set()


# --- checkov (make scan) --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# `make install` creates .venv-checkov; only a bare `pytest` outside CI may lack it.
needs_checkov = pytest.mark.skipif(
    not CHECKOV.exists() and not os.environ.get("CI"), reason="checkov is installed by `make install` (.venv-checkov)"
)


def _full_selection() -> bool:
    return not (os.environ.get("STACKS") or os.environ.get("ENVS"))


SCAN = scan_snapshots if _full_selection() else scan_synthesised_stacks


def _scan_summary(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, int]]:
    summary_file = Path(result.args[result.args.index("--json") + 1])
    assert summary_file.exists(), result.stdout + result.stderr
    return json.loads(summary_file.read_text())


@needs_checkov
@pytest.mark.early(command=SCAN)
def test_checkov_passes_on_every_synthesised_stack(
    synthesized: dict[str, Any], early_result: subprocess.CompletedProcess[str]
) -> None:
    """A full run scans the snapshots, from the start of the session (tests/early.py)."""
    output = early_result.stdout + early_result.stderr
    if _full_selection():
        assert {p.stem for p in (ROOT / "tests" / "snapshots").glob("*.json")} == set(synthesized)
    summary = _scan_summary(early_result)
    for name in synthesized:
        assert f"\n{name} " in output, f"{name} missing from the scan table"
        assert summary[name]["failed"] == 0, output
        assert summary[name]["passed"] > 0, f"no check ran on {name}"
        assert f"could not parse {name}/" not in output
    # the run fails, and only because of the negative cases
    assert early_result.returncode == 1, output
    assert set(re.findall(r"^  ([\w-]+): CKV", output, re.MULTILINE)) == {"bad-stack"}, output


@needs_checkov
@pytest.mark.early(command=SCAN)
def test_checkov_scan_fails_on_a_bad_stack_and_on_one_it_cannot_parse(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    output = early_result.stdout + early_result.stderr
    assert early_result.returncode == 1, output
    assert "bad-stack: CKV_AWS_24 aws_security_group.open" in output  # SSH open to the internet
    assert "bad-stack: terraform.required_version left out for checkov's parser" in output
    assert "checkov could not parse broken-stack/cdk.tf.json: none of its checks ran" in output
    assert re.search(r"\nbroken-stack +0 +0 +0\n", output), output
    assert _scan_summary(early_result)["broken-stack"] == {"passed": 0, "failed": 0, "skipped": 0}


def _scan_module() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    import scan

    return scan


@pytest.mark.parametrize(
    ("results", "status"),
    [
        ({"passed_checks": [{"check_id": "CKV_AWS_1", "resource": "r", "file_abs_path": "{stack}"}]}, 0),
        ({"failed_checks": [{"check_id": "CKV_AWS_1", "resource": "r", "file_abs_path": "{stack}"}]}, 1),
        ({"parsing_errors": ["{stack}"]}, 1),  # nothing ran on the stack: that fails too
        ({"failed_checks": [{"check_id": "CKV_SKIPPED", "resource": "r", "file_abs_path": "{stack}"}]}, 0),
    ],
    ids=["passed", "failed-check", "unparsed", "failed-but-skipped"],
)
def test_scan_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, results: dict[str, Any], status: int
) -> None:
    """scan.py's verdict for each kind of checkov report (the real checkov runs in the tests above)."""
    scan = _scan_module()
    stack = tmp_path / "cdktf.out" / "stacks" / "one"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    (tmp_path / "checkov.yaml").write_text("skip-check:\n  - CKV_SKIPPED  # reason\n")

    def canned(checkov: Path, scanned: Path) -> list[dict[str, Any]]:
        text = json.dumps(results).replace("{stack}", str(scanned / "one" / "cdk.tf.json"))
        return [{"results": json.loads(text)}]

    monkeypatch.setattr(scan, "run_checkov", canned)
    argv = ["--outdir", str(tmp_path / "cdktf.out"), "--config", str(tmp_path / "checkov.yaml")]
    assert scan.main([*argv, "--checkov", sys.executable]) == status


def test_every_checkov_skip_has_a_reason_and_is_specific() -> None:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    import yaml

    config = yaml.safe_load("\n".join(lines))
    assert set(config) == {"skip-check"}, "only skip-check belongs in .checkov.yaml (no framework skips)"
    for index, line in enumerate(lines):
        if line.strip().startswith("- "):
            check_id = line.strip()[2:].strip()
            assert re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", check_id), f"not a single check id: {check_id!r}"
            reason = []
            for previous in reversed(lines[:index]):
                if not previous.strip().startswith("#"):
                    break
                reason.append(previous)
            assert len(" ".join(reason)) >= 40, f"{check_id} needs its reason in the comment above it"
    assert len(config["skip-check"]) == len(set(config["skip-check"]))


def test_a_violation_stops_the_synth_before_anything_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """synthesize() applies the policy to every stack of the app and publishes nothing on a violation."""
    import iworkz.app
    from iworkz.cli import main
    from iworkz.synth import synthesize

    def bad_app(_settings: Any, planned: Any, outdir: Path) -> tuple[Any, dict[str, TerraformStack]]:
        from cdktf import App

        app = App(outdir=str(outdir))
        good = TerraformStack(app, "good-stack")
        AwsProvider(good, "aws", region="ap-northeast-1", default_tags=[AwsProviderDefaultTags(tags=TAGS)])
        bad = TerraformStack(app, "bad-stack")
        AwsProvider(bad, "aws", region="ap-northeast-1", default_tags=[AwsProviderDefaultTags(tags=TAGS)])
        S3Bucket(bad, "naked", bucket="iworkz-policy-naked")
        return app, {"good-stack": good, "bad-stack": bad}

    monkeypatch.setattr(iworkz.app, "build_app", bad_app)
    outdir = tmp_path / "cdktf.out"
    with pytest.raises(PolicyError) as caught:
        synthesize(settings, [], outdir)
    assert {item.path for item in caught.value.violations} == {"bad-stack/naked"}
    assert not (outdir / "stacks").exists() and not (outdir / REPORT_FILE).exists()
    assert main(["--stacks", "state", "--outdir", str(outdir)]) == 2  # the CLI turns it into exit status 2


def test_every_rule_has_its_own_module_with_id_description_fix_and_check() -> None:
    import importlib
    import pkgutil

    import iworkz.policy.rules as package
    from iworkz.policy.rules import REGISTRY, TREE_REGISTRY, Rule, TreeRule

    modules = [m.name for m in pkgutil.iter_modules(package.__path__) if m.name != "base"]
    rules = [importlib.import_module(f"iworkz.policy.rules.{name}").RULE for name in modules]
    registered: list[Rule | TreeRule] = [*REGISTRY, *TREE_REGISTRY]
    assert sorted(rule.id for rule in rules) == sorted(rule.id for rule in registered) == sorted(RULES)
    for rule in registered:
        assert rule.description and rule.fix and callable(rule.check)
        assert RULES[rule.id] == rule.description
