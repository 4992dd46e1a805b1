"""Every synthesised stack matches its checked-in snapshot (tests/snapshots/<stack>.json).

A merge request that changes infrastructure therefore changes a snapshot, and the review
shows exactly what Terraform will see: in both directions, the synth renders to the
snapshot's text and the snapshot restores to the synth's exact JSON (embedded documents
such as policies and Helm values are stored in their readable form, scripts/readable.py). Refresh after an intended change with
``make snapshots`` (or ``UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_snapshots.py``,
which reuses the session synth). The session synth is shared: nothing is synthesised here.
"""

from __future__ import annotations

import copy
import difflib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from snapshots import (
    REFRESH_COMMAND,
    SNAPSHOT_DIR,
    existing_snapshots,
    load_snapshot,
    normalise,
    path_replacements,
    render,
    snapshot_path,
    write_snapshots,
)
from synth_diff import compare, render_text

UPDATE = os.environ.get("UPDATE_SNAPSHOTS", "") in ("1", "true")
MAX_DIFF_LINES = 150


def _selection_is_partial() -> bool:
    return bool(os.environ.get("STACKS") or os.environ.get("ENVS"))


def _expected(name: str) -> str:
    return snapshot_path(name).read_text(encoding="utf-8")


def _actual(document: dict[str, Any], outdir: Path) -> str:
    return render(normalise(document, path_replacements(outdir)))


def _replace_first(container: Any, key: Any, word: str, replacement: str) -> bool:
    """Replaces the first ``word`` in the strings of ``container[key]`` (in place); whether one was found."""
    value = container[key]
    if isinstance(value, str):
        if word in value:
            container[key] = value.replace(word, replacement, 1)
            return True
        return False
    keys = value.keys() if isinstance(value, dict) else range(len(value)) if isinstance(value, list) else ()
    return any(_replace_first(value, inner, word, replacement) for inner in keys)


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_every_synthesised_stack_has_a_snapshot_and_every_snapshot_a_stack(
    synthesized: dict[str, Any], synth_outdir: Path
) -> None:
    if UPDATE and not _selection_is_partial():
        for name, document in synthesized.items():
            SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
            snapshot_path(name).write_text(_actual(document, synth_outdir), encoding="utf-8")
        if not _selection_is_partial():
            for name in existing_snapshots() - set(synthesized):
                snapshot_path(name).unlink()
    snapshots = existing_snapshots()
    missing = sorted(set(synthesized) - snapshots)
    assert not missing, f"stacks without a snapshot: {missing}\nrefresh: {REFRESH_COMMAND}"
    if _selection_is_partial():
        return  # a STACKS/ENVS selection does not synthesise every stack
    orphaned = sorted(snapshots - set(synthesized))
    assert not orphaned, f"snapshots of stacks that no longer exist: {orphaned}\nrefresh: {REFRESH_COMMAND}"


@pytest.mark.parametrize("name", sorted(existing_snapshots()))
def test_stack_matches_its_snapshot(name: str, synthesized: dict[str, Any], synth_outdir: Path) -> None:
    if _selection_is_partial():
        pytest.skip("snapshots hold full synths: a stack's cross-stack outputs depend on what else is synthesised")
    if name not in synthesized:
        if _selection_is_partial():
            pytest.skip(f"{name} is not in the STACKS/ENVS selection")
        pytest.fail(f"{name} has a snapshot but was not synthesised\nrefresh: {REFRESH_COMMAND}")
    actual = _actual(synthesized[name], synth_outdir)
    if UPDATE:
        snapshot_path(name).write_text(actual, encoding="utf-8")
    expected = _expected(name)
    if actual == expected:
        # and back: the snapshot holds exactly the synthesised Terraform, embedded documents included
        assert load_snapshot(expected) == normalise(synthesized[name], path_replacements(synth_outdir))
        return
    summary = render_text(
        compare({name: load_snapshot(expected)}, {name: load_snapshot(actual)}), "snapshot", "this synth"
    )
    lines = list(
        difflib.unified_diff(
            expected.splitlines(),
            actual.splitlines(),
            f"tests/snapshots/{name}.json (checked in)",
            f"{name} (synthesised now)",
            lineterm="",
            n=2,
        )
    )
    shown = "\n".join(lines[:MAX_DIFF_LINES])
    more = f"\n... {len(lines) - MAX_DIFF_LINES} more diff lines" if len(lines) > MAX_DIFF_LINES else ""
    pytest.fail(
        f"{name} differs from its snapshot.\n{summary}\n{shown}{more}\n\n"
        f"If the change is intended, refresh the snapshots: {REFRESH_COMMAND}",
        pytrace=False,
    )


