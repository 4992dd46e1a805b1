"""A Helm release with an exactly pinned chart version, atomic upgrades and one YAML values document.

A chart comes from a chart repository (https:// or oci://) or from a folder of this repository
(``charts/<name>``, e.g. vendored CRDs): that folder is shipped with the stack as a cdktf asset
(``cdktf.out/stacks/<stack>/assets/...``), and its ``Chart.yaml`` must carry the pinned version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cdktf import AssetType, ITerraformDependable, TerraformAsset, TerraformProvider
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from iworkz.app import PROJECT_ROOT
from iworkz.errors import UserError

# An exact semantic version (optionally v-prefixed, with pre-release/build suffix). Ranges
# ("^1.2", "~1.2", ">=1", "1.x", "*"), "latest" and partial versions ("1.2") are not pins.
PINNED_VERSION = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Terraform reads "${" and "%{" in strings as interpolation/template directives; literal ones
# (e.g. in a Grafana or Alertmanager template) are escaped, cdktf token markers are kept.
_TF_INTERPOLATION = re.compile(r"\$\{(?!TfToken\[)")
_TF_DIRECTIVE = re.compile(r"%\{")
# Charts kept in this repository (vendored upstream files), relative to its root.
LOCAL_CHARTS = "charts"


@dataclass(frozen=True)
class HelmChartProps:
    """Properties of :class:`HelmChart`.

    | name | meaning | default |
    |---|---|---|
    | release_name | Helm release name (DNS label, at most 53 characters) | required |
    | chart | chart name in the repository, e.g. ``kube-prometheus-stack`` | required |
    | repository | chart repository URL (https:// or oci://), or a chart folder of this repository (``charts/<name>``) | required |
    | version | exact chart version, e.g. ``79.5.0`` (no ranges, no ``latest``) | required |
    | namespace | namespace to install into; it must exist (create it with the kubernetes provider) | required |
    | values | the merged values, written as one YAML document | empty |
    | atomic | roll back a failed install/upgrade | True |
    | cleanup_on_fail | delete resources created by a failed upgrade | True |
    | wait | wait until the release's resources are ready | True |
    | timeout | seconds to wait for any single Kubernetes operation | 600 |
    | max_history | release revisions kept | 10 |
    | provider | the helm provider | the stack's default |
    | depends_on | resources that must exist first (namespace, secrets, CRD releases) | none |
    | source | where the chart coordinates are defined, named in errors | ``helm release '<release_name>'`` |
    """

    release_name: str
    chart: str
    repository: str
    version: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)
    atomic: bool = True
    cleanup_on_fail: bool = True
    wait: bool = True
    timeout: int = 600
    max_history: int = 10
    provider: TerraformProvider | None = None
    depends_on: Sequence[ITerraformDependable] = ()
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or f"helm release '{self.release_name}'"
        if not isinstance(self.version, str) or not PINNED_VERSION.match(self.version):
            raise UserError.single(
                where,
                "version",
                self.version,
                "must pin one exact chart version (MAJOR.MINOR.PATCH); ranges, 'latest' and empty are not allowed",
                "use the exact version from the chart repository's index, e.g. '79.5.0'",
            )
        if not RELEASE_NAME.match(self.release_name) or len(self.release_name) > 53:
            raise UserError.single(
                where,
                "release_name",
                self.release_name,
                "must be a DNS label of at most 53 characters",
                "use lowercase letters, digits and '-'",
            )
        if not self.chart or "/" in self.chart:
            raise UserError.single(
                where,
                "chart",
                self.chart,
                "must be the chart's name within its repository",
                "put the repository URL in 'repository'",
            )
        if self.local_chart is not None:
            self._check_local_chart(where, self.local_chart)
        elif not self.repository.startswith(("https://", "oci://")):
            raise UserError.single(
                where,
                "repository",
                self.repository,
                "must be an https:// or oci:// chart repository, or a chart folder below charts/",
                "e.g. 'https://prometheus-community.github.io/helm-charts'",
            )
        if not self.namespace:
            raise UserError.single(where, "namespace", self.namespace, "must name the namespace to install into")
        if not 30 <= self.timeout <= 3600:
            raise UserError.single(where, "timeout", self.timeout, "must be 30-3600 seconds")

    @property
    def local_chart(self) -> Path | None:
        """The chart folder of this repository the release installs, or None for a chart repository."""
        return PROJECT_ROOT / self.repository if self.repository.startswith(f"{LOCAL_CHARTS}/") else None

    def _check_local_chart(self, where: str, folder: Path) -> None:
        metadata = folder / "Chart.yaml"
        if not metadata.is_file():
            raise UserError.single(where, "repository", self.repository, "has no Chart.yaml", "name a chart folder")
        chart = yaml.safe_load(metadata.read_text(encoding="utf-8"))
        if (chart.get("name"), str(chart.get("version"))) != (self.chart, self.version):
            raise UserError.single(
                where,
                "version",
                self.version,
                f"{self.repository}/Chart.yaml is {chart.get('name')} {chart.get('version')}",
                "pin the chart folder's name and version",
            )


class HelmChart(Construct):
    """One ``helm_release``: pinned chart, atomic and self-cleaning upgrades, values as one YAML document.

    Attributes: ``release`` (the resource), ``name``, ``namespace``, ``values_yaml`` (the rendered
    document before token resolution).
    """

    def __init__(self, scope: Construct, id: str, props: HelmChartProps) -> None:
        super().__init__(scope, id)
        self.values_yaml = render_values(props.values)
        chart: str = props.chart
        repository: str | None = props.repository
        if props.local_chart is not None:
            # The folder travels with the synthesised stack; Terraform reads it relative to the stack.
            asset = TerraformAsset(self, "chart-folder", path=str(props.local_chart), type=AssetType.DIRECTORY)
            chart, repository = asset.path, None
        self.release = Release(
            self,
            "release",
            name=props.release_name,
            chart=chart,
            repository=repository,
            version=props.version,
            namespace=props.namespace,
            create_namespace=False,
            atomic=props.atomic,
            cleanup_on_fail=props.cleanup_on_fail,
            wait=props.wait,
            timeout=props.timeout,
            max_history=props.max_history,
            values=[self.values_yaml] if props.values else None,
            provider=props.provider,
            depends_on=list(props.depends_on) or None,
        )
        self.name = props.release_name
        self.namespace = props.namespace


# libyaml's emitter where PyYAML has it (its wheels do): the same YAML, ~3x faster than PyYAML's own.
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _ValuesDumper(_SafeDumper):  # type: ignore[misc,valid-type]
    """Double-quotes strings holding a cdktf token: whatever Terraform substitutes stays a YAML string."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if "${TfToken[" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ValuesDumper.add_representer(str, _represent_str)


def render_values(values: Mapping[str, Any]) -> str:
    """One YAML document; literal Terraform template markers are escaped, tokens kept."""
    return yaml.dump(
        _escape(dict(values)),
        Dumper=_ValuesDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1_000_000,
    )


def escape_template(text: str) -> str:
    """Escapes literal ``${`` and ``%{`` so that Terraform passes them through (cdktf tokens kept)."""
    return _TF_DIRECTIVE.sub("%%{", _TF_INTERPOLATION.sub("$${", text))


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return escape_template(value)
    if isinstance(value, Mapping):
        return {key: _escape(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escape(item) for item in value]
    return value
