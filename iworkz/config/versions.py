"""Engine versions against the version calendar (catalog/versions.yaml), on the date of the synth.

End of life, unknown or unreleased: a :class:`Problem`. Extended support: a one-line warning
with its cost consequence (the synth goes on).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iworkz.config import catalog
from iworkz.errors import Problem

if TYPE_CHECKING:
    from iworkz.config import EnvironmentConfig


@dataclass(frozen=True)
class VersionField:
    field: str
    service: str
    label: str
    read: Callable[[EnvironmentConfig], str]
    # The calendar's key of a written version (AKS accepts a patch: 1.35.2 is 1.35).
    key: Callable[[str], str] | None = None

    def calendar_key(self, written: str) -> str:
        return self.key(written) if self.key else written


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


VERSION_FIELDS = (
    VersionField("eks.kubernetes_version", "eks", "EKS", lambda env: env.eks.kubernetes_version),
    VersionField("dr_azure.kubernetes_version", "aks", "AKS", lambda env: env.dr_azure.kubernetes_version, _minor),
    VersionField(
        "data.postgres.engine_version", "postgres", "RDS for PostgreSQL", lambda env: env.data.postgres.engine_version
    ),
    VersionField(
        "data.redis.engine_version", "redis", "ElastiCache for Redis OSS", lambda env: env.data.redis.engine_version
    ),
    VersionField(
        "data.opensearch.engine_version",
        "opensearch",
        "OpenSearch Service",
        lambda env: env.data.opensearch.engine_version,
    ),
)


def version_problems(file: str, env: EnvironmentConfig, on: datetime.date) -> tuple[list[Problem], list[str]]:
    """(problems, warnings) of the environment's engine versions on the date ``on``."""
    problems: list[Problem] = []
    warnings: list[str] = []
    for entry in VERSION_FIELDS:
        calendar = catalog.calendar(entry.service)
        written = entry.read(env)
        version = entry.calendar_key(written)
        support = calendar.support(version, on)
        newest = calendar.newest(on)
        current = ", ".join(calendar.in_standard_support(on))
        fix = (
            f"use {newest} (the newest in standard support), or another of {current}"
            if current
            else f"no {entry.label} version of iworkz/config/catalog/versions.yaml is in standard support on "
            f"{on}: add the current releases to the calendar"
        )
        if support == "standard":
            continue
        release = calendar.releases.get(version)
        if support == "extended":
            assert release is not None
            warnings.append(
                f"warning: {file}: {entry.field} = {written!r}: {entry.label} standard support ended "
                f"{release.standard_until}; in extended support until {release.extended_until}, and "
                f"{calendar.extended_support}; upgrade to {newest}"
            )
            continue
        if support == "end_of_life" or (support == "unknown" and calendar.is_older_than_listed(version)):
            ended = f" on {release.extended_until or release.standard_until}" if release else ""
            rule = f"is past the end of {entry.label} support{ended} (end of life on {on})"
        elif support == "unreleased":
            assert release is not None
            rule = f"is not released before {release.released} ({entry.label})"
        else:
            rule = f"is not a version of {entry.label} in the calendar ({', '.join(calendar.releases)})"
        problems.append(Problem(file, entry.field, written, rule, fix))
    return problems, warnings
