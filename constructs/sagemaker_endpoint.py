"""A SageMaker real-time endpoint in the VPC: model -> endpoint configuration -> endpoint, autoscaled.

Secure defaults: the container runs with network isolation inside the private subnets behind a
security group of its own (HTTPS out to the VPC's interface endpoints and the S3 gateway
endpoint only, nothing in: invocations arrive through SageMaker Runtime); the volume, the
captured requests and responses and the logs are encrypted with the caller's customer-managed
key; the execution role reads exactly the model archive and the image, writes exactly the
capture prefix and the endpoint's log group.

Changing the image, the archive or the sizing replaces the model and the endpoint
configuration (their names are generated, and the new ones are created first); the endpoint
then moves to the new configuration in place, keeping its name, which ai-services calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sagemaker_endpoint import SagemakerEndpoint
from cdktf_cdktf_provider_aws.sagemaker_endpoint_configuration import (
    SagemakerEndpointConfiguration,
    SagemakerEndpointConfigurationDataCaptureConfig,
    SagemakerEndpointConfigurationDataCaptureConfigCaptureContentTypeHeader,
    SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions,
    SagemakerEndpointConfigurationProductionVariants,
)
from cdktf_cdktf_provider_aws.sagemaker_model import (
    SagemakerModel,
    SagemakerModelPrimaryContainer,
    SagemakerModelVpcConfig,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from iworkz.config.ai import artifact_key, artifact_rule, ecr_repository, image_rule, instance_type_rule
from iworkz_constructs.policy_document import PolicyDocument, service_trust

VARIANT = "primary"
HTTPS = 443
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
SCALE_IN_COOLDOWN_S = 300  # scale in slowly: a new instance takes minutes to load the model
SCALE_OUT_COOLDOWN_S = 60
# What the execution role needs to attach the endpoint's network interfaces in the VPC.
VPC_DESCRIBE_ACTIONS = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)
VPC_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
)


def endpoint_log_group_name(endpoint_name: str) -> str:
    """The log group SageMaker writes an endpoint's container logs to (create it first, encrypted)."""
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


@dataclass(frozen=True)
class SageMakerEndpointProps:
    """Properties of :class:`SageMakerEndpoint`.

    | name | meaning | default |
    |---|---|---|
    | name | endpoint name (what callers invoke), e.g. ``iworkz-production-ai-matching`` | required |
    | region / account_id | Region and account of the endpoint (account: caller identity token) | required |
    | vpc_id / vpc_cidr | the VPC and its CIDR (egress to its interface endpoints) | required |
    | subnet_ids | private subnets of the endpoint's network interfaces, one per zone | required |
    | image | ECR image of the inference container (``{account_id}`` is replaced) | required |
    | model_artifact | ``s3://<artifact_bucket>/<key>.tar.gz``, the model archive | required |
    | artifact_bucket | bucket the archive lies in (the role reads only the archive) | required |
    | capture_bucket | bucket receiving the captured requests and responses, under ``<name>/`` | required |
    | kms_key_arn | customer-managed key of the volume, the capture and the archive | required |
    | log_group_arn | the endpoint's log group (:func:`endpoint_log_group_name`) | required |
    | instance_type | an EBS-only real-time instance type (its volume takes ``kms_key_arn``) | ``ml.c6i.large`` |
    | instance_count | instances at start and the autoscaling floor | 2 |
    | max_instance_count | autoscaling ceiling | 4 |
    | invocations_per_instance | autoscaling target, invocations per instance per minute | 300 |
    | data_capture_percentage | share of requests captured for model monitoring | 20 |
    | depends_on | what must exist first (buckets, key, log group) | none |
    """

    name: str
    region: str
    account_id: str
    vpc_id: str
    vpc_cidr: str
    subnet_ids: Sequence[str]
    image: str
    model_artifact: str
    artifact_bucket: str
    capture_bucket: str
    kms_key_arn: str
    log_group_arn: str
    instance_type: str = "ml.c6i.large"
    instance_count: int = 2
    max_instance_count: int = 4
    invocations_per_instance: int = 300
    data_capture_percentage: int = 20
    depends_on: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        for rule in (
            instance_type_rule(self.instance_type),
            image_rule(self.image, self.region),
            artifact_rule(self.model_artifact, self.artifact_bucket),
        ):
            if rule is not None:
                raise ValueError(f"SageMaker endpoint {self.name}: {rule.rule}")
        if not 1 <= self.instance_count <= self.max_instance_count:
            raise ValueError(f"SageMaker endpoint {self.name}: need 1 <= instance_count <= max_instance_count")
        if self.invocations_per_instance < 1 or not 1 <= self.data_capture_percentage <= 100:
            raise ValueError(f"SageMaker endpoint {self.name}: invocations >= 1, capture percentage 1-100")
        if not self.subnet_ids:
            raise ValueError(f"SageMaker endpoint {self.name}: give the private subnets")
        if len(self.name) > 63:
            raise ValueError(f"SageMaker endpoint {self.name}: names have at most 63 characters")

    @property
    def capture_uri(self) -> str:
        return f"s3://{self.capture_bucket}/{self.name}"


