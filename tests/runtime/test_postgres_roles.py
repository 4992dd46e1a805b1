"""runtime/postgres_roles.sql on a real PostgreSQL server: the services' roles, idempotently."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.early import postgres_roles_against_a_server


@pytest.mark.early(command=postgres_roles_against_a_server)
def test_creates_the_service_roles_and_hands_the_application_its_objects(
    early_result: subprocess.CompletedProcess[str],
) -> None:
    assert early_result.returncode == 0, early_result.stderr
    report = json.loads(early_result.stdout.strip().splitlines()[-1])
    if "skipped" in report:
        pytest.skip(report["skipped"])
    # Twice: the second run (the Job after any change) finds everything in place.
    assert report["runs"] == [[0, ""], [0, ""]]
    state = report["state"]
    assert state["login"] == {"iworkz_app": True, "iworkz_monitoring": True}
    assert state["superuser"] is False and state["password_set"] is True
    assert state["monitor"] is True
    assert state["app_creates"] is True and state["monitor_creates"] is False
    # What the application created as the master user is now its own (the serial's sequence too).
    assert state["owners"] == {
        "jobs": "iworkz_app",
        "jobs_id_seq": "iworkz_app",
        "jobs_pkey": "iworkz_app",
        "open_jobs": "iworkz_app",
    }
