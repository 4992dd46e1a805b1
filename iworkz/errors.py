"""Errors that reach the user as one clear message and exit status 2, never a traceback."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass

EXIT_USER_ERROR = 2
# A value is shown at most this long: a message must stay readable (and cheap) whatever the input.
MAX_SHOWN = 160


def _bounded_repr() -> reprlib.Repr:
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxdict, shown.maxlist, shown.maxtuple, shown.maxset = 3, 8, 8, 8, 8
    shown.maxstring, shown.maxother, shown.maxlong = MAX_SHOWN, MAX_SHOWN, 40
    return shown


_SHOWN = _bounded_repr()


def shown(value: object) -> str:
    """``repr(value)`` bounded in depth, width and length (never walks a huge value)."""
    text = _SHOWN.repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One bad input: where it is, what it holds, which rule it breaks and how to fix it."""

    file: str
    field: str
    value: object
    rule: str
    fix: str = ""

    def render(self) -> str:
        lines = [f"{self.file}: {self.field} = {shown(self.value)}", f"  rule: {self.rule}"]
        if self.fix:
            lines.append(f"  fix:  {self.fix}")
        return "\n".join(lines)


class UserError(Exception):
    """Bad input from the user (configuration, selection, values files)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(self.render())

    @classmethod
    def single(cls, file: str, field: str, value: object, rule: str, fix: str = "") -> UserError:
        return cls([Problem(file, field, value, rule, fix)])

    def render(self) -> str:
        noun = "problem" if len(self.problems) == 1 else "problems"
        body = "\n".join(p.render() for p in self.problems)
        return f"invalid input ({len(self.problems)} {noun}):\n{body}"


class ConfigError(UserError):
    """Invalid configuration under config/."""
