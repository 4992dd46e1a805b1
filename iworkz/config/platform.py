"""Platform section: cluster add-ons and the seed's 12.2 workloads."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from iworkz.config.base import Model, rule_error

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class ImageConfig(Model):
    repository: str = Field(min_length=1)
    tag: str = Field(min_length=1)


class PlatformConfig(Model):
    domain: str = "iworkz.com"
    images: dict[str, ImageConfig] = Field(default_factory=dict)

    @field_validator("domain")
    @classmethod
    def _dns_name(cls, value: str) -> str:
        if not _DNS_NAME.match(value):
            raise rule_error("must be a valid lower-case DNS name", "e.g. 'iworkz.com'")
        return value
