"""The standard-library helpers of ``runtime/`` as a pod sees them.

A construct that runs one puts the files into a ConfigMap (:func:`runtime_files`), mounts it
at :data:`MOUNT_PATH` and runs ``python <MOUNT_PATH>/<script>`` in a stock Python image as
:data:`NOBODY`: nothing is installed at start-up.
"""

from __future__ import annotations

import re
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parents[1] / "runtime"
MOUNT_PATH = "/opt/iworkz"
NOBODY = 65534  # an unprivileged user of every base image, without a home directory
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def runtime_files(*names: str) -> dict[str, str]:
    """File name -> content, with literal ``${``/``%{`` escaped so that Terraform passes them through."""
    from iworkz_constructs.helm_chart import escape_template

    return {name: escape_template((RUNTIME_DIR / name).read_text(encoding="utf-8")) for name in names}


def check_name(label: str, value: str, max_length: int = 63) -> None:
    """A Kubernetes object name: lower-case letters, digits and '-', at most ``max_length``."""
    if not _NAME.match(value) or len(value) > max_length:
        raise ValueError(
            f"{label} {value!r} is not a Kubernetes name (lower-case letters, digits, '-'; at most {max_length})"
        )
