"""Platform section: cluster add-ons and the seed's 12.2 workloads (images, replicas, scheduling)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from iworkz.config.base import Model, Templated, reject_number, rule_error

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# An image repository without tag or digest: registry host[:port] and path components.
_REPOSITORY = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$")
# OCI tag grammar.
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

# The seed's 12.2 Deployments; the platform stack builds exactly these.
WORKLOADS = ("backend-api", "ai-services", "web-frontend")
# Their resource requests (seed 12.2): the constructs set them, the DR rules size the AKS pool by them.
SEED_REQUESTS = {
    "backend-api": {"memory": "512Mi", "cpu": "250m"},
    "ai-services": {"memory": "2Gi", "cpu": "1000m"},
    "web-frontend": {"memory": "256Mi", "cpu": "100m"},
}


def cpu_millicores(quantity: str) -> int:
    """A Kubernetes CPU quantity ("250m", "2") in millicores."""
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


MUTABLE_TAGS = frozenset({"latest"})


def _image_from_string(value: Any) -> Any:
    """Accepts ``repository:tag`` as a shorthand for ``{repository, tag}``."""
    if not isinstance(value, str):
        return value
    if "@" in value:
        raise rule_error(
            "digests are not supported here; give the image as repository and tag",
            "write image: {repository: registry.gitlab.com/iworkz/backend-api, tag: '1.4.2'}",
        )
    repository, sep, tag = value.rpartition(":")
    if not sep or "/" in tag:
        raise rule_error(
            "the image has no tag (an untagged image means 'latest', which changes under you)",
            f"pin a release tag, e.g. {value}:1.4.2",
        )
    return {"repository": repository, "tag": tag}


class ImageConfig(Model):
    """A container image; the tag is required (an untagged image silently means ``latest``)."""

    repository: str
    tag: str

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if "@" in value or (":" in value.rsplit("/", 1)[-1]):
            raise rule_error(
                "the repository must not carry a tag or digest; put the tag in 'tag'",
                "e.g. repository: registry.gitlab.com/iworkz/backend-api, tag: '1.4.2'",
            )
        if not _REPOSITORY.match(value):
            raise rule_error(
                "must be an image repository (lower-case registry/path)",
                "e.g. registry.gitlab.com/iworkz/backend-api",
            )
        return value

    @field_validator("tag", mode="before")
    @classmethod
    def _tag(cls, value: Any) -> Any:
        value = reject_number("tag")(value)
        if not isinstance(value, str):
            raise rule_error("must be a quoted string", f'write tag: "{value}"')
        if value in MUTABLE_TAGS:
            raise rule_error(
                f"{value!r} is not a release: it changes under a running Deployment",
                "use the tag the pipeline pushed (a version or the commit SHA)",
            )
        if not _TAG.match(value):
            raise rule_error(
                "must be an image tag (letters, digits, '_', '.', '-'; at most 128; not empty)",
                "use the release tag the pipeline pushed, e.g. '1.4.2' or the commit SHA",
            )
        return value

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


Image = Annotated[ImageConfig, BeforeValidator(_image_from_string)]


class TolerationConfig(Model):
    """An extra toleration of a workload, as Kubernetes spells it; it must match a node group's taint."""

    key: str = Field(min_length=1)
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = "true"
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None

    @model_validator(mode="after")
    def _exists_has_no_value(self) -> TolerationConfig:
        if self.operator == "Exists" and self.value not in (None, "true"):
            raise rule_error(
                "a toleration with operator Exists takes no value",
                "remove value, or use operator: Equal",
                field="value",
                value=self.value,
            )
        return self


