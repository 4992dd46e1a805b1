"""A Python Lambda function from one folder of ``runtime/lambdas/``, with secure defaults.

The folder's modules are zipped at synth time (:func:`package`; a cdktf asset in the stack's folder;
the code hash is the modules' content's, so unchanged code never redeploys, and a ``__pycache__``
left by a test run never reaches the package). The function runs on arm64 under its own
role (its log group, X-Ray, its dead-letter queue, and what the caller grants with
:meth:`PythonFunction.add_to_policy`), with its environment, its log group and its dead-letter
queue encrypted by the caller's customer-managed key (the environment only when it has one),
active tracing and a concurrency limit.
It runs outside a VPC: the functions here call AWS APIs and the alert receivers' webhooks,
nothing inside the VPC.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from iworkz_constructs.alarm_settings import FunctionAlarms, check_alerting
from iworkz_constructs.alarms import AlarmActions, AlarmSpec, Metric, optional_alarms
from iworkz_constructs.policy_document import PolicyDocument, service_trust
from iworkz_constructs.workload_role import check_statement

LAMBDAS_DIR = Path(__file__).resolve().parents[1] / "runtime" / "lambdas"
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
# 14 days, the longest SQS keeps a message: time to inspect and replay what failed.
DEAD_LETTER_RETENTION_SECONDS = 1_209_600
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HANDLER = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: the same bytes on every synth
ZIP_FILE_MODE = 0o100644  # a regular file, readable by the Lambda runtime's user


@dataclass(frozen=True)
class PythonFunctionProps:
    """Properties of :class:`PythonFunction`.

    | name | meaning | default |
    |---|---|---|
    | function_name | Lambda function name (also of its role, log group and dead-letter queue) | required |
    | description | what it does | required |
    | source | folder below ``runtime/lambdas/`` holding its modules | required |
    | handler | ``<module>.<function>`` | required |
    | kms_key_arn | customer-managed key of its environment, log group and dead-letter queue | required |
    | environment | environment variables (never secrets: read those from Secrets Manager) | none |
    | statements | IAM statements of what it calls | none |
    | timeout_seconds / memory_mb | limits | 30 / 256 |
    | concurrency | reserved concurrent executions (also its most) | 5 |
    | log_retention_days | retention of ``/aws/lambda/<function_name>`` | 365 |
    | alarm_actions | alert topics of its failed-events alarm | required unless alarms_opt_out |
    | alarms_opt_out | reason for creating no alarm | none |
    | alarms | settings of the alarm | :class:`FunctionAlarms` defaults |
    | provider | aws provider | the stack's default |
    """

    function_name: str
    description: str
    source: str
    handler: str
    kms_key_arn: str
    environment: Mapping[str, str] = field(default_factory=dict)
    statements: Sequence[Mapping[str, Any]] = ()
    timeout_seconds: int = 30
    memory_mb: int = 256
    concurrency: int = 5
    log_retention_days: int = 365
    alarm_actions: AlarmActions | None = None
    alarms_opt_out: str | None = None
    alarms: FunctionAlarms = field(default_factory=FunctionAlarms)
    provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        name = self.function_name
        check_alerting(f"function {name}", self.alarm_actions, self.alarms_opt_out)
        if not _NAME.match(name):
            raise ValueError(f"function_name {name!r}: 1-64 letters, digits, '-' and '_'")
        folder = LAMBDAS_DIR / self.source
        module, _, _ = self.handler.partition(".")
        if not _HANDLER.match(self.handler) or not (folder / f"{module}.py").is_file():
            raise ValueError(
                f"{name}: handler {self.handler!r} is not <module>.<function> of runtime/lambdas/{self.source}/"
            )
        if not 1 <= self.timeout_seconds <= 900:
            raise ValueError(f"{name}: timeout_seconds must be 1-900")
        if not 128 <= self.memory_mb <= 10_240:
            raise ValueError(f"{name}: memory_mb must be 128-10240")
        if self.concurrency < 1:
            raise ValueError(f"{name}: concurrency must be at least 1")
        for index, statement in enumerate(self.statements):
            check_statement(name, index, statement)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"


class PythonFunction(Construct):
    """Attributes: ``function`` (the resource), ``arn``, ``invoke_arn``, ``name``, ``role``,
    ``dead_letter_queue``, ``log_group``, ``alarms`` (None with ``alarms_opt_out``)."""

    def __init__(self, scope: Construct, id: str, props: PythonFunctionProps) -> None:
        super().__init__(scope, id)
        self._props = props
        provider = props.provider
        name = props.function_name
        self.log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=props.log_group_name,
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
            # Logs are evidence (what was delivered, what failed): kept like every log group.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            provider=provider,
        )
        self.dead_letter_queue = SqsQueue(
            self,
            "dead-letter-queue",
            name=f"{name}-failed",  # failed_events_alarm names it too
            kms_master_key_id=props.kms_key_arn,
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            provider=provider,
        )
        self.role = IamRole(
            self,
            "role",
            name=name,
            description=f"Lambda function {name}",
            assume_role_policy=PolicyDocument(
                self, "trust-policy", [service_trust("lambda.amazonaws.com")], provider=provider
            ).json,
            provider=provider,
        )
        self._policy = PolicyDocument(
            self, "policy-document", [*_base_statements(self, props), *props.statements], provider=provider
        )
        policy = IamRolePolicy(
            self, "policy", name=name, role=self.role.id, policy=self._policy.json, provider=provider
        )
        code_package = package(props.source)
        code = TerraformAsset(
            self, "code", path=code_package.path, type=AssetType.FILE, asset_hash=code_package.content_hash
        )
        self.function = LambdaFunction(
            self,
            "function",
            function_name=name,
            description=props.description,
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=props.handler,
            filename=code.path,
            source_code_hash=code.asset_hash,
            timeout=props.timeout_seconds,
            memory_size=props.memory_mb,
            reserved_concurrent_executions=props.concurrency,
            # A key without environment variables is a permanent diff (the API drops it).
            kms_key_arn=props.kms_key_arn if props.environment else None,
            environment=LambdaFunctionEnvironment(variables=dict(props.environment)) if props.environment else None,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn),
            # The role's policy must exist before the function first runs (and writes its logs).
            depends_on=[policy, self.log_group],
            provider=provider,
        )
        self.arn = self.function.arn
        self.invoke_arn = self.function.invoke_arn
        self.name = self.function.function_name
        self.alarms = optional_alarms(
            self, "alarms", props.alarms.team, props.alarm_actions, lambda: [failed_events_alarm(props)], provider
        )

    def add_to_policy(self, *statements: Mapping[str, Any]) -> None:
        """Grants the function more (e.g. ``AlertsOutputs.grant_publish``); no ``Action: "*"``."""
        existing = len(self._policy.statements)
        for index, statement in enumerate(statements, start=existing):
            check_statement(self._props.function_name, index, statement)
        self._policy.add_statements(*statements)


def failed_events_alarm(props: PythonFunctionProps) -> AlarmSpec:
    """Events the function failed after Lambda's retries wait in its dead-letter queue."""
    failed, name = props.alarms.failed_events_count, props.function_name
    queue = f"{name}-failed"
    return AlarmSpec(
        "failed-events",
        f"{name}-failed-events",
        f"Lambda {name}: more than {failed.value:g} events failed after retries (in the queue {queue}: "
        "inspect and redrive them)",
        failed,
        ">",
        failed.value,
        Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue}, "Maximum"),
        treat_missing_data="notBreaching",
    )


