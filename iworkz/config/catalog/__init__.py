"""Lists of valid values and the version calendar, kept as data (``*.yaml`` beside this file).

Every table carries its ``source`` and the day it was ``checked``; a test fails when one is
older than :data:`MAX_AGE_DAYS`, so the lists cannot silently go stale.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

CATALOG_DIR = Path(__file__).resolve().parent
MAX_AGE_DAYS = 120
TODAY_VARIABLE = "IWORKZ_TODAY"


def today() -> datetime.date:
    """The date of the synth: ``IWORKZ_TODAY`` (YYYY-MM-DD) when set (tests, reproducible builds)."""
    fixed = os.environ.get(TODAY_VARIABLE)
    return datetime.date.fromisoformat(fixed) if fixed else datetime.date.today()


@dataclass(frozen=True)
class Table:
    name: str
    source: str
    checked: datetime.date
    values: Any


@cache
def _document(file: str) -> dict[str, Any]:
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    return dict(yaml.load((CATALOG_DIR / file).read_text(encoding="utf-8"), Loader=loader))


def table(file: str, name: str) -> Table:
    entry = _document(file)[name]
    return Table(name, entry["source"], entry["checked"], entry.get("values", entry.get("versions")))


def tables(file: str) -> list[Table]:
    """The tables of one catalog file, in file order."""
    return [table(file, name) for name in _document(file)]


def all_tables() -> list[Table]:
    return [entry for path in sorted(CATALOG_DIR.glob("*.yaml")) for entry in tables(path.name)]


Support = Literal["standard", "extended", "end_of_life", "unreleased", "unknown"]


@dataclass(frozen=True)
class Release:
    released: datetime.date
    standard_until: datetime.date | None  # None: no end announced
    extended_until: datetime.date | None


@dataclass(frozen=True)
class Calendar:
    """One engine's versions, oldest first, with their support dates."""

    service: str
    source: str
    checked: datetime.date
    extended_support: str | None  # its cost consequence; None: no extended support here
    releases: dict[str, Release]
    # The calendar lists every version still supported: an older one is past its end of life.
    lists_every_supported: bool

    def support(self, version: str, on: datetime.date) -> Support:
        release = self.releases.get(version)
        if release is None:
            return "unknown"
        if on < release.released:
            return "unreleased"
        if release.standard_until is None or on < release.standard_until:
            return "standard"
        if self.extended_support and release.extended_until and on < release.extended_until:
            return "extended"
        return "end_of_life"

    def in_standard_support(self, on: datetime.date) -> list[str]:
        return [v for v in self.releases if self.support(v, on) == "standard"]

    def newest(self, on: datetime.date) -> str:
        """The newest version in standard support on ``on`` (the default of a configuration).

        A calendar with none left is stale: its newest version stands in (the version check then
        says to update the calendar, and the 120-day test has failed by then).
        """
        current = self.in_standard_support(on)
        return current[-1] if current else list(self.releases)[-1]

    def is_older_than_listed(self, version: str) -> bool:
        """Whether ``version`` sorts before every listed one (so it ended before the calendar starts)."""
        key = _version_key(version)
        return (
            self.lists_every_supported
            and key is not None
            and all(key < (_version_key(v) or key) for v in self.releases)
        )


def _version_key(version: str) -> tuple[int, ...] | None:
    digits = version.rsplit("_", 1)[-1]
    try:
        return tuple(int(part) for part in digits.split("."))
    except ValueError:
        return None


@cache
def calendar(service: str) -> Calendar:
    entry = _document("versions.yaml")[service]
    releases = {
        str(version): Release(dates["released"], dates.get("standard_until"), dates.get("extended_until"))
        for version, dates in sorted(entry["versions"].items(), key=lambda item: _version_key(str(item[0])) or ())
    }
    return Calendar(
        service,
        entry["source"],
        entry["checked"],
        entry.get("extended_support"),
        releases,
        bool(entry.get("lists_every_supported")),
    )


def newest_in_standard_support(service: str) -> Callable[[], str]:
    """A default factory: the newest ``service`` version in standard support on the day of the synth.

    The one default of an engine version: the configuration models and the construct props use it.
    """
    return lambda: calendar(service).newest(today())


def values(file: str, name: str) -> Any:
    return table(file, name).values
