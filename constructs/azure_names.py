"""Azure resource names within the service's length limit, stable across synths."""

from __future__ import annotations

import hashlib
import re


def compact_name(name: str, max_length: int, *, alphanumeric: bool = False) -> str:
    """An Azure name within ``max_length``: shortened with a stable hash suffix when too long.

    ``alphanumeric``: lower-case letters and digits only (storage accounts).
    """
    if alphanumeric:
        name = re.sub(r"[^a-z0-9]", "", name.lower())
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:4]
    head = name[: max_length - 4].rstrip("-")
    return f"{head}{digest}"