class SageMakerEndpoint(Construct):
    """Attributes: ``endpoint``, ``model``, ``configuration`` (resources), ``name``, ``arn``,
    ``role_arn``, ``security_group_id``, ``scaling_target``."""

    def __init__(self, scope: Construct, id: str, props: SageMakerEndpointProps) -> None:
        super().__init__(scope, id)
        self.security_group_id = self._security_group(props)
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-sagemaker",
            description=f"SageMaker execution role of the endpoint {props.name}",
            assume_role_policy=PolicyDocument(
                self,
                "trust-policy",
                [
                    service_trust(
                        "sagemaker.amazonaws.com", condition={"StringEquals": {"aws:SourceAccount": props.account_id}}
                    )
                ],
            ).json,
        )
        policy = IamRolePolicy(
            self,
            "role-policy",
            name="serve-model",
            role=role.id,
            policy=PolicyDocument(
                self, "role-policy-document", execution_statements(props, self.security_group_id)
            ).json,
        )
        self.role_arn = role.arn
        self.model = SagemakerModel(
            self,
            "model",
            execution_role_arn=role.arn,
            enable_network_isolation=True,
            primary_container=SagemakerModelPrimaryContainer(
                image=props.image.replace("{account_id}", props.account_id),
                model_data_url=props.model_artifact,
                mode="SingleModel",
            ),
            vpc_config=SagemakerModelVpcConfig(
                subnets=list(props.subnet_ids), security_group_ids=[self.security_group_id]
            ),
            depends_on=[policy, *props.depends_on],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.configuration = SagemakerEndpointConfiguration(
            self,
            "configuration",
            name_prefix=f"{props.name}-",
            kms_key_arn=props.kms_key_arn,
            production_variants=[
                SagemakerEndpointConfigurationProductionVariants(
                    variant_name=VARIANT,
                    model_name=self.model.name,
                    instance_type=props.instance_type,
                    initial_instance_count=props.instance_count,
                    initial_variant_weight=1,
                )
            ],
            data_capture_config=SagemakerEndpointConfigurationDataCaptureConfig(
                enable_capture=True,
                initial_sampling_percentage=props.data_capture_percentage,
                destination_s3_uri=props.capture_uri,
                kms_key_id=props.kms_key_arn,
                capture_options=[
                    SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions(capture_mode=mode)
                    for mode in ("Input", "Output")
                ],
                capture_content_type_header=SagemakerEndpointConfigurationDataCaptureConfigCaptureContentTypeHeader(
                    json_content_types=["application/json"]
                ),
            ),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.endpoint = SagemakerEndpoint(
            self, "endpoint", name=props.name, endpoint_config_name=self.configuration.name
        )
        self.name = self.endpoint.name
        self.arn = self.endpoint.arn
        self.scaling_target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="sagemaker",
            resource_id=f"endpoint/{self.endpoint.name}/variant/{VARIANT}",
            scalable_dimension=SCALABLE_DIMENSION,
            min_capacity=props.instance_count,
            max_capacity=props.max_instance_count,
        )
        AppautoscalingPolicy(
            self,
            "scaling-policy",
            name=f"{props.name}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            service_namespace=self.scaling_target.service_namespace,
            resource_id=self.scaling_target.resource_id,
            scalable_dimension=self.scaling_target.scalable_dimension,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=props.invocations_per_instance,
                predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=INVOCATIONS_METRIC
                ),
                scale_in_cooldown=SCALE_IN_COOLDOWN_S,
                scale_out_cooldown=SCALE_OUT_COOLDOWN_S,
            ),
        )

    def _security_group(self, props: SageMakerEndpointProps) -> str:
        """No ingress; HTTPS out to the VPC (interface endpoints: ECR, logs, STS) and to S3 (gateway endpoint)."""
        group = SecurityGroup(
            self,
            "security-group",
            name=f"{props.name}-endpoint",
            description=f"SageMaker endpoint {props.name}: HTTPS to the VPC endpoints and S3 only",
            vpc_id=props.vpc_id,
            tags={"Name": f"{props.name}-endpoint"},
        )
        s3 = DataAwsEc2ManagedPrefixList(self, "s3-prefix-list", name=f"com.amazonaws.{props.region}.s3")
        for key, cidr, prefix_list in (("vpc", props.vpc_cidr, None), ("s3", None, s3.id)):
            VpcSecurityGroupEgressRule(
                self,
                f"https-to-{key}",
                security_group_id=group.id,
                description=f"HTTPS to {key} (model archive, image, logs, data capture)",
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                cidr_ipv4=cidr,
                prefix_list_id=prefix_list,
            )
        return group.id


def execution_statements(props: SageMakerEndpointProps, security_group_id: str) -> list[dict[str, Any]]:
    """The execution role's statements: the archive, the image, the capture prefix, the logs, the VPC."""
    account, repository = ecr_repository(props.image)
    account = account.replace("{account_id}", props.account_id)
    vpc_arn = f"arn:aws:ec2:{props.region}:{props.account_id}:vpc/{props.vpc_id}"
    return [
        {
            "Sid": "ReadModelArchive",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{props.artifact_bucket}/{artifact_key(props.model_artifact)}",
        },
        {
            "Sid": "WriteDataCapture",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{props.capture_bucket}/{props.name}/*",
        },
        {
            "Sid": "UseKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": props.kms_key_arn,
        },
        {
            "Sid": "PullImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": f"arn:aws:ecr:{props.region}:{account}:repository/{repository}",
        },
        {"Sid": "GetRegistryToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [props.log_group_arn, f"{props.log_group_arn}:log-stream:*"],
        },
        {"Sid": "DescribeVpc", "Effect": "Allow", "Action": list(VPC_DESCRIBE_ACTIONS), "Resource": "*"},
        {
            "Sid": "AttachToVpc",
            "Effect": "Allow",
            "Action": list(VPC_INTERFACE_ACTIONS),
            "Resource": [
                f"arn:aws:ec2:{props.region}:{props.account_id}:network-interface/*",
                f"arn:aws:ec2:{props.region}:{props.account_id}:security-group/{security_group_id}",
                *(f"arn:aws:ec2:{props.region}:{props.account_id}:subnet/{subnet}" for subnet in props.subnet_ids),
            ],
            "Condition": {"ArnEquals": {"ec2:Vpc": vpc_arn}},
        },
    ]
