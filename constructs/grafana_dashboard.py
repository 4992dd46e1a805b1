"""A Grafana dashboard as a ConfigMap that the Grafana sidecar of kube-prometheus-stack loads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
from constructs import Construct

from iworkz_constructs.helm_chart import escape_template


@dataclass(frozen=True)
class GrafanaDashboardProps:
    """Properties of :class:`GrafanaDashboard`.

    | name | meaning | default |
    |---|---|---|
    | name / namespace | the ConfigMap (in Grafana's namespace) | required |
    | dashboard | the Grafana dashboard model | required |
    | sidecar_label | the label (key, value) the chart's dashboard sidecar watches | required |
    | folder | Grafana folder | ``iWORKZ`` |
    | provider | kubernetes provider | the stack's default |
    """

    name: str
    namespace: str
    dashboard: Mapping[str, Any]
    sidecar_label: tuple[str, str]
    folder: str = "iWORKZ"
    provider: TerraformProvider | None = None


class GrafanaDashboard(ConfigMapV1):
    """``kubernetes_config_map_v1`` holding ``<name>.json`` (Terraform template markers escaped)."""

    def __init__(self, scope: Construct, id: str, props: GrafanaDashboardProps) -> None:
        key, value = props.sidecar_label
        super().__init__(
            scope,
            id,
            metadata=ConfigMapV1Metadata(
                name=f"grafana-dashboard-{props.name}",
                namespace=props.namespace,
                labels={key: value},
                annotations={"grafana_folder": props.folder},
            ),
            data={f"{props.name}.json": escape_template(json.dumps(props.dashboard, ensure_ascii=False, indent=2))},
            provider=props.provider,
        )
