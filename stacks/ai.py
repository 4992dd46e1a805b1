"""`ai-<environment>`: the AI/ML services of the platform design's 12.1, private and least-privilege.

- SageMaker: the real-time endpoint of the matching model ai-services calls (when
  ``ai.endpoint.enabled``), its artifact and data-capture buckets, key and log group (always:
  turning the endpoint off destroys no data);
- Bedrock: the guardrail masking personal information that every call must name, and (in the
  environment that owns it) the account's model invocation logging;
- the interface endpoints of SageMaker Runtime, Bedrock Runtime, Textract and Comprehend, whose
  policies admit only ai-services' role and only what it is granted (:class:`AiOutputs`).

Why a stack of its own: these resources change with the models, not with the network or the
data services; the workloads stack reads the endpoint name and the grants from this stack's
contract, so the endpoint ai-services calls exists before ai-services is deployed. The VPC
endpoints live here, not in the network stack, because their policies name this stack's
resources and follow its configuration (no SageMaker Runtime endpoint without an endpoint);
they are built by the same :class:`VpcEndpoints` construct the network stack uses.
"""

from __future__ import annotations

from iworkz.config.ai import (
    MATCHING_MODEL,
    artifact_bucket,
    data_capture_bucket,
    guardrail_name,
    invocation_log_bucket,
    matching_endpoint,
)
from iworkz.config.data import ACCESS_LOGS_BUCKET
from iworkz.contracts import AiOutputs, DataOutputs, NetworkOutputs
from iworkz.policy import suppress
from iworkz.policy.rules import BACKUP_COVERAGE, BUCKET_REPLICATION
from iworkz_constructs.ai_access import invoke_arn
from iworkz_constructs.bedrock_guardrail import PiiGuardrail, PiiGuardrailProps
from iworkz_constructs.bedrock_invocation_logging import BedrockInvocationLogging, BedrockInvocationLoggingProps
from iworkz_constructs.kms_key import KeyPurpose, KmsKey, purpose_keys, regional_services
from iworkz_constructs.log_group import LogGroup, LogGroupProps
from iworkz_constructs.sagemaker_endpoint import SageMakerEndpoint, SageMakerEndpointProps, endpoint_log_group_name
from iworkz_constructs.secure_bucket import SecureBucket, SecureBucketProps
from iworkz_constructs.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from stacks.base import IworkzStack

# Superseded model archives stay a year: rolling back a model needs its archive.
ARTIFACT_NONCURRENT_DAYS = 365


