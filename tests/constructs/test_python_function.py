"""PythonFunction: the package holds only the folder's modules; secure defaults; bad props."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from cdktf import App, AssetType, TerraformAsset, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from iworkz_constructs.python_function import LAMBDAS_DIR, PythonFunction, PythonFunctionProps, package
from tests.constructs.alerting import ACTIONS
from tests.tf import new_app, one, policy_json, synth_stack

KEY = "arn:aws:kms:ap-northeast-1:123456789012:key/alerts"


def _props(**overrides) -> PythonFunctionProps:
    values = {
        "function_name": "iworkz-test-asg-metrics",
        "description": "test",
        "source": "asg_metrics",
        "handler": "asg_metrics.handler",
        "kms_key_arn": KEY,
        "alarm_actions": ACTIONS,
        **overrides,
    }
    return PythonFunctionProps(**values)


def test_secure_defaults() -> None:
    stack = TerraformStack(new_app(), "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    PythonFunction(
        stack,
        "fn",
        _props(statements=[{"Sid": "X", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
    )
    doc = synth_stack(stack)
    function = one(doc, "aws_lambda_function")
    assert function["runtime"] == "python3.13" and function["architectures"] == ["arm64"]
    assert "kms_key_arn" not in function  # no environment: a key would be a permanent diff
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["reserved_concurrent_executions"] == 5
    assert function["dead_letter_config"]["target_arn"].startswith("${aws_sqs_queue.")
    assert function["logging_config"]["log_format"] == "JSON"
    assert "vpc_config" not in function  # it calls AWS APIs and webhooks, nothing in the VPC
    assert one(doc, "aws_sqs_queue")["kms_master_key_id"] == KEY
    group = one(doc, "aws_cloudwatch_log_group")
    assert group["name"] == "/aws/lambda/iworkz-test-asg-metrics" and group["kms_key_id"] == KEY
    statements = {s["Sid"]: s for s in policy_json(doc, one(doc, "aws_iam_role_policy")["policy"])["Statement"]}
    assert set(statements) == {"OwnLogGroup", "Tracing", "DeadLetterQueue", "EncryptedQueue", "X"}
    assert statements["OwnLogGroup"]["Resource"].endswith(".arn}:*")
    alarm = one(doc, "aws_cloudwatch_metric_alarm")
    assert alarm["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["dimensions"] == {"QueueName": "iworkz-test-asg-metrics-failed"}


def test_the_package_is_the_folders_modules_only(tmp_path: Path) -> None:
    (LAMBDAS_DIR / "asg_metrics" / "__pycache__").mkdir(exist_ok=True)  # what a test run leaves
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="ap-northeast-1")
    PythonFunction(stack, "fn", _props())
    app.synth()
    (archive,) = tmp_path.glob("stacks/test/assets/*/*/archive.zip")
    modules = sorted(p.name for p in (LAMBDAS_DIR / "asg_metrics").glob("*.py"))
    assert zipfile.ZipFile(archive).namelist() == modules == ["asg_metrics.py"]


def test_the_package_is_reproducible_and_hashed_as_cdktf_hashes_its_folder(tmp_path: Path) -> None:
    """The same bytes on every synth; the hash is cdktf's own for a folder of the same modules, so the
    asset path and source_code_hash are what cdktf's archive asset gave them."""
    first = Path(package("alert_forwarder").path).read_bytes()
    package.cache_clear()
    built = package("alert_forwarder")
    assert Path(built.path).read_bytes() == first
    modules = tmp_path / "modules"
    modules.mkdir()
    for module in (LAMBDAS_DIR / "alert_forwarder").glob("*.py"):
        shutil.copy2(module, modules / module.name)
    stack = TerraformStack(App(outdir=str(tmp_path / "out")), "hash")
    folder_asset = TerraformAsset(stack, "folder", path=str(modules), type=AssetType.ARCHIVE)
    assert built.content_hash == folder_asset.asset_hash


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"function_name": "has spaces"}, "function_name"),
        ({"handler": "missing.handler"}, "handler"),
        ({"handler": "asg_metrics"}, "handler"),
        ({"timeout_seconds": 901}, "timeout_seconds"),
        ({"memory_mb": 64}, "memory_mb"),
        ({"concurrency": 0}, "concurrency"),
        ({"alarm_actions": None}, "alarms_opt_out"),
        ({"statements": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "Action"),
    ],
)
def test_fails_on_bad_props(overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        _props(**overrides)
