"""A cluster operator or controller: its namespace, its IAM role and its pinned Helm release.

The chart comes from :data:`iworkz.charts.CHARTS` (exact versions), the static values from
``helm_values/<release>.yaml``, and the values computed from configuration and contracts are
merged over them. An add-on that calls AWS gets an IRSA role for its own service account; the
chart's service account carries the role's annotation (``service_account_values`` says where
the chart takes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider, TerraformResource
from constructs import Construct

from iworkz.charts import CHARTS
from iworkz.contracts import ClusterOutputs
from iworkz.helm_values import load_values, merge_values
from iworkz_constructs.helm_chart import HelmChart, HelmChartProps
from iworkz_constructs.namespace import Namespace, NamespaceProps
from iworkz_constructs.workload_role import WorkloadRole

KUBE_SYSTEM = "kube-system"


@dataclass(frozen=True)
class AddonTarget:
    """Where add-ons go: the cluster and its providers; an EKS cluster's contract for IRSA trust
    (``None`` for a cluster whose add-ons call no AWS API, such as the DR site's AKS)."""

    cluster: ClusterOutputs | None
    helm: TerraformProvider
    kubernetes: TerraformProvider


@dataclass(frozen=True)
class AddonRole:
    """The IRSA role of an add-on's service account.

    | name | meaning | default |
    |---|---|---|
    | role_name | IAM role name | required |
    | service_account | the chart's service account | required |
    | statements | the add-on's documented least-privilege policy | required |
    | service_account_values | dotted path of the chart's service account values (gets ``annotations``) | ``serviceAccount`` |
    | description | what the role is for | ``IRSA role for <namespace>/<service_account>`` |

    Owners of other resources grant more through ``ClusterAddon.role`` (e.g. ``grant_http_write``).
    """

    role_name: str
    service_account: str
    statements: Sequence[Mapping[str, Any]] = ()
    service_account_values: str = "serviceAccount"
    description: str | None = None


@dataclass(frozen=True)
class ClusterAddonProps:
    """Properties of :class:`ClusterAddon`.

    | name | meaning | default |
    |---|---|---|
    | release | release name: the key of ``CHARTS`` and of ``helm_values/<release>.yaml`` | required |
    | target | the cluster and its providers | required |
    | namespace | namespace to install into | ``kube-system`` |
    | create_namespace | create the namespace | False |
    | values | values computed in code, merged over the static file | none |
    | required_values | dotted keys the static file must define | none |
    | role | the add-on's IAM role | none |
    | timeout | seconds Helm waits | 600 |
    | depends_on | what must exist first (e.g. the controller a chart needs) | none |
    """

    release: str
    target: AddonTarget
    namespace: str = KUBE_SYSTEM
    create_namespace: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)
    required_values: tuple[str, ...] = ()
    role: AddonRole | None = None
    timeout: int = 600
    depends_on: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        if self.release not in CHARTS:
            raise ValueError(f"add-on {self.release!r} has no chart in iworkz/charts.py")
        if self.role is not None and self.target.cluster is None:
            raise ValueError(f"add-on {self.release!r}: an IAM role needs an EKS cluster's contract (IRSA)")


class ClusterAddon(Construct):
    """One add-on. Attributes: ``chart`` (:class:`HelmChart`), ``release``, ``namespace`` (its name),
    ``namespace_resource`` (when created here), ``role`` (:class:`WorkloadRole`, when it has one)."""

    def __init__(self, scope: Construct, id: str, props: ClusterAddonProps) -> None:
        super().__init__(scope, id)
        chart = CHARTS[props.release]
        self.namespace = props.namespace
        depends_on = list(props.depends_on)
        self.namespace_resource: Namespace | None = None
        if props.create_namespace:
            # Operators run privileged daemons or webhooks their charts configure: no standard enforced.
            self.namespace_resource = Namespace(
                self,
                "namespace",
                NamespaceProps(props.namespace, pod_security=None, provider=props.target.kubernetes),
            )
            depends_on.append(self.namespace_resource)
        values = merge_values(load_values(props.release, props.required_values), props.values)
        self.role: WorkloadRole | None = None
        if props.role is not None:
            assert props.target.cluster is not None
            self.role = props.target.cluster.service_account_role(
                self,
                "role",
                role_name=props.role.role_name,
                namespace=props.namespace,
                service_account=props.role.service_account,
                statements=props.role.statements,
                description=props.role.description,
            )
            # The static values name the chart's service account; the role's annotation joins it.
            annotations = {"annotations": self.role.service_account_annotations}
            values = merge_values(values, _nested(props.role.service_account_values, annotations))
            depends_on.append(self.role.role)
        self.chart = HelmChart(
            self,
            "chart",
            HelmChartProps(
                release_name=props.release,
                chart=chart.chart,
                repository=chart.repository,
                version=chart.version,
                namespace=props.namespace,
                values=values,
                timeout=props.timeout,
                provider=props.target.helm,
                depends_on=depends_on,
                source=f"iworkz/charts.py: CHARTS[{props.release!r}]",
            ),
        )
        self.release = self.chart.release

    def install_after(self, *resources: TerraformResource) -> None:
        """The release waits for these too (e.g. a Job that must run before the add-on starts)."""
        addresses = [f"{r.terraform_resource_type}.{r.friendly_unique_id}" for r in resources]
        self.release.depends_on = [*(self.release.depends_on or []), *addresses]


def _nested(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``"a.b"``."""
    for key in reversed(path.split(".")):
        value = {key: value}
    return dict(value)