class AiStack(IworkzStack):
    """Attributes: ``keys``, ``buckets``, ``endpoint`` (None when disabled), ``guardrail``,
    ``vpc_endpoints``; publishes :class:`AiOutputs`."""

    def build(self, network: NetworkOutputs, data: DataOutputs) -> AiOutputs:
        context = self.context
        ai = context.env.ai
        prefix = context.prefix
        region, account_id = self.aws.region, self.aws.account_id
        access_logs = data.buckets[ACCESS_LOGS_BUCKET]
        self.keys = self._keys(prefix, account_id, region)

        capture_bucket = data_capture_bucket(prefix)
        self.buckets = {
            "artifacts": SecureBucket(
                self,
                "artifacts-bucket",
                SecureBucketProps(
                    bucket_name=artifact_bucket(prefix),
                    kms_key_arn=self.keys["sagemaker"].arn,
                    access_log_bucket=access_logs,
                    noncurrent_version_expiration_days=ARTIFACT_NONCURRENT_DAYS,
                ),
            ),
            # Captured requests and responses hold personal data: kept only as configured.
            "data-capture": SecureBucket(
                self,
                "data-capture-bucket",
                SecureBucketProps(
                    bucket_name=capture_bucket,
                    kms_key_arn=self.keys["sagemaker"].arn,
                    access_log_bucket=access_logs,
                    expiration_days=ai.data_capture_retention_days,
                    noncurrent_version_expiration_days=30,
                ),
            ),
        }
        suppress(
            self.buckets["artifacts"].bucket,
            BACKUP_COVERAGE,
            "model archives are build outputs the ML pipeline uploads again from its sources and the training "
            "data (in the data stack's backed-up, replicated buckets); versioning keeps every upload",
        )
        suppress(
            self.buckets["artifacts"].bucket,
            BUCKET_REPLICATION,
            "model archives are rebuilt by the ML pipeline; the DR site runs no SageMaker endpoint to read a replica",
        )
        for rule in (BACKUP_COVERAGE, BUCKET_REPLICATION):
            suppress(
                self.buckets["data-capture"].bucket,
                rule,
                "captured requests hold personal data kept only ai.data_capture_retention_days for model "
                "monitoring: a backup or a replica would outlive that retention",
            )
        endpoint_name = matching_endpoint(prefix)
        endpoint_logs = LogGroup(
            self,
            "endpoint-logs",
            LogGroupProps(
                name=endpoint_log_group_name(endpoint_name),
                kms_key_arn=self.keys["sagemaker"].arn,
                retention_days=ai.log_retention_days,
            ),
        )
        self.endpoint: SageMakerEndpoint | None = None
        endpoint = ai.endpoint
        if endpoint.enabled:
            assert (
                endpoint.image and endpoint.model_artifact and endpoint.instance_type
            )  # config: complete when enabled
            assert endpoint.instance_count and endpoint.max_instance_count
            assert endpoint.invocations_per_instance and endpoint.data_capture_percentage
            self.endpoint = SageMakerEndpoint(
                self,
                "matching-endpoint",
                SageMakerEndpointProps(
                    name=endpoint_name,
                    region=region,
                    account_id=account_id,
                    vpc_id=network.vpc_id,
                    vpc_cidr=network.vpc_cidr,
                    subnet_ids=network.private_subnet_ids,
                    image=endpoint.image,
                    model_artifact=endpoint.model_artifact,
                    artifact_bucket=artifact_bucket(prefix),
                    capture_bucket=capture_bucket,
                    kms_key_arn=self.keys["sagemaker"].arn,
                    log_group_arn=endpoint_logs.arn,
                    instance_type=endpoint.instance_type,
                    instance_count=endpoint.instance_count,
                    max_instance_count=endpoint.max_instance_count,
                    invocations_per_instance=endpoint.invocations_per_instance,
                    data_capture_percentage=endpoint.data_capture_percentage,
                    depends_on=[bucket.bucket for bucket in self.buckets.values()],
                ),
            )

        self.guardrail = PiiGuardrail(
            self, "guardrail", PiiGuardrailProps(name=guardrail_name(prefix), kms_key_arn=self.keys["bedrock"].arn)
        )
        if ai.bedrock.invocation_logging:
            BedrockInvocationLogging(
                self,
                "invocation-logging",
                BedrockInvocationLoggingProps(
                    name=prefix,
                    region=region,
                    account_id=account_id,
                    bucket_name=invocation_log_bucket(prefix),
                    kms_key_arn=self.keys["bedrock"].arn,
                    access_log_bucket=access_logs,
                    retention_days=ai.log_retention_days,
                ),
            )

        endpoints = {MATCHING_MODEL: self.endpoint} if self.endpoint else {}
        outputs = AiOutputs.of(
            context,
            endpoint_names={model: e.name for model, e in endpoints.items()},
            endpoint_arns={model: e.arn for model, e in endpoints.items()},
            model_arns={model: invoke_arn(model, region, account_id) for model in ai.bedrock.models},
            guardrail_id=self.guardrail.guardrail_id,
            guardrail_arn=self.guardrail.arn,
            guardrail_version=self.guardrail.version,
            guardrail_kms_key_arn=self.keys["bedrock"].arn,
        )
        access, clients = outputs.access(), [outputs.client_role_arn(account_id)]
        self.vpc_endpoints = VpcEndpoints(
            self,
            "vpc-endpoints",
            VpcEndpointsProps(
                name=f"{prefix}-ai",
                vpc_id=network.vpc_id,
                region=region,
                allowed_cidrs=[network.vpc_cidr],
                gateway_endpoints=(),
                interface_endpoints=ai.vpc_endpoint_services,
                interface_subnet_ids=network.private_subnet_ids,
                policies={service: access.endpoint_policy(service, clients) for service in ai.vpc_endpoint_services},
            ),
        )
        return outputs

    def _keys(self, prefix: str, account_id: str, region: str) -> dict[str, KmsKey]:
        logs = f"logs.{region}.amazonaws.com"
        return purpose_keys(
            self,
            prefix,
            account_id,
            {
                "sagemaker": KeyPurpose(
                    "SageMaker volumes, model archives, data capture and logs",
                    (logs,),
                    regional_services(region, "s3", "sagemaker"),
                ),
                # Bedrock writes the invocation logs as a service; the guardrail's users decrypt it through Bedrock.
                "bedrock": KeyPurpose(
                    "Bedrock guardrail and invocation logs",
                    (logs, "bedrock.amazonaws.com"),
                    regional_services(region, "s3", "bedrock"),
                ),
            },
        )
