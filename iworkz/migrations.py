"""State moves of refactors: Terraform ``moved``, ``import`` and ``removed`` blocks, never a manual step.

- Within a stack, a resource whose construct path changed keeps its state with a ``moved``
  block from its old address (:func:`move_from`).
- Between stacks, the old stack forgets the resource (``removed`` with ``destroy = false``,
  :func:`forget`) and the new stack imports it (:func:`adopt`). The import runs only where the
  environment's configuration says the old stack was deployed (``migrations`` in
  ``config/<environment>.yaml``): a new environment has nothing to import.

The platform split (this module's :data:`WORKLOADS_LEFT_PLATFORM`): ``platform-E`` keeps the
cluster add-ons; the design's 12.2 workloads moved to ``workloads-E``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from iworkz.context import StackContext

if TYPE_CHECKING:
    from cdktf import TerraformResource, TerraformStack
    from constructs import IConstruct

_HASH_LENGTH = 8
_DISALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def logical_id(*path: str) -> str:
    """The logical ID cdktf gives a resource at ``path`` below its stack (cdktf.json context).

    cdktf's ``makeUniqueId``: a top-level resource keeps its id; deeper ones join the path with
    ``_`` and append the first 8 hex digits (upper case) of the MD5 of the ``/``-joined path.
    """
    components = [component for component in path if component != "Default"]
    if len(components) == 1:
        return _DISALLOWED.sub("", components[0])
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:_HASH_LENGTH].upper()
    deduplicated: list[str] = []
    for component in components:  # a component the previous one ends with is left out
        if not deduplicated or not deduplicated[-1].endswith(component):
            deduplicated.append(component)
    human = "_".join(_DISALLOWED.sub("", c) for c in deduplicated if c != "Resource")
    return f"{human}_{digest}"


def move_from(resource: TerraformResource, *old_path: str) -> None:
    """A ``moved`` block from the address the resource had at ``old_path`` in the same stack."""
    resource.move_from_id(f"{resource_type(resource)}.{logical_id(*old_path)}")


def resource_type(resource: TerraformResource) -> str:
    """The Terraform type of ``resource`` (``aws_iam_role``): read once per class, not per resource."""
    return _class_resource_type(type(resource))


@cache
def _class_resource_type(cls: type[TerraformResource]) -> str:
    return str(cls.TF_RESOURCE_TYPE)  # type: ignore[attr-defined]


def adopt(context: StackContext, migration: str, *scopes: IConstruct) -> None:
    """``import`` blocks for every resource below ``scopes``: objects another stack created.

    Only while the environment lists ``migration`` as pending; the import IDs follow from the
    resources' own names (Kubernetes ``<namespace>/<name>``, IAM role names, secret ARNs found
    by name).
    """
    if migration not in context.env.migrations.pending:
        return
    from cdktf import TerraformResource

    resources = [node for scope in scopes for node in scope.node.find_all() if isinstance(node, TerraformResource)]
    role_names = {r.id: r.name_input for r in resources if resource_type(r) == "aws_iam_role"}  # type: ignore[attr-defined]
    for resource in resources:
        resource.import_from(_import_id(resource, role_names))


def _import_id(resource: TerraformResource, role_names: dict[str, str]) -> str:
    """The ID ``terraform import`` takes for ``resource`` (its provider's documented format)."""

    kind = resource_type(resource)
    if kind == "kubernetes_manifest":
        manifest = resource.manifest_input  # type: ignore[attr-defined]
        parts = [f"apiVersion={manifest['apiVersion']}", f"kind={manifest['kind']}"]
        if "namespace" in manifest["metadata"]:
            parts.append(f"namespace={manifest['metadata']['namespace']}")
        return ",".join([*parts, f"name={manifest['metadata']['name']}"])
    if kind == "kubernetes_namespace_v1":
        return str(resource.metadata.name_input)  # type: ignore[attr-defined]
    if kind.startswith("kubernetes_"):
        metadata = resource.metadata  # type: ignore[attr-defined]
        return f"{metadata.namespace_input}/{metadata.name_input}"
    if kind == "aws_iam_role":
        return str(resource.name_input)  # type: ignore[attr-defined]
    if kind == "aws_iam_role_policy":
        # <role name>:<policy name>; the role is the policy's sibling (a WorkloadRole holds both).
        owner = resource.node.scope
        assert owner is not None
        from cdktf import TerraformResource

        (role,) = (
            c for c in owner.node.children if isinstance(c, TerraformResource) and resource_type(c) == "aws_iam_role"
        )
        return f"{role.name_input}:{resource.name_input}"  # type: ignore[attr-defined]
    if kind == "aws_secretsmanager_secret":
        from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret import DataAwsSecretsmanagerSecret

        name = resource.name_input  # type: ignore[attr-defined]
        return DataAwsSecretsmanagerSecret(resource, "existing", name=name).arn
    raise ValueError(f"{resource.node.path}: no import ID known for {kind}")


def forget(stack: TerraformStack, addresses: Iterable[str]) -> None:
    """``removed`` blocks (Terraform >= 1.7): the stack stops managing these without destroying them."""
    blocks = [{"from": address, "lifecycle": {"destroy": False}} for address in sorted(addresses)]
    if blocks:
        stack.add_override("removed", blocks)


PLATFORM_SPLIT = "platform-split"

# The objects of the ingress-nginx path, retired with the controller (the Gateway API replaces
# them): the Ingress and the ClusterIssuer that solved ACME challenges through it. Whichever stack
# holds them destroys them: platform-E where the split is pending (it no longer forgets them),
# workloads-E after it (it no longer declares them). Both are stateless Kubernetes objects.
RETIRED_WITH_INGRESS_NGINX = ("kubernetes_ingress_v1.ingress", "kubernetes_manifest.cluster-issuer")

# What platform-E held of the design's 12.2 workloads before the split (the addresses in its
# state), now created by workloads-E. The platform stack forgets them; workloads-E imports them.
WORKLOADS_LEFT_PLATFORM = (
    "aws_iam_role.ai-services-role_8B368A17",
    "aws_iam_role.backend-api-role_885028FD",
    "aws_iam_role_policy.ai-services-role_policy_06B18113",
    "aws_iam_role_policy.backend-api-role_policy_8820F584",
    "aws_secretsmanager_secret.openai-api-key",
    "aws_secretsmanager_secret.registry-credentials",
    "kubernetes_config_map_v1.ai-config",
    "kubernetes_config_map_v1.backend-api-config",
    "kubernetes_config_map_v1.frontend-config",
    "kubernetes_deployment_v1.ai-services_deployment_FB4E0F50",
    "kubernetes_deployment_v1.backend-api_deployment_4B7D14ED",
    "kubernetes_deployment_v1.web-frontend_deployment_AD1AE849",
    "kubernetes_horizontal_pod_autoscaler_v2.backend-api-hpa",
    "kubernetes_ingress_v1.ingress",
    "kubernetes_manifest.ai-secrets_manifest_02A8089A",
    "kubernetes_manifest.cluster-issuer",
    "kubernetes_manifest.database-secret_manifest_D112965B",
    "kubernetes_manifest.docker-registry-secret_manifest_B73C0773",
    "kubernetes_manifest.jwt-secret_manifest_46BD2479",
    "kubernetes_manifest.redis-secret_manifest_5BB7E6D0",
    "kubernetes_namespace_v1.app-namespace",
    "kubernetes_network_policy_v1.backend-api-netpol",
    "kubernetes_service_account_v1.ai-services_service-account_63C8C2C3",
    "kubernetes_service_account_v1.backend-api_service-account_68B85531",
    "kubernetes_service_account_v1.web-frontend_service-account_72473CD6",
    "kubernetes_service_v1.ai-services_service_1112FD9B",
    "kubernetes_service_v1.backend-api_service_807693E1",
    "kubernetes_service_v1.web-frontend_service_E5CE2D54",
)
