"""A Kubernetes namespace with its Pod Security Standard (``restricted`` unless the caller says why not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from constructs import Construct

POD_SECURITY_LABEL = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True)
class NamespaceProps:
    """Properties of :class:`Namespace`.

    | name | meaning | default |
    |---|---|---|
    | name | namespace name (also its ``name`` label) | required |
    | labels | further labels | none |
    | pod_security | enforced Pod Security Standard; None: none enforced | ``restricted`` |
    | privileged_reason | why a namespace needs ``privileged`` (node exporters, log shippers) | required for privileged |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    pod_security: str | None = "restricted"
    privileged_reason: str | None = None
    provider: TerraformProvider | None = None

    def __post_init__(self) -> None:
        if self.pod_security not in (None, "restricted", "baseline", "privileged"):
            raise ValueError(f"namespace {self.name}: unknown Pod Security Standard {self.pod_security!r}")
        if self.pod_security == "privileged" and not self.privileged_reason:
            raise ValueError(f"namespace {self.name}: say why it must run privileged pods (privileged_reason)")


class Namespace(NamespaceV1):
    """``kubernetes_namespace_v1``; ``namespace.metadata.name`` orders what is created in it."""

    def __init__(self, scope: Construct, id: str, props: NamespaceProps) -> None:
        labels = {"name": props.name, **props.labels}
        if props.pod_security is not None:
            labels[POD_SECURITY_LABEL] = props.pod_security
        super().__init__(
            scope, id, metadata=NamespaceV1Metadata(name=props.name, labels=labels), provider=props.provider
        )