class AutoscalingConfig(Model):
    """A HorizontalPodAutoscaler on CPU and memory utilisation (seed: backend-api-hpa)."""

    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    cpu_utilization: int = Field(70, ge=10, le=100)
    memory_utilization: int = Field(80, ge=10, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingConfig:
        if self.min_replicas > self.max_replicas:
            raise rule_error(
                f"min_replicas ({self.min_replicas}) must not exceed max_replicas ({self.max_replicas})",
                "raise max_replicas or lower min_replicas",
                field="min_replicas",
                value=self.min_replicas,
            )
        return self


class WorkloadConfig(Model):
    """One of the seed's Deployments.

    ``node_group`` schedules it onto that EKS node group: the platform stack derives the
    tolerations (from the group's taints) and the node selector (from its labels) in code.
    ``tolerations`` adds further tolerations; each must match a taint of some node group.
    """

    image: Image
    replicas: int = Field(ge=1, le=100)
    node_group: str | None = None
    gpus: int = Field(0, ge=0, le=8)
    tolerations: list[TolerationConfig] = Field(default_factory=list)
    autoscaling: AutoscalingConfig | None = None

    @model_validator(mode="after")
    def _replicas_within_autoscaling(self) -> WorkloadConfig:
        hpa = self.autoscaling
        if hpa is not None and not hpa.min_replicas <= self.replicas <= hpa.max_replicas:
            raise rule_error(
                f"replicas must lie within the autoscaling range [{hpa.min_replicas}, {hpa.max_replicas}]",
                "set replicas to autoscaling.min_replicas",
                field="replicas",
                value=self.replicas,
            )
        return self


class PlatformConfig(Model):
    # {environment} is the environment's name: staging and dev serve {environment}.iworkz.com.
    domain: Annotated[str, Templated] = "iworkz.com"
    # Google Analytics measurement ID of the frontend (public, in frontend-config); none: unset.
    google_analytics_id: str | None = Field(None, pattern=r"^(G-[A-Z0-9]{4,12}|UA-\d{4,10}-\d{1,4})$")
    # The images live in the seed's private GitLab registry (12.3): pods pull with the seed's
    # docker-registry-secret, synced from Secrets Manager by External Secrets (never a literal).
    image_pull_secret: bool = True
    # psql of the database-roles setup Job (the services' own PostgreSQL roles), >= 15 for \getenv.
    database_client_image: Image = ImageConfig(
        repository="public.ecr.aws/docker/library/postgres", tag="16.11-alpine3.22"
    )
    # OpenTelemetry Collector (contrib distribution: it has the AWS X-Ray exporter), chart 0.170.0's.
    otel_collector_image: Image = ImageConfig(
        repository="ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib",
        tag="0.158.0",
    )
    # Share of the workloads' new traces that are sampled (OTEL_TRACES_SAMPLER_ARG; parents decide for children).
    trace_sampling_ratio: float = Field(0.1, ge=0, le=1)
    # Completeness (every workload of WORKLOADS present) is checked in platform_rules, which
    # also runs when the section is left out.
    workloads: dict[str, WorkloadConfig] = Field(default_factory=dict)

    @field_validator("domain")
    @classmethod
    def _dns_name(cls, value: str) -> str:
        if not _DNS_NAME.match(value):
            raise rule_error("must be a valid lower-case DNS name", "e.g. 'iworkz.com'")
        return value

    @field_validator("workloads")
    @classmethod
    def _known_workloads(cls, value: Mapping[str, WorkloadConfig]) -> Mapping[str, WorkloadConfig]:
        unknown = [name for name in value if name not in WORKLOADS]
        if unknown:
            raise rule_error(
                f"unknown workload(s) {', '.join(unknown)}; the platform stack builds {', '.join(WORKLOADS)}",
                "remove the entry or fix its name",
            )
        return value


def platform_rules(platform: PlatformConfig, node_groups: Mapping[str, Any]) -> None:
    """Rules across sections: every workload present, scheduling against the EKS node groups.

    Called from ``EnvironmentConfig._environment_rules``; raises a rule error naming the field.
    """
    from iworkz_constructs.scheduling import Toleration, matching_node_groups

    missing = [name for name in WORKLOADS if name not in platform.workloads]
    if missing:
        raise rule_error(
            f"every workload of seed 12.2 needs an entry; missing: {', '.join(missing)}",
            "add image and replicas for each of " + ", ".join(WORKLOADS),
            field="platform.workloads",
            value=sorted(platform.workloads),
        )
    for name, workload in platform.workloads.items():
        field = f"platform.workloads.{name}"
        if workload.node_group is not None:
            group = node_groups.get(workload.node_group)
            if group is None:
                raise rule_error(
                    f"is not a node group of eks.node_groups ({', '.join(node_groups)})",
                    "name one of them, or remove node_group",
                    field=f"{field}.node_group",
                    value=workload.node_group,
                )
            if not group.labels:
                raise rule_error(
                    f"node group {workload.node_group} has no labels to select it by",
                    f"add labels (e.g. NodeGroup: {workload.node_group}) to eks.node_groups.{workload.node_group}",
                    field=f"{field}.node_group",
                    value=workload.node_group,
                )
        if workload.gpus:
            target = node_groups.get(workload.node_group) if workload.node_group else None
            if target is None or not target.gpu:
                gpu_groups = [n for n, g in node_groups.items() if g.gpu]
                raise rule_error(
                    "a workload requesting GPUs must be scheduled onto a GPU node group"
                    + (f" ({', '.join(gpu_groups)})" if gpu_groups else " (there is none)"),
                    "set node_group to a node group with gpu: true",
                    field=f"{field}.node_group",
                    value=workload.node_group,
                )
        for index, toleration in enumerate(workload.tolerations):
            wanted = Toleration(toleration.key, toleration.operator, toleration.value, toleration.effect)
            if not matching_node_groups(wanted, node_groups):
                taints = sorted({f"{t.key}={t.value}:{t.effect}" for g in node_groups.values() for t in g.taints})
                raise rule_error(
                    "the toleration matches no taint of any node group (it would have no effect)"
                    + (f"; taints: {', '.join(taints)}" if taints else ""),
                    "tolerate a taint listed in eks.node_groups, or schedule with node_group instead",
                    field=f"{field}.tolerations[{index}]",
                    value=toleration.model_dump(),
                )
