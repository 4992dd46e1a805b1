"""`dr-platform-<environment>`: the add-ons of the DR site's AKS cluster, the operators that install CRDs.

The same pinned charts and static values as the primary's platform stack (:class:`ClusterAddon`):

- the Gateway API CRDs and Istio (base, istiod): istiod implements the standby Gateway, whose
  Service takes the site's static ingress address (the edge's failover pool);
- cert-manager: the Gateway's certificate for the public hosts;
- External Secrets: the workloads' secrets from the site's Key Vault, read as the Entra workload
  identity of the service account ``key-vault-reader`` (AKS's OIDC issuer, ``Key Vault Secrets
  User`` on the vault, no key); the store that uses it is an object of this release's CRDs.

Metrics and logs need no add-on here: the cluster's own Azure Monitor agent (Container Insights)
and AKS's managed metrics-server run on it. None of these calls AWS: no IAM role.
Objects of these kinds live in ``dr-workloads-<environment>``, deployed after this stack.
"""

from __future__ import annotations

from iworkz.contracts import MESH_ROOT_NAMESPACE, DrAzureOutputs, DrPlatformOutputs
from iworkz_constructs.cluster_addon import AddonTarget, ClusterAddon, ClusterAddonProps
from iworkz_constructs.entra_workload_identity import EntraWorkloadIdentity, EntraWorkloadIdentityProps
from stacks.aks_providers import aks_providers
from stacks.aws_providers import default_tags
from stacks.azure_providers import azurerm_provider
from stacks.base import IworkzStack
from stacks.platform import CERT_MANAGER_NAMESPACE, EXTERNAL_SECRETS_NAMESPACE

# The service account the workloads' ClusterSecretStore reads the Key Vault as.
SECRET_READER = "key-vault-reader"


class DrPlatformStack(IworkzStack):
    """Attribute ``addons`` (release -> :class:`ClusterAddon`); publishes :class:`DrPlatformOutputs`."""

    def build(self, dr_azure: DrAzureOutputs) -> DrPlatformOutputs:
        providers = aks_providers(self, dr_azure)
        target = AddonTarget(None, providers.helm, providers.kubernetes)
        gateway_api = ClusterAddon(self, "gateway-api-crds", ClusterAddonProps("gateway-api-crds", target))
        # Uninstalling the CRDs would delete the standby Gateway (and release its address).
        gateway_api.release.add_override("lifecycle.prevent_destroy", True)
        base = ClusterAddon(
            self, "istio-base", ClusterAddonProps("istio-base", target, MESH_ROOT_NAMESPACE, create_namespace=True)
        )
        self.addons = {"gateway-api-crds": gateway_api, "istio-base": base}
        for props in (
            # istiod watches the Gateway API CRDs: it must find them when it starts.
            ClusterAddonProps(
                "istiod",
                target,
                MESH_ROOT_NAMESPACE,
                required_values=("profile",),
                depends_on=[base.release, gateway_api.release],
            ),
            ClusterAddonProps(
                "cert-manager", target, CERT_MANAGER_NAMESPACE, create_namespace=True, required_values=("crds.enabled",)
            ),
            ClusterAddonProps(
                "external-secrets",
                target,
                EXTERNAL_SECRETS_NAMESPACE,
                create_namespace=True,
                required_values=("installCRDs",),
            ),
        ):
            self.addons[props.release] = ClusterAddon(self, props.release, props)
        azurerm_provider(self, self.context.env.dr_azure)
        self.secret_reader = EntraWorkloadIdentity(
            self,
            "secret-reader",
            EntraWorkloadIdentityProps(
                name=f"{self.context.prefix}-dr-secret-reader",
                resource_group_name=dr_azure.resource_group_name,
                location=dr_azure.location,
                tenant_id=dr_azure.tenant_id,
                issuer=dr_azure.aks_oidc_issuer_url,
                namespace=EXTERNAL_SECRETS_NAMESPACE,
                service_account=SECRET_READER,
                tags=default_tags(self.context),
            ),
        )
        self.secret_reader.grant("key-vault", "Key Vault Secrets User", dr_azure.key_vault_id)
        self.secret_reader.kubernetes_service_account(
            providers.kubernetes, depends_on=[self.addons["external-secrets"].release]
        )
        return DrPlatformOutputs.of(
            self.context,
            gateway_namespace=self.addons["istiod"].namespace,
            secret_reader=f"{EXTERNAL_SECRETS_NAMESPACE}/{SECRET_READER}",
        )