@dataclass(frozen=True)
class Package:
    """The zip of one ``runtime/lambdas/<source>`` folder's modules, and the hash of their content."""

    path: str
    content_hash: str


@cache
def package(source: str) -> Package:
    """Zips the modules of ``runtime/lambdas/<source>`` (nothing else: no ``__pycache__``).

    Built here rather than by cdktf: cdktf zips an archive asset by starting a node process (~0.4 s
    per function and synth). The zip is reproducible (names in order, fixed timestamps and modes),
    and its hash is the one cdktf computes for a folder (MD5 of the files' contents in name order),
    so the asset's path and the function's ``source_code_hash`` change only when the code does.
    The zip is removed when the process exits (cdktf copies it into the stack's folder).
    """
    folder = Path(tempfile.mkdtemp(prefix=f"iworkz-lambda-{source}-"))
    atexit.register(shutil.rmtree, folder, True)
    archive = folder / "archive.zip"
    digest = hashlib.md5(usedforsecurity=False)
    with zipfile.ZipFile(archive, "w") as zipped:
        for module in sorted((LAMBDAS_DIR / source).glob("*.py")):
            content = module.read_bytes()
            digest.update(content)
            entry = zipfile.ZipInfo(module.name, date_time=ZIP_TIMESTAMP)
            entry.external_attr = ZIP_FILE_MODE << 16
            zipped.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return Package(str(archive), digest.hexdigest().upper())


def _base_statements(function: PythonFunction, props: PythonFunctionProps) -> list[dict[str, Any]]:
    """What every function needs: write its own logs, send traces, park failed events."""
    return [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{function.log_group.arn}:*",
        },
        {
            # X-Ray offers no resource-level permissions for these two actions.
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
        {
            "Sid": "DeadLetterQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": function.dead_letter_queue.arn,
        },
        {
            "Sid": "EncryptedQueue",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": props.kms_key_arn,
        },
    ]
