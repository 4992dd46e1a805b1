"""Reading configuration files: bytes to text to YAML data, every failure a :class:`Problem`.

The YAML loader is ``safe_load`` (through libyaml when available) made strict:
- a key repeated in one mapping is an error (plain YAML keeps the last one silently);
- a document whose aliases expand to more than :data:`MAX_EXPANDED_NODES` values is refused
  before anything validates it (the "billion laughs" alias bomb: a few hundred bytes that
  expand to billions of values and hang any walk over them);
- an unquoted number keeps the text it was written as (``1.30`` stays ``"1.30"`` for the
  message that asks to quote it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from iworkz.errors import Problem

# The largest shipped file expands to ~1,500 values; an alias bomb of 9 levels x 9 to 387 million.
MAX_EXPANDED_NODES = 100_000
YAML_FIX = (
    "correct the YAML at that line: indent with spaces, close brackets and quotes, quote values holding ': ' or ' #'"
)


class YamlNumber:
    """Mixin of the numbers the loader returns: ``text`` is the scalar as written in the file."""

    text: str


class YamlFloat(float, YamlNumber):
    pass


class YamlInt(int, YamlNumber):
    pass


# Loaded data dumps back as plain numbers (the tests write modified copies of config/).
for _dumper in (yaml.SafeDumper, *([yaml.CSafeDumper] if yaml.__with_libyaml__ else [])):
    yaml.add_representer(YamlFloat, yaml.representer.SafeRepresenter.represent_float, Dumper=_dumper)
    yaml.add_representer(YamlInt, yaml.representer.SafeRepresenter.represent_int, Dumper=_dumper)


def _loader_base() -> type[yaml.SafeLoader]:
    return yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader  # type: ignore[return-value]


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


def _strict_loader(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    class StrictLoader(base):  # type: ignore[misc,valid-type]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base constructor reports it
                    continue
                if first is not None:
                    raise _DuplicateKey(
                        f"while constructing a mapping (first {key!r} on line {first.start_mark.line + 1})",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen[key] = key_node
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
            number = YamlFloat(super().construct_yaml_float(node))
            number.text = node.value
            return number

        def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
            number = YamlInt(super().construct_yaml_int(node))
            number.text = node.value
            return number

    StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
    StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
    return StrictLoader


_FAST_LOADER = _strict_loader(_loader_base())
_PRECISE_LOADER = _strict_loader(yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Strict ``safe_load`` (module doc) through libyaml when available: ~8x faster.

    The tests load the configuration ~100 times. On an error the pure-Python parser runs again,
    so the message stays its more precise one (it names the offending character, for example).
    Raises :class:`yaml.YAMLError`, or :class:`AliasBombError` for a document that expands too far.
    """
    try:
        data = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        if _FAST_LOADER is _PRECISE_LOADER:
            raise
        data = yaml.load(text, Loader=_PRECISE_LOADER)
    expanded = expanded_size(data)
    if expanded > MAX_EXPANDED_NODES:
        raise AliasBombError(expanded)
    return data


class AliasBombError(yaml.YAMLError):
    def __init__(self, expanded: int) -> None:
        super().__init__(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values")
        self.expanded = expanded


def expanded_size(data: Any) -> int:
    """How many values ``data`` holds once every alias is expanded, stopping past the limit.

    Aliases make one Python object appear many times; the sizes are memoised by object, so
    this takes time in the number of distinct objects, not in the expanded size.
    """
    sizes: dict[int, int] = {}

    def size(value: Any) -> int:
        if not isinstance(value, dict | list):
            return 1
        known = sizes.get(id(value))
        if known is not None:
            return known
        sizes[id(value)] = MAX_EXPANDED_NODES + 1  # a cycle (a recursive alias) counts as too large
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                break
        sizes[id(value)] = total
        return total

    return size(data)


def read_text(path: Path, file: str) -> str | Problem:
    """The file's text, or the problem that stops reading it (missing, a folder, unreadable, binary)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Problem(file, "(file)", None, "file is missing", f"create {file}, or remove it from the selection")
    except IsADirectoryError:
        return Problem(file, "(file)", None, "is a folder, not a YAML file", f"remove or rename the folder {file}")
    except PermissionError:
        return Problem(
            file, "(file)", None, "cannot be read (permission denied)", f"make it readable: chmod a+r {file}"
        )
    except UnicodeDecodeError as exc:
        return Problem(
            file,
            "(file)",
            f"byte {exc.object[exc.start : exc.start + 1]!r} at offset {exc.start}",
            "is not UTF-8 text (a binary file?)",
            "save it as UTF-8 YAML, or remove it from config/",
        )
    except OSError as exc:
        return Problem(file, "(file)", None, f"cannot be read ({exc.strerror})", "check the file and its folder")


def parse_yaml(text: str, file: str) -> Any | Problem:
    """The YAML data of ``text``, or the problem with its position, rule and fix."""
    try:
        return load_yaml(text)
    except AliasBombError as exc:
        return Problem(
            file,
            "(file)",
            f"more than {MAX_EXPANDED_NODES:,} values after alias expansion",
            f"is refused: {exc} (an alias bomb, or far larger than any configuration)",
            "write the values out, or use aliases for small blocks only",
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = str(getattr(exc, "problem", None) or exc)
        if isinstance(exc, _DuplicateKey):
            return Problem(
                file,
                where,
                problem.removeprefix("found duplicate key "),
                f"is a duplicate key ({getattr(exc, 'context', '')}): YAML would keep only the last one",
                "keep one of the two entries",
            )
        context = getattr(exc, "context", None)
        rule = f"is not valid YAML: {problem}" + (f" ({context})" if context else "")
        return Problem(file, where, None, rule, _yaml_fix(problem))


def _yaml_fix(problem: str) -> str:
    if re.search(r"'\\t'", problem):
        return "indent with spaces, not tabs"
    return YAML_FIX
