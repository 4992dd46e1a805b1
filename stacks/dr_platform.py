"""`dr-platform-<environment>`: the add-ons of the DR site's AKS cluster, the operators that install CRDs.

The same pinned charts and static values as the primary's platform stack (:class:`ClusterAddon`):

- the Gateway API CRDs and Istio (base, istiod): istiod implements the standby Gateway, whose
  Service takes the site's static ingress address (the edge's failover pool);
- cert-manager: the Gateway's certificate for the public hosts;
- External Secrets: the workloads' secrets from the site's Key Vault (workload identity).

Metrics and logs need no add-on here: the cluster's own Azure Monitor agent (Container Insights)
and AKS's managed metrics-server run on it. None of these calls AWS: no IAM role.
Objects of these kinds live in ``dr-workloads-<environment>``, deployed after this stack.
"""

from __future__ import annotations

from iworkz.contracts import MESH_ROOT_NAMESPACE, DrAzureOutputs
from iworkz_constructs.cluster_addon import AddonTarget, ClusterAddon, ClusterAddonProps
from stacks.aks_providers import aks_providers
from stacks.base import IworkzStack
from stacks.platform import CERT_MANAGER_NAMESPACE, EXTERNAL_SECRETS_NAMESPACE


class DrPlatformStack(IworkzStack):
    """Attribute ``addons`` (release -> :class:`ClusterAddon`); publishes nothing."""

    def build(self, dr_azure: DrAzureOutputs) -> None:
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