def test_normalisation_drops_metadata_and_paths_but_keeps_logical_ids(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    document = {
        "//": {"metadata": {"version": "0.21.0", "stackName": "x"}},
        "resource": {
            "aws_s3_bucket": {
                "logs_bucket_ABCD1234": {
                    "//": {"metadata": {"path": "x/logs/bucket", "uniqueId": "logs_bucket_ABCD1234"}},
                    "bucket": "iworkz-logs",
                    "source": f"{outdir}/stacks/x/assets/file.zip",
                }
            }
        },
    }
    normalised = normalise(document, path_replacements(outdir))
    assert normalised == {
        "resource": {
            "aws_s3_bucket": {
                "logs_bucket_ABCD1234": {"bucket": "iworkz-logs", "source": "<outdir>/stacks/x/assets/file.zip"}
            }
        }
    }
    assert render(normalised).endswith("}\n")
    assert render(normalised).splitlines()[1] == '  "resource": {'


def test_write_snapshots_reports_changes_and_prunes_only_when_asked(tmp_path: Path) -> None:
    directory = tmp_path / "snapshots"
    stacks = {"network-dev": {"//": {"metadata": {}}, "resource": {"aws_vpc": {"vpc": {"cidr_block": "10.2.0.0/16"}}}}}
    assert write_snapshots(stacks, directory=directory) == (["network-dev"], [])
    assert write_snapshots(stacks, directory=directory) == ([], [])  # unchanged content is not rewritten
    (directory / "old-stack.json").write_text("{}\n")
    assert write_snapshots(stacks, directory=directory) == ([], [])  # a partial refresh keeps other snapshots
    assert write_snapshots(stacks, directory=directory, prune=True) == ([], ["old-stack"])
    assert existing_snapshots(directory) == {"network-dev"}
    assert '"//"' not in (directory / "network-dev.json").read_text()


# (stack, resource type, attribute, a word in its value, its replacement): a one-word change of
# each kind of embedded document, as a merge request would make it. (Policies are no longer
# embedded documents: they are aws_iam_policy_document data sources, see the test below.)
ONE_WORD_CHANGES = [
    pytest.param("monitoring-production", "helm_release", "values", "replicas: 2", "replicas: 3", id="helm-values"),
    pytest.param("monitoring-production", "kubernetes_config_map_v1", "data", "timeout", "deadline", id="configmap"),
    pytest.param(
        "data-production", "aws_secretsmanager_secret_version", "secret_string", "6379", "6380", id="jsonencode"
    ),
]


@pytest.mark.parametrize(("name", "resource_type", "attribute", "word", "replacement"), ONE_WORD_CHANGES)
def test_a_one_word_change_of_an_embedded_document_is_one_short_changed_line(
    name: str,
    resource_type: str,
    attribute: str,
    word: str,
    replacement: str,
    synthesized: dict[str, Any],
    synth_outdir: Path,
) -> None:
    if name not in synthesized:
        pytest.skip(f"{name} is not in the STACKS/ENVS selection")
    document = normalise(synthesized[name], path_replacements(synth_outdir))
    edited = copy.deepcopy(document)
    for resource in edited["resource"][resource_type].values():
        if attribute in resource and _replace_first(resource, attribute, word, replacement):
            break
    else:
        pytest.fail(f"no {word!r} in the {attribute} of any {resource_type} of {name}")
    before, after = render(document), render(edited)

    lines = _changed_lines(before, after)
    assert len(lines) == 2, "\n".join(lines)
    assert lines[0].startswith("-") and word in lines[0] and lines[1].startswith("+") and replacement in lines[1]
    assert max(len(line) for line in lines) < 200, lines
    assert load_snapshot(after) == edited  # the edited snapshot still restores exactly


def test_a_policy_is_a_data_source_of_many_short_lines_in_the_snapshot(
    synthesized: dict[str, Any], synth_outdir: Path
) -> None:
    """A key policy is an aws_iam_policy_document (one value per line), not a one-line JSON string."""
    if "data-production" not in synthesized:
        pytest.skip("data-production is not in the STACKS/ENVS selection")
    document = normalise(synthesized["data-production"], path_replacements(synth_outdir))
    documents = document["data"]["aws_iam_policy_document"]
    for key in document["resource"]["aws_kms_key"].values():
        name = key["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
        lines = render({"data": {"aws_iam_policy_document": {name: documents[name]}}}).splitlines()
        assert len(lines) > 20 and max(len(line) for line in lines) < 200
