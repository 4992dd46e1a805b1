"""What a stack module needs to build itself: its name and its configuration (no cdktf import)."""

from __future__ import annotations

from dataclasses import dataclass

from iworkz.config import CommonConfig, EnvironmentConfig, Settings


def environment_prefix(project: str, environment: str) -> str:
    """Name prefix of an environment's resources, e.g. ``iworkz-production`` (seed naming)."""
    return f"{project}-{environment}"


@dataclass(frozen=True)
class StackContext:
    settings: Settings
    name: str
    component: str
    environment_name: str | None

    @property
    def common(self) -> CommonConfig:
        return self.settings.common

    @property
    def env(self) -> EnvironmentConfig:
        if self.environment_name is None:
            raise RuntimeError(f"stack {self.name} is not per environment")
        return self.settings.environments[self.environment_name]

    @property
    def prefix(self) -> str:
        """Name prefix of the stack's resources, e.g. ``iworkz-production`` (seed naming)."""
        if self.environment_name is None:
            return self.common.project
        return environment_prefix(self.common.project, self.environment_name)

    @property
    def config_file(self) -> str:
        name = self.environment_name or "common"
        return f"config/{name}.yaml"
