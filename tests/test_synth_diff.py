"""The synth diff's comparison (a pure function over two synths) and its base checkout."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import synth_diff
from synth_diff import compare, render_markdown, render_text

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def stack_json() -> dict[str, Any]:
    """A small stack as cdktf writes it, with its volatile "//" metadata."""
    return {
        "//": {"metadata": {"backend": "s3", "stackName": "data-production", "version": "0.21.0"}},
        "provider": {"aws": [{"region": "ap-northeast-1"}]},
        "resource": {
            "aws_db_instance": {
                "postgres_db_1A2B3C4D": {
                    "//": {"metadata": {"path": "data-production/postgres/db", "uniqueId": "postgres_db_1A2B3C4D"}},
                    "identifier": "iworkz-production-postgres",
                    "instance_class": "db.r6g.xlarge",
                    "deletion_protection": True,
                    "lifecycle": {"prevent_destroy": True},
                    "tags": {"Name": "postgres"},
                }
            },
            "aws_security_group": {
                "postgres_sg_5E6F7A8B": {
                    "ingress": [{"from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.0.0/16"]}],
                }
            },
            "aws_iam_policy": {
                "reader": {
                    "policy": json.dumps(
                        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}
                    )
                }
            },
        },
        "output": {"endpoint": {"value": "${aws_db_instance.postgres_db_1A2B3C4D.endpoint}"}},
    }


def synth(**stacks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name.replace("_", "-"): document for name, document in stacks.items()}


def test_no_change_ignores_volatile_metadata() -> None:
    base = synth(data_production=stack_json())
    head_doc = stack_json()
    head_doc["//"]["metadata"]["version"] = "0.22.0"
    head_doc["resource"]["aws_db_instance"]["postgres_db_1A2B3C4D"]["//"]["metadata"]["path"] = "elsewhere/db"
    report = compare(base, synth(data_production=head_doc))
    assert not report.changed
    assert [stack.status for stack in report.stacks] == ["unchanged"]
    assert report.alerts == []
    assert "0 of 1 stacks changed" in render_text(report)


def test_a_change_lists_the_changed_attribute_paths() -> None:
    head_doc = stack_json()
    sg = head_doc["resource"]["aws_security_group"]["postgres_sg_5E6F7A8B"]
    sg["ingress"][0]["cidr_blocks"] = ["10.0.1.0/24"]
    head_doc["resource"]["aws_db_instance"]["postgres_db_1A2B3C4D"]["instance_class"] = "db.r6g.2xlarge"
    head_doc["resource"]["aws_db_instance"]["postgres_db_1A2B3C4D"]["tags"]["Team"] = "platform"
    head_doc["output"]["port"] = {"value": 5432}
    report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))

    assert report.changed
    (stack,) = report.stacks
    assert stack.status == "changed"
    changes = {change.address: change for change in stack.resources}
    assert set(changes) == {"aws_db_instance.postgres_db_1A2B3C4D", "aws_security_group.postgres_sg_5E6F7A8B"}
    assert changes["aws_db_instance.postgres_db_1A2B3C4D"].paths == ("instance_class", "tags.Team")
    assert changes["aws_security_group.postgres_sg_5E6F7A8B"].paths == ("ingress[0].cidr_blocks[0]",)
    assert [(change.path, change.old, change.new) for change in stack.other] == [
        ("output.port", synth_diff.ABSENT, {"value": 5432})
    ]
    # an in-place change of a stateful resource is a change, not an alert
    assert report.alerts == []
    text = render_text(report)
    assert "~ aws_db_instance.postgres_db_1A2B3C4D  [stateful]" in text
    # old -> new for each changed attribute, not only its path
    assert '        instance_class: "db.r6g.xlarge" -> "db.r6g.2xlarge"' in text
    assert '        tags.Team: (absent) -> "platform"' in text
    assert '        ingress[0].cidr_blocks[0]: "10.0.0.0/16" -> "10.0.1.0/24"' in text
    assert '    ~ output.port: (absent) -> {"value": 5432}' in text
    markdown = render_markdown(report)
    assert '- `instance_class`: `"db.r6g.xlarge"` → `"db.r6g.2xlarge"`' in markdown


def test_a_change_inside_a_json_policy_names_the_path_inside() -> None:
    head_doc = stack_json()
    head_doc["resource"]["aws_iam_policy"]["reader"]["policy"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    )
    report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))
    (change,) = report.stacks[0].resources
    assert change.paths == ("policy{Statement[0].Action}",)
    assert '        policy{Statement[0].Action}: "s3:GetObject" -> "s3:*"' in render_text(report)


def test_a_change_inside_a_multi_line_string_shows_the_changed_lines_with_context() -> None:
    values = "controller:\n  replicaCount: 2\n  resources:\n    limits:\n      memory: 256Mi\n"
    base_doc, head_doc = stack_json(), stack_json()
    base_doc["resource"]["helm_release"] = {"lb": {"values": [values]}}
    head_doc["resource"]["helm_release"] = {"lb": {"values": [values.replace("replicaCount: 2", "replicaCount: 3")]}}
    text = render_text(compare(synth(data_production=base_doc), synth(data_production=head_doc)))
    block = text[text.index("~ helm_release.lb") :].splitlines()[1:6]
    assert block == [
        "        values[0]:",
        "          @@ -1,3 +1,3 @@",
        "           controller:",
        "          -  replicaCount: 2",
        "          +  replicaCount: 3",
    ]


def test_a_change_inside_a_jsonencode_expression_shows_the_changed_lines() -> None:
    def secret(port: int) -> str:
        return (
            '${jsonencode({"host" = aws_elasticache_replication_group.redis.configuration_endpoint_address, '
            f'"port" = {port}, "tls" = true, "users" = {{"app" = aws_elasticache_user.app.user_id}}}})}}'
        )

    base_doc, head_doc = stack_json(), stack_json()
    base_doc["resource"]["aws_secretsmanager_secret_version"] = {"redis": {"secret_string": secret(6379)}}
    head_doc["resource"]["aws_secretsmanager_secret_version"] = {"redis": {"secret_string": secret(6380)}}
    markdown = render_markdown(compare(synth(data_production=base_doc), synth(data_production=head_doc)))
    assert (
        "\n".join(
            [
                "  - `secret_string`",
                "    ```diff",
                "    @@ -2,3 +2,3 @@",
                '       "host" = aws_elasticache_replication_group.redis.configuration_endpoint_address,',
                '    -  "port" = 6379,',
                '    +  "port" = 6380,',
                '       "tls" = true,',
                "    ```",
            ]
        )
        in markdown
    )


def test_a_stateful_removal_is_flagged_loudly() -> None:
    head_doc = stack_json()
    del head_doc["resource"]["aws_db_instance"]
    report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))

    (change,) = report.stacks[0].resources
    assert (change.kind, change.address, change.stateful) == ("removed", "aws_db_instance.postgres_db_1A2B3C4D", True)
    assert len(report.alerts) == 1
    assert "REMOVED" in report.alerts[0] and "DESTROY" in report.alerts[0]
    text = render_text(report)
    assert "STATEFUL RESOURCE ALERT" in text
    assert "aws_db_instance.postgres_db_1A2B3C4D REMOVED" in text
    assert ":warning: 1 stateful resource alert" in render_markdown(report)


def test_a_stateless_removal_is_a_change_without_alert() -> None:
    head_doc = stack_json()
    del head_doc["resource"]["aws_security_group"]
    report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))
    assert report.changed
    assert [(c.kind, c.address) for c in report.stacks[0].resources] == [
        ("removed", "aws_security_group.postgres_sg_5E6F7A8B")
    ]
    assert report.alerts == []


def test_a_logical_id_rename_of_a_stateful_resource_is_flagged_with_the_new_id() -> None:
    head_doc = stack_json()
    instances = head_doc["resource"]["aws_db_instance"]
    instances["postgres_db_99999999"] = instances.pop("postgres_db_1A2B3C4D")
    report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))
    kinds = sorted((c.kind, c.name) for c in report.stacks[0].resources)
    assert kinds == [("added", "postgres_db_99999999"), ("removed", "postgres_db_1A2B3C4D")]
    (alert,) = report.alerts
    assert "postgres_db_99999999 is new" in alert and "moved" in alert


def test_a_stateful_resource_kept_by_a_moved_or_removed_block_is_no_alert() -> None:
    renamed = stack_json()
    instances = renamed["resource"]["aws_db_instance"]
    instances["postgres_db_99999999"] = instances.pop("postgres_db_1A2B3C4D")
    renamed["moved"] = [{"from": "aws_db_instance.postgres_db_1A2B3C4D", "to": "aws_db_instance.postgres_db_99999999"}]
    handed_over = stack_json()
    del handed_over["resource"]["aws_db_instance"]
    handed_over["removed"] = [{"from": "aws_db_instance.postgres_db_1A2B3C4D", "lifecycle": {"destroy": False}}]
    destroyed = copy.deepcopy(handed_over)
    destroyed["removed"][0]["lifecycle"]["destroy"] = True
    for head_doc, kept in (
        (renamed, "moved to aws_db_instance.postgres_db_99999999"),
        (handed_over, "destroy = false"),
    ):
        report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))
        (removal,) = [c for c in report.stacks[0].resources if c.kind == "removed"]
        assert report.alerts == [] and removal.kept is not None and kept in removal.kept
        assert kept in render_text(report)
    report = compare(synth(data_production=stack_json()), synth(data_production=destroyed))
    assert len(report.alerts) == 1  # a removed block that destroys is a destruction


def test_a_replacing_attribute_change_and_lowered_protection_are_flagged() -> None:
    head_doc = stack_json()
    db = head_doc["resource"]["aws_db_instance"]["postgres_db_1A2B3C4D"]
    db["identifier"] = "iworkz-production-pg"
    db["deletion_protection"] = False
    del db["lifecycle"]
    report = compare(synth(data_production=stack_json()), synth(data_production=head_doc))
    alerts = report.alerts
    assert any("REPLACED" in alert and "identifier" in alert for alert in alerts)
    assert any("deletion_protection True -> False" in alert for alert in alerts)
    assert any("lifecycle.prevent_destroy True -> None" in alert for alert in alerts)


def test_a_removed_stack_removes_its_resources_and_flags_stateful_ones() -> None:
    report = compare(synth(data_production=stack_json()), {})
    (stack,) = report.stacks
    assert stack.status == "removed"
    assert stack.count("removed") == 3
    assert len(report.alerts) == 1


def test_a_new_stack_is_added_without_alert() -> None:
    report = compare({}, synth(data_production=stack_json()))
    (stack,) = report.stacks
    assert (stack.status, stack.count("added"), report.alerts) == ("added", 3, [])


def test_compare_does_not_modify_its_input() -> None:
    base, head = synth(data_production=stack_json()), synth(data_production=stack_json())
    del head["data-production"]["resource"]["aws_db_instance"]
    frozen = copy.deepcopy((base, head))
    compare(base, head)
    assert (base, head) == frozen


def test_the_diff_flags_every_stateful_type_of_the_policy() -> None:
    from iworkz.policy.rules import STATEFUL_TYPES as policy_types

    assert policy_types and set(policy_types) <= synth_diff.STATEFUL_TYPES
    for resource_type in policy_types:
        base = {"s": {"resource": {resource_type: {"x": {"name": "a"}}}}}
        assert compare(base, {"s": {}}).alerts, resource_type


def test_the_base_revision_runs_its_own_code_with_the_current_venv(tmp_path: Path) -> None:
    checkout = tmp_path / "base"
    commit = synth_diff.export_revision("HEAD", checkout)
    assert len(commit) == 40
    assert (checkout / "main.py").exists()
    env = synth_diff.prepare_checkout(checkout, tmp_path / "shim")
    probe = (
        "import iworkz, stacks, iworkz_constructs; print(iworkz.__file__, stacks.__file__, *iworkz_constructs.__path__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=checkout, env=env, capture_output=True, text=True, check=True
    )
    paths = result.stdout.split()
    assert all(path.startswith(str(checkout)) for path in paths), paths


def test_a_bad_base_ref_is_an_error_with_exit_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_diff.main(["--base", "no-such-ref-anywhere"]) == synth_diff.EXIT_ERROR
    assert "no-such-ref-anywhere" in capsys.readouterr().err
