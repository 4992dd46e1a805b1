"""`platform-<environment>`: the cluster add-ons, the operators and controllers that install CRDs.

The Gateway API CRDs (v1.5.0, standard channel), the AWS Load Balancer Controller (v3: ALBs for
Gateways), Istio in ambient mode (base, istiod, CNI, ztunnel: mTLS between workloads),
cert-manager, metrics-server (the HPA needs it), cluster-autoscaler (node-group discovery tags),
NVIDIA device plugin (on the GPU node groups) and External Secrets Operator: each a
:class:`ClusterAddon` with its pinned chart (iworkz/charts.py), static values (helm_values/) and,
where it calls AWS, its IRSA role. ingress-nginx, retired upstream in March 2026, is gone: its
release and namespace are destroyed (stateless; the controller deletes the NLB it created).

Objects of the kinds these install (Gateway, HTTPRoute, PeerAuthentication, SecretStore,
ExternalSecret) live in the stacks deployed after this one (workloads, monitoring): a first
deploy needs no ``-target``.
External Secrets has no AWS identity of its own: each namespace's SecretStore authenticates as
that namespace's service account, whose role reads only that namespace's secrets.

The design's 12.2 workloads were in this stack until the split: it forgets them (``removed``
blocks) and workloads-<environment> imports them (iworkz/migrations.py).
"""

from __future__ import annotations

from iworkz.contracts import MESH_ROOT_NAMESPACE, ClusterOutputs, PlatformOutputs
from iworkz.migrations import RETIRED_WITH_INGRESS_NGINX, WORKLOADS_LEFT_PLATFORM, forget, move_from
from iworkz_constructs.addon_policies import cluster_autoscaler_statements, load_balancer_controller_statements
from iworkz_constructs.cluster_addon import AddonRole, AddonTarget, ClusterAddon, ClusterAddonProps
from iworkz_constructs.scheduling import gpu_daemon_placement, gpu_node_groups
from stacks.base import IworkzStack
from stacks.cluster_providers import cluster_providers

CERT_MANAGER_NAMESPACE = "cert-manager"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
# The releases of the stack before the split: their resources keep the addresses they had.
PRE_SPLIT_RELEASES = frozenset(
    {
        "aws-load-balancer-controller",
        "cert-manager",
        "metrics-server",
        "cluster-autoscaler",
        "external-secrets",
        "nvidia-device-plugin",
    }
)


class PlatformStack(IworkzStack):
    """Attribute ``addons`` (release -> :class:`ClusterAddon`); publishes :class:`PlatformOutputs`."""

    def build(self, eks: ClusterOutputs) -> PlatformOutputs:
        context = self.context
        region = self.aws.region  # the stack's AWS provider (the add-ons' IAM roles), in the cluster's region
        providers = cluster_providers(self, eks)
        node_groups = context.env.eks.node_groups
        target = AddonTarget(eks, providers.helm, providers.kubernetes)
        # The controllers watching Gateway API objects enable themselves only when the CRDs exist.
        gateway_api = ClusterAddon(self, "gateway-api-crds", ClusterAddonProps("gateway-api-crds", target))
        # Uninstalling the CRDs would delete every Gateway and route (and the ALB with them).
        gateway_api.release.add_override("lifecycle.prevent_destroy", True)
        lbc = ClusterAddonProps(
            "aws-load-balancer-controller",
            target,
            # The nodes' IMDSv2 hop limit keeps pods away from instance metadata: pass region and VPC.
            values={"clusterName": eks.name, "region": region, "vpcId": eks.vpc_id},
            required_values=("serviceAccount.create", "controllerConfig.featureGates.ALBGatewayAPI"),
            role=AddonRole(
                f"{context.prefix}-aws-load-balancer-controller",
                "aws-load-balancer-controller",
                load_balancer_controller_statements(),
            ),
            depends_on=[gateway_api.release],
        )
        self.addons = {"gateway-api-crds": gateway_api, lbc.release: ClusterAddon(self, lbc.release, lbc)}
        self._mesh(target, gateway_api)
        addons = [
            ClusterAddonProps(
                "cert-manager", target, CERT_MANAGER_NAMESPACE, create_namespace=True, required_values=("crds.enabled",)
            ),
            ClusterAddonProps("metrics-server", target),
            ClusterAddonProps(
                "cluster-autoscaler",
                target,
                values={"autoDiscovery": {"clusterName": eks.name}, "awsRegion": region},
                required_values=("cloudProvider",),
                role=AddonRole(
                    f"{context.prefix}-cluster-autoscaler",
                    "cluster-autoscaler",
                    cluster_autoscaler_statements(eks.name),
                    service_account_values="rbac.serviceAccount",
                ),
            ),
            ClusterAddonProps(
                "external-secrets",
                target,
                EXTERNAL_SECRETS_NAMESPACE,
                create_namespace=True,
                required_values=("installCRDs",),
            ),
        ]
        if gpu_node_groups(node_groups):
            # Tolerations, node selector and affinity from the GPU node group(s), not written by hand.
            addons.append(ClusterAddonProps("nvidia-device-plugin", target, values=gpu_daemon_placement(node_groups)))
        for props in addons:
            self.addons[props.release] = ClusterAddon(self, props.release, props)
        self._keep_state()
        return PlatformOutputs.of(context)

    def _mesh(self, target: AddonTarget, gateway_api: ClusterAddon) -> None:
        """Istio in ambient mode: CRDs (base), control plane, the CNI node agent and ztunnel."""
        base = ClusterAddon(
            self,
            "istio-base",
            ClusterAddonProps("istio-base", target, MESH_ROOT_NAMESPACE, create_namespace=True),
        )
        self.addons["istio-base"] = base
        for release in ("istiod", "istio-cni", "ztunnel"):
            # istiod also serves Gateway API (it watches the CRDs); the node agents need its CA.
            after = [
                base.release,
                gateway_api.release,
                *([self.addons["istiod"].release] if release != "istiod" else []),
            ]
            self.addons[release] = ClusterAddon(
                self,
                release,
                ClusterAddonProps(
                    release,
                    target,
                    MESH_ROOT_NAMESPACE,
                    required_values=("profile",) if release != "ztunnel" else (),
                    depends_on=after,
                ),
            )

    def _keep_state(self) -> None:
        """The add-ons' resources keep their state from the addresses they had before the split."""
        for release, addon in self.addons.items():
            if release not in PRE_SPLIT_RELEASES:
                continue
            move_from(addon.release, release, "release")
            if addon.namespace_resource is not None:
                move_from(addon.namespace_resource, f"{addon.namespace}-namespace")
            if addon.role is not None:
                move_from(addon.role.role, f"{release}-role", "role")
                if addon.role.policy is not None:
                    move_from(addon.role.policy, f"{release}-role", "policy")
        # The Ingress path's objects are no longer forgotten: this stack destroys them (pending split).
        forget(self, [a for a in WORKLOADS_LEFT_PLATFORM if a not in RETIRED_WITH_INGRESS_NGINX])
