"""The helpers in runtime/ run as flat scripts in their pod (``python /opt/iworkz/<script>.py``),
importing each other by module name; the tests import them the same way."""

import sys
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime"
sys.path.insert(0, str(RUNTIME_DIR))
