"""A readable, exactly reversible form of the documents held in synthesised Terraform strings.

Terraform keeps a policy, a Helm release's values, a ConfigMap's files or a dashboard as one
string attribute: in a snapshot that is one line of up to ~10,000 characters, so a one-word
change would be an unreadable diff. :func:`readable` replaces each such string with a
one-key object that a reviewer reads line by line, and :func:`restore` turns it back into the
very same string:

- ``{"@json": <value>}``: a string holding a JSON object or array (a policy written with
  ``json.dumps``, a dashboard), parsed and pretty-printed. The key names the ``json.dumps``
  style that writes the string again (``@json``, ``@json unicode``, ``@json indent=2``,
  ``@json compact``, ... with `` +newline`` for a final newline). Terraform interpolations
  inside (``"${replace(x, "a", "")}:sub"``) are kept verbatim, even where their quotes make
  the text invalid JSON as it stands.
- ``{"@expression": [<line>, ...]}``: a long Terraform expression such as
  ``${jsonencode({"Version" = ..., "Statement" = [...]})}`` broken after each ``{``, ``[`` and
  ``, `` of its objects and tuples and before their closing brackets, indented by depth.
- ``{"@lines": [<line>, ...]}``: any other multi-line string (YAML documents such as Helm
  values and ConfigMap files, scripts): its lines.

A string is only replaced when the reverse gives back exactly the original text (checked as
each one is converted); otherwise it stays as it is. Inside an embedded document the keys
keep their order (it is the document's own, and restoring depends on it); the Terraform
document's own keys are sorted. Nothing here imports the project: the scripts and the test
session's early commands use it before anything else is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

LINES = "@lines"
EXPRESSION = "@expression"
JSON_PREFIX = "@json"
# json.dumps keyword arguments per style, tried in this order: the first that writes the string
# again wins. json.dumps(policy) (the defaults) is how the stacks write their policies.
_JSON_ARGUMENTS: dict[str, dict[str, Any]] = {
    "": {},
    " unicode": {"ensure_ascii": False},
    " indent=2": {"indent": 2},
    " indent=2 unicode": {"indent": 2, "ensure_ascii": False},
    " compact": {"separators": (",", ":")},
    " compact unicode": {"separators": (",", ":"), "ensure_ascii": False},
}
_NEWLINE = " +newline"
JSON_STYLES: dict[str, tuple[dict[str, Any], str]] = {
    f"{JSON_PREFIX}{name}{suffix}": (arguments, ending)
    for suffix, ending in (("", ""), (_NEWLINE, "\n"))
    for name, arguments in _JSON_ARGUMENTS.items()
}
MARKERS = frozenset({LINES, EXPRESSION, *JSON_STYLES})
# A single-line Terraform expression shorter than this stays on its line.
EXPRESSION_MIN_LENGTH = 100
INDENT = "  "
_CLOSING = {"{": "}", "[": "]", "(": ")", "${": "}", "%{": "}"}
_OPENING = {"}": "{", "]": "["}


class AmbiguousDocument(ValueError):
    """A document already holds an object that looks like one of the markers."""


def readable(document: Any) -> Any:
    """The document with every embedded document replaced by its readable form (see the module doc).

    Dictionary keys of the document itself are sorted; those inside embedded documents keep
    their order.
    """
    return _readable(document, sort=True)


def restore(document: Any) -> Any:
    """The inverse of :func:`readable`: every marker object turned back into its exact string."""
    if isinstance(document, dict):
        marker = _marker(document)
        if marker is None:
            return {key: restore(value) for key, value in document.items()}
        value = document[marker]
        if marker == LINES:
            return "\n".join(value)
        if marker == EXPRESSION:
            return join_expression(value)
        return _dump_json(restore(value), marker)
    if isinstance(document, list):
        return [restore(item) for item in document]
    return document


def _readable(value: Any, sort: bool) -> Any:
    if isinstance(value, dict):
        if _marker(value) is not None:
            raise AmbiguousDocument(f"an object {sorted(value)} looks like a readable-form marker: cannot be restored")
        keys = sorted(value) if sort else list(value)
        return {key: _readable(value[key], sort) for key in keys}
    if isinstance(value, list):
        return [_readable(item, sort) for item in value]
    if isinstance(value, str):
        return _readable_text(value)
    return value


def _readable_text(text: str) -> Any:
    if text.lstrip().startswith(("{", "[")):
        style, parsed = _parse_json(text)
        if style is not None:
            return {style: _readable(parsed, sort=False)}
    if "\n" in text:
        return {LINES: text.split("\n")}
    if len(text) >= EXPRESSION_MIN_LENGTH:
        lines = layout_expression(text)
        if len(lines) > 1 and join_expression(lines) == text:
            return {EXPRESSION: lines}
    return text


def _marker(value: dict[str, Any]) -> str | None:
    if len(value) == 1:
        (key,) = value
        if key in MARKERS:
            return str(key)
    return None


# ---------------------------------------------------------------------------------------------
# JSON in a string


def embedded_json(text: str) -> Any:
    """The JSON object or array a string holds (interpolations kept verbatim), or None."""
    style, parsed = _parse_json(text) if text.lstrip().startswith(("{", "[")) else (None, None)
    return parsed if style is not None else None


def _parse_json(text: str) -> tuple[str | None, Any]:
    """(the style that writes ``text`` again, the parsed value), or (None, None)."""
    masked, spans = _mask_interpolations(text)
    if masked is None:
        return None, None
    try:
        parsed = _map_strings(json.loads(masked), lambda text: _replace_masks(text, spans))
    except ValueError:
        return None, None
    if not isinstance(parsed, dict | list):
        return None, None
    for style in JSON_STYLES:
        if _dump_json(parsed, style) == text:
            return style, parsed
    return None, None


def _dump_json(value: Any, style: str) -> str:
    arguments, ending = JSON_STYLES[style]
    spans: list[str] = []
    masked = _map_strings(value, lambda text: _mask_string(text, spans))  # spans filled in order
    return _replace_masks(json.dumps(masked, **arguments), spans) + ending


# A Terraform interpolation whose quotes are not JSON-escaped (json.dumps around a token such as
# ${replace(x, "https://", "")}) makes the text invalid JSON: each one is swapped for a mask
# while the JSON is parsed or written, and put back verbatim.
_MASK = "__iworkz_interpolation_{}__"


def _mask_interpolations(text: str) -> tuple[str | None, list[str]]:
    if "${" not in text:
        return text, []
    if _MASK.split("{")[0] in text:
        return None, []  # a mask would be ambiguous
    spans: list[str] = []
    return _mask_string(text, spans), spans


def _map_strings(value: Any, function: Callable[[str], str]) -> Any:
    """``value`` with ``function`` applied to every string in it, keys included."""
    if isinstance(value, dict):
        return {function(key): _map_strings(item, function) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, function) for item in value]
    if isinstance(value, str):
        return function(value)
    return value


def _replace_masks(text: str, spans: list[str]) -> str:
    for index, span in enumerate(spans):  # the closing "__" keeps mask 1 from matching mask 12
        text = text.replace(_MASK.format(index), span)
    return text


def _mask_string(text: str, spans: list[str]) -> str:
    found = interpolations(text) if "${" in text else []
    if not found:
        return text
    parts, position = [], 0
    for start, end in found:
        parts += [text[position:start], _MASK.format(len(spans))]
        spans.append(text[start:end])
        position = end
    return "".join([*parts, text[position:]])


# ---------------------------------------------------------------------------------------------
# Terraform templates and expressions


def _scan(text: str) -> Iterator[tuple[int, str, tuple[str, ...], tuple[str, ...]]]:
    """Walks a Terraform template string: yields (index, token, frames open before it, after it).

    A token is one character, an opener ``${``/``%{``, or an escape (``\\x`` in a quoted
    string, ``$${``/``%%{`` in template text). Frames are the constructs open around it:
    ``"`` a quoted string inside an expression, ``${``/``%{`` an interpolation, ``{``/``[``/``(``
    brackets of an expression. Outside any frame the text is a template, where quotes are
    literal characters.
    """
    frames: list[str] = []
    index, length = 0, len(text)
    while index < length:
        before = tuple(frames)
        pair = text[index : index + 2]
        if not frames or frames[-1] == '"':  # template text
            if text.startswith(("$${", "%%{"), index):
                token = text[index : index + 3]
            elif pair in ("${", "%{"):
                token = pair
                frames.append(pair)
            elif frames and pair[0] == "\\":
                token = pair
            elif frames and pair[0] == '"':
                token = '"'
                frames.pop()
            else:
                token = text[index]
        else:  # expression
            token = text[index]
            if token == '"':
                frames.append('"')
            elif token in "{[(":
                frames.append(token)
            elif token in "}])" and _CLOSING[frames[-1]] == token:
                frames.pop()
        yield index, token, before, tuple(frames)
        index += len(token)


def interpolations(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level ``${...}`` of a template string; none if the text does not balance."""
    found: list[tuple[int, int]] = []
    start = 0
    after: tuple[str, ...] = ()
    for index, token, before, after in _scan(text):
        if token == "${" and not before:
            start = index
        elif before == ("${",) and not after:
            found.append((start, index + 1))
    return found if not after else []


def layout_expression(text: str) -> list[str]:
    """The lines of a Terraform template laid out by its objects and tuples (see the module doc).

    Only brackets of an expression (not inside its quoted strings) break lines; the text
    itself is never changed, so :func:`join_expression` gives it back (the caller checks).
    """
    tokens = list(_scan(text))
    lines: list[str] = []
    current: list[str] = []
    depth = 0

    def break_line(next_depth: int) -> None:
        nonlocal depth
        lines.append(INDENT * depth + "".join(current).lstrip(" "))
        current.clear()
        depth = next_depth

    skip_space = False
    for position, (_index, token, before, _after) in enumerate(tokens):
        if skip_space and token == " ":
            skip_space = False
            continue
        skip_space = False
        in_expression = bool(before) and '"' not in before
        previous = tokens[position - 1][1] if position else ""
        following = tokens[position + 1][1] if position + 1 < len(tokens) else ""
        if in_expression and token in "}]" and before[-1] == _OPENING[token] and previous != before[-1]:
            break_line(depth - 1)
        current.append(token)
        if in_expression and token in "{[" and following != _CLOSING[token]:
            break_line(depth + 1)
        elif in_expression and token == "," and before[-1] in "{[" and following == " ":
            break_line(depth)
            skip_space = True
    if current:
        break_line(depth)
    return lines


def join_expression(lines: list[str]) -> str:
    """The inverse of :func:`layout_expression`: indentation removed, the space after a comma put back."""
    parts = [line.lstrip(" ") for line in lines]
    return "".join(part + " " if part.endswith(",") else part for part in parts[:-1]) + (parts[-1] if parts else "")


def text_lines(value: Any) -> list[str]:
    """The lines a reviewer reads for a value: a string's readable form, or the pretty-printed JSON."""
    shown = _readable(value, sort=True) if not isinstance(value, str) else _readable_text(value)
    if isinstance(shown, dict) and _marker(shown) in (LINES, EXPRESSION):
        return list(shown[str(_marker(shown))])
    if isinstance(shown, str):
        return shown.split("\n")
    return json.dumps(shown, indent=2, ensure_ascii=False).split("\n")
