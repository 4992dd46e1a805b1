"""Azure Monitor alerts of the DR site on the environment's one alert path.

An Azure Monitor action group calls a **secure webhook**: Azure signs each call with a Microsoft
Entra token for an application created here (with the app role ``ActionGroupsSecureWebhook``
granted to Azure Monitor's action groups application, as the Azure Monitor documentation
prescribes). The webhook is an HTTP API of API Gateway whose JWT authorizer verifies the token
(issuer: the tenant's v2.0 endpoint; audience: this application) before invoking the alerts
stack's forwarder, which checks the caller application and role and delivers the alert to
Alertmanager's receivers like every CloudWatch alarm. The action group holds no receiver URL:
the URLs stay in Secrets Manager.

Azure alerts (the DR database, storage, ...) join with :meth:`AzureAlertPath.action`: the
action block of a metric, log or activity-log alert, naming the team and severity the
receivers route on (the webhook's custom properties).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktf_cdktf_provider_aws.apigatewayv2_authorizer import (
    Apigatewayv2Authorizer,
    Apigatewayv2AuthorizerJwtConfiguration,
)
from cdktf_cdktf_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktf_cdktf_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktf_cdktf_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_azuread.app_role_assignment import AppRoleAssignment
from cdktf_cdktf_provider_azuread.application import Application, ApplicationApi, ApplicationAppRole
from cdktf_cdktf_provider_azuread.application_identifier_uri import ApplicationIdentifierUri
from cdktf_cdktf_provider_azuread.data_azuread_client_config import DataAzureadClientConfig
from cdktf_cdktf_provider_azuread.data_azuread_service_principal import DataAzureadServicePrincipal
from cdktf_cdktf_provider_azuread.service_principal import ServicePrincipal
from cdktf_cdktf_provider_azurerm.monitor_action_group import (
    MonitorActionGroup,
    MonitorActionGroupWebhookReceiver,
    MonitorActionGroupWebhookReceiverAadAuth,
)
from cdktf_cdktf_provider_azurerm.monitor_metric_alert import MonitorMetricAlertAction
from constructs import Construct

from iworkz_constructs.alarm_settings import SEVERITIES

# Azure Monitor's action groups application (the caller of secure webhooks) and the app role it needs.
ACTION_GROUPS_APP_ID = "461e8683-5575-4561-ac7f-899cc907d62a"
SECURE_WEBHOOK_ROLE = "ActionGroupsSecureWebhook"
ROUTE = "POST /azure-monitor"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "authorizerError": "$context.authorizer.error",
        "integrationError": "$context.integrationErrorMessage",
    },
    sort_keys=True,
)


@dataclass(frozen=True)
class AzureAlertPathProps:
    """Properties of :class:`AzureAlertPath`.

    | name | meaning | default |
    |---|---|---|
    | name | name prefix, e.g. ``iworkz-production-dr`` | required |
    | resource_group_name | resource group of the action group | required |
    | tenant_id | Microsoft Entra tenant of the application (the token issuer) | required |
    | forwarder_function_name / forwarder_invoke_arn | the alerts stack's forwarder | required |
    | teams | teams with a receiver (:meth:`AzureAlertPath.action` checks against them) | required |
    | kms_key_arn | key of the webhook's access log | required |
    | log_retention_days | retention of the access log | 365 |
    | throttling_rate / throttling_burst | requests per second the webhook accepts | 10 / 20 |
    | tags | Azure tags | none |
    | aws_provider | aws provider | the stack's default |
    """

    name: str
    resource_group_name: str
    tenant_id: str
    forwarder_function_name: str
    forwarder_invoke_arn: str
    teams: Sequence[str]
    kms_key_arn: str
    log_retention_days: int = 365
    throttling_rate: int = 10
    throttling_burst: int = 20
    tags: Mapping[str, str] = field(default_factory=dict)
    aws_provider: AwsProvider | None = None

    def __post_init__(self) -> None:
        if not self.teams:
            raise ValueError(f"Azure alert path {self.name}: give the teams that have a receiver")
        if not 1 <= self.throttling_rate <= self.throttling_burst:
            raise ValueError(f"Azure alert path {self.name}: need 1 <= throttling_rate <= throttling_burst")


class AzureAlertPath(Construct):
    """Attributes: ``action_group`` (``azurerm_monitor_action_group``), ``action_group_id``,
    ``application`` (the Entra application), ``webhook_url``, ``api``."""

    def __init__(self, scope: Construct, id: str, props: AzureAlertPathProps) -> None:
        super().__init__(scope, id)
        self._teams = tuple(props.teams)
        aws = props.aws_provider
        # A stable id for the app role: Entra keys roles by id, a new one would be a new role.
        role_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"iworkz:{props.name}:{SECURE_WEBHOOK_ROLE}"))
        # Terraform's identity owns what it creates (Application.ReadWrite.OwnedBy suffices to manage it).
        owners = [DataAzureadClientConfig(self, "deployer").object_id]
        self.application = Application(
            self,
            "application",
            display_name=f"{props.name}-alert-webhook",
            description="Audience of the Azure Monitor secure webhook that delivers the DR site's alerts",
            sign_in_audience="AzureADMyOrg",
            owners=owners,
            # v2.0 tokens: issuer https://login.microsoftonline.com/<tenant>/v2.0, audience the client id.
            api=ApplicationApi(requested_access_token_version=2),
            app_role=[
                ApplicationAppRole(
                    id=role_id,
                    value=SECURE_WEBHOOK_ROLE,
                    display_name=SECURE_WEBHOOK_ROLE,
                    description="Azure Monitor action groups may call the alert webhook",
                    allowed_member_types=["Application"],
                    enabled=True,
                )
            ],
            # The identifier URI is its own resource (it names the client id, known after creation).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["identifier_uris"]),
        )
        audience = f"api://{self.application.client_id}"
        identifier = ApplicationIdentifierUri(
            self, "identifier-uri", application_id=self.application.id, identifier_uri=audience
        )
        principal = ServicePrincipal(
            self,
            "service-principal",
            client_id=self.application.client_id,
            app_role_assignment_required=True,
            owners=owners,
        )
        action_groups = DataAzureadServicePrincipal(self, "action-groups", client_id=ACTION_GROUPS_APP_ID)
        grant = AppRoleAssignment(
            self,
            "action-groups-role",
            app_role_id=role_id,
            principal_object_id=action_groups.object_id,
            resource_object_id=principal.object_id,
        )

        self.api = Apigatewayv2Api(
            self,
            "api",
            name=f"{props.name}-alert-webhook",
            description="Azure Monitor secure webhook (Entra-signed) -> the alert forwarder",
            protocol_type="HTTP",
            provider=aws,
        )
        authorizer = Apigatewayv2Authorizer(
            self,
            "authorizer",
            api_id=self.api.id,
            name="azure-monitor",
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration=Apigatewayv2AuthorizerJwtConfiguration(
                issuer=f"https://login.microsoftonline.com/{props.tenant_id}/v2.0",
                audience=[self.application.client_id],
            ),
            provider=aws,
        )
        integration = Apigatewayv2Integration(
            self,
            "integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_uri=props.forwarder_invoke_arn,
            payload_format_version="2.0",
            provider=aws,
        )
        route = Apigatewayv2Route(
            self,
            "route",
            api_id=self.api.id,
            route_key=ROUTE,
            target=f"integrations/{integration.id}",
            authorization_type="JWT",
            authorizer_id=authorizer.id,
            provider=aws,
        )
        access_log = CloudwatchLogGroup(
            self,
            "access-log",
            name=f"/aws/apigateway/{props.name}-alert-webhook",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            provider=aws,
        )
        Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=access_log.arn, format=ACCESS_LOG_FORMAT
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=props.throttling_rate,
                throttling_burst_limit=props.throttling_burst,
                detailed_metrics_enabled=True,
            ),
            depends_on=[route],
            provider=aws,
        )
        method, path = ROUTE.split(" ")
        LambdaPermission(
            self,
            "invokes-forwarder",
            statement_id="AzureMonitorSecureWebhook",
            action="lambda:InvokeFunction",
            function_name=props.forwarder_function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/*/{method}{path}",
            provider=aws,
        )
        self.webhook_url = f"{self.api.api_endpoint}{path}"
        self.action_group = MonitorActionGroup(
            self,
            "action-group",
            name=f"{props.name}-alerts",
            short_name="iworkz-dr",
            resource_group_name=props.resource_group_name,
            webhook_receiver=[
                MonitorActionGroupWebhookReceiver(
                    name="alert-forwarder",
                    service_uri=self.webhook_url,
                    use_common_alert_schema=True,
                    aad_auth=MonitorActionGroupWebhookReceiverAadAuth(
                        object_id=self.application.object_id, identifier_uri=audience, tenant_id=props.tenant_id
                    ),
                )
            ],
            tags=dict(props.tags),
            depends_on=[identifier, grant],
        )
        self.action_group_id = self.action_group.id

    def action(self, team: str, severity: str) -> MonitorMetricAlertAction:
        """The ``action`` block of an Azure Monitor alert on this path (``team`` and ``severity`` route it)."""
        return MonitorMetricAlertAction(**alert_action(self.action_group_id, self._teams, team, severity))


def alert_action(action_group_id: str, teams: Sequence[str], team: str, severity: str) -> dict[str, Any]:
    """The fields of an alert's action on the path: the action group and its webhook properties."""
    if severity not in SEVERITIES:
        raise ValueError(f"alert severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    if team not in teams:
        raise ValueError(f"team {team!r} has no alert receiver ({', '.join(teams)})")
    return {"action_group_id": action_group_id, "webhook_properties": {"team": team, "severity": severity}}
