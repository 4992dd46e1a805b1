"""Synth diff: what a change does to the synthesised Terraform, stack by stack.

``make diff BASE=<git ref>`` (``python scripts/synth_diff.py --base <ref>``) synthesises the
base revision and the working tree, each in a fresh process with the current venv, and
prints per stack the resources added, removed and changed and the other blocks that changed
(outputs, providers, backend, data sources), each changed attribute with its old and new
value (``path: old -> new``). Inside a string that holds JSON (a policy) the changed keys are
named (``policy{Statement[0].Action}``); a multi-line string (Helm values, a ConfigMap file,
a script) or a long value shows as the changed lines with a line of context.
The removal of a stateful resource (a database, a bucket, a key...), a logical-ID rename
(Terraform destroys the old one), an attribute change that replaces a stateful resource,
and lowered protection (prevent_destroy or deletion protection switched off) are flagged
loudly at the end.

Exit status of the script: 0 nothing changed, 1 something changed (the report says what),
2 error (bad ref, a synth that fails, bad input); ``make diff`` passes 0 through and turns
any other status into make's own 2 (CI tells the two apart by the Markdown report, written
only when the comparison ran). STACKS/ENVS select what both sides synthesise.

The base revision is exported with ``git archive`` into a temporary folder (no worktree is
registered in the shared .git, nothing to clean up if interrupted); it uses the current
venv and node_modules. The comparison itself is the pure function :func:`compare`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readable import embedded_json, text_lines
from snapshots import PROJECT_ROOT, normalise, path_replacements

from iworkz.policy.rules import STATEFUL_TYPES as POLICY_STATEFUL_TYPES

EXIT_UNCHANGED = 0
EXIT_CHANGED = 1
EXIT_ERROR = 2

# The policy's stateful types (which must carry deletion protection and prevent_destroy) plus
# the resources whose destruction also loses data or an identity that cannot be recreated as it
# was (a secret's versions, a cluster, logs, a key vault's keys...): the diff flags them all.
REVIEW_STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_db_snapshot",
        "aws_elasticache_replication_group",
        "aws_elasticache_cluster",
        "aws_opensearch_domain",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_kms_key",
        "aws_secretsmanager_secret",
        "aws_efs_file_system",
        "aws_ebs_volume",
        "aws_eks_cluster",
        "aws_backup_vault",
        "aws_cloudwatch_log_group",
        "aws_ecr_repository",
        "azurerm_postgresql_flexible_server",
        "azurerm_postgresql_flexible_server_database",
        "azurerm_storage_account",
        "azurerm_storage_container",
        "azurerm_key_vault",
        "azurerm_key_vault_key",
        "azurerm_key_vault_secret",
        "azurerm_kubernetes_cluster",
        "azurerm_log_analytics_workspace",
        "azurerm_recovery_services_vault",
        "azurerm_data_protection_backup_vault",
        "kubernetes_persistent_volume",
        "kubernetes_persistent_volume_claim",
        "kubernetes_persistent_volume_claim_v1",
        "kubernetes_persistent_volume_v1",
    }
)
STATEFUL_TYPES: frozenset[str] = REVIEW_STATEFUL_TYPES | frozenset(POLICY_STATEFUL_TYPES)

# Attributes whose change makes Terraform destroy and recreate a stateful resource
# (ForceNew in the provider schema). Azure resources are also replaced by a new name,
# resource group or location.
FORCE_NEW_ATTRIBUTES: dict[str, frozenset[str]] = {
    "aws_db_instance": frozenset(
        {"identifier", "engine", "storage_encrypted", "kms_key_id", "db_name", "username", "character_set_name"}
    ),
    "aws_rds_cluster": frozenset(
        {"cluster_identifier", "engine", "storage_encrypted", "kms_key_id", "database_name", "master_username"}
    ),
    "aws_rds_cluster_instance": frozenset({"identifier", "cluster_identifier", "engine"}),
    "aws_elasticache_replication_group": frozenset(
        {"replication_group_id", "at_rest_encryption_enabled", "kms_key_id", "engine"}
    ),
    "aws_elasticache_cluster": frozenset({"cluster_id", "engine"}),
    "aws_opensearch_domain": frozenset({"domain_name", "encrypt_at_rest"}),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix"}),
    "aws_dynamodb_table": frozenset({"name", "hash_key", "range_key"}),
    "aws_kms_key": frozenset({"customer_master_key_spec", "key_spec", "key_usage", "multi_region"}),
    "aws_secretsmanager_secret": frozenset({"name", "name_prefix"}),
    "aws_efs_file_system": frozenset({"creation_token", "encrypted", "kms_key_id", "performance_mode"}),
    "aws_ebs_volume": frozenset({"availability_zone", "encrypted", "kms_key_id", "snapshot_id"}),
    "aws_eks_cluster": frozenset({"name"}),
    "aws_backup_vault": frozenset({"name", "kms_key_arn"}),
    "aws_cloudwatch_log_group": frozenset({"name", "name_prefix"}),
    "aws_ecr_repository": frozenset({"name"}),
}
AZURE_FORCE_NEW = frozenset({"name", "resource_group_name", "location"})
# Switching one of these off (or removing it) lowers the protection of a stateful resource.
PROTECTION_ATTRIBUTES = (
    "lifecycle.prevent_destroy",
    "deletion_protection",
    "deletion_protection_enabled",
    "purge_protection_enabled",
)

StackJson = dict[str, Any]
RESOURCE_BLOCK = "resource"


def force_new_attributes(resource_type: str) -> frozenset[str]:
    if resource_type.startswith("azurerm_"):
        return FORCE_NEW_ATTRIBUTES.get(resource_type, frozenset()) | AZURE_FORCE_NEW
    return FORCE_NEW_ATTRIBUTES.get(resource_type, frozenset())


class _Absent:
    """The value of an attribute that one side does not have."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class AttributeChange:
    """One changed leaf: its dotted path (``a.b[0].c``, ``policy{Statement[0].Action}``), old and new value."""

    path: str
    old: Any = ABSENT
    new: Any = ABSENT


@dataclass(frozen=True)
class ResourceChange:
    """One resource added, removed or changed in one stack."""

    stack: str
    resource_type: str
    name: str
    kind: str  # "added" | "removed" | "changed"
    changes: tuple[AttributeChange, ...] = ()
    alerts: tuple[str, ...] = ()
    kept: str | None = None  # a removed resource that stays in the cloud: how (moved / removed block)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(change.path for change in self.changes)

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"

    @property
    def stateful(self) -> bool:
        return self.resource_type in STATEFUL_TYPES


@dataclass(frozen=True)
class StackDiff:
    name: str
    status: str  # "added" | "removed" | "changed" | "unchanged"
    resources: tuple[ResourceChange, ...] = ()
    other: tuple[AttributeChange, ...] = ()  # outside `resource` (outputs, providers, backend, data...)

    def count(self, kind: str) -> int:
        return sum(1 for change in self.resources if change.kind == kind)

    @property
    def alerts(self) -> list[str]:
        return [alert for change in self.resources for alert in change.alerts]


@dataclass(frozen=True)
class DiffReport:
    stacks: tuple[StackDiff, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return any(stack.status != "unchanged" for stack in self.stacks)

    @property
    def alerts(self) -> list[str]:
        return [alert for stack in self.stacks for alert in stack.alerts]


# ---------------------------------------------------------------------------------------------
# The comparison (pure)


def compare(base: Mapping[str, StackJson], head: Mapping[str, StackJson]) -> DiffReport:
    """Compares two synths (stack name -> cdk.tf.json) and says what changed, per stack.

    The documents are normalised first (``"//"`` metadata ignored), so only what Terraform
    sees counts. A stack present on one side only counts all its resources as added/removed.
    """
    diffs = []
    for name in sorted(set(base) | set(head)):
        old = normalise(base.get(name, {}))
        new = normalise(head.get(name, {}))
        status = "added" if name not in base else "removed" if name not in head else "changed"
        resources = tuple(
            _resource_changes(name, old.get(RESOURCE_BLOCK, {}), new.get(RESOURCE_BLOCK, {}), _kept_in_state(new))
        )
        other: list[AttributeChange] = []
        for block in sorted((set(old) | set(new)) - {RESOURCE_BLOCK}):
            other.extend(_changes(old.get(block, ABSENT), new.get(block, ABSENT), block))
        if status == "changed" and not resources and not other:
            status = "unchanged"
        diffs.append(StackDiff(name, status, resources, tuple(other)))
    return DiffReport(tuple(diffs))


def _kept_in_state(document: Mapping[str, Any]) -> dict[str, str]:
    """Addresses the stack's ``moved`` and ``removed`` blocks keep from being destroyed, and how."""
    kept = {}
    for block in document.get("removed") or []:
        if (block.get("lifecycle") or {}).get("destroy") is False:
            kept[block["from"]] = "removed block with destroy = false: left in the cloud (another stack imports it)"
    for block in document.get("moved") or []:
        kept[block["from"]] = f"moved to {block['to']}"
    return kept


def _resource_changes(
    stack: str,
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    kept: Mapping[str, str] | None = None,
) -> Iterator[ResourceChange]:
    kept = kept or {}
    for resource_type in sorted(set(old) | set(new)):
        before = old.get(resource_type, {})
        after = new.get(resource_type, {})
        removed = sorted(set(before) - set(after))
        added = sorted(set(after) - set(before))
        stateful = resource_type in STATEFUL_TYPES
        for name in removed:
            alerts: tuple[str, ...] = ()
            how = kept.get(f"{resource_type}.{name}")
            if how is not None:
                yield ResourceChange(stack, resource_type, name, "removed", kept=how)
                continue
            if stateful:
                hint = (
                    f" (logical ID changed? {resource_type} {', '.join(added)} is new in the same stack: "
                    "add a `moved` block or keep the construct id)"
                    if added
                    else ""
                )
                alerts = (
                    f"{stack}: stateful {resource_type}.{name} REMOVED - Terraform will DESTROY it and its data{hint}",
                )
            yield ResourceChange(stack, resource_type, name, "removed", alerts=alerts)
        for name in added:
            yield ResourceChange(stack, resource_type, name, "added")
        for name in sorted(set(before) & set(after)):
            changes = tuple(_changes(before[name], after[name], ""))
            if changes:
                paths = tuple(change.path for change in changes)
                alerts = (
                    _change_alerts(stack, resource_type, name, before[name], after[name], paths) if stateful else ()
                )
                yield ResourceChange(stack, resource_type, name, "changed", changes, alerts)


def _change_alerts(
    stack: str, resource_type: str, name: str, before: Any, after: Any, paths: tuple[str, ...]
) -> tuple[str, ...]:
    alerts = []
    forcing = sorted({path for path in paths if _top_attribute(path) in force_new_attributes(resource_type)})
    if forcing:
        alerts.append(
            f"{stack}: stateful {resource_type}.{name} REPLACED - {', '.join(forcing)} forces a new resource "
            "(Terraform destroys the old one)"
        )
    for attribute in PROTECTION_ATTRIBUTES:
        was, now = _lookup(before, attribute), _lookup(after, attribute)
        if was is True and now is not True:
            alerts.append(f"{stack}: stateful {resource_type}.{name} protection lowered: {attribute} {was} -> {now}")
    return tuple(alerts)


def _top_attribute(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def _lookup(document: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    return document


def _changes(old: Any, new: Any, prefix: str) -> Iterator[AttributeChange]:
    """The leaves that differ (dotted paths ``a.b[0].c``); a list that changes length is one change."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            yield from _changes(old.get(key, ABSENT), new.get(key, ABSENT), path)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from _changes(before, after, f"{prefix}[{index}]")
        return
    if isinstance(old, str) and isinstance(new, str):
        parsed_old, parsed_new = embedded_json(old), embedded_json(new)
        if parsed_old is not None and parsed_new is not None:  # a JSON policy: show where inside it changed
            inner = list(_changes(parsed_old, parsed_new, ""))
            if inner:
                yield from (AttributeChange(f"{prefix}{{{change.path}}}", change.old, change.new) for change in inner)
                return
    yield AttributeChange(prefix or "(whole block)", old, new)


# ---------------------------------------------------------------------------------------------
# Rendering


# A value longer than this, or a multi-line string, shows as a line diff instead of `old -> new`.
INLINE_VALUE_WIDTH = 100
MAX_DIFF_LINES_PER_CHANGE = 40


def _inline(value: Any) -> str:
    return repr(value) if value is ABSENT else json.dumps(value, ensure_ascii=False)


def _shown_as_lines(change: AttributeChange) -> bool:
    def long(value: Any) -> bool:
        if isinstance(value, str):
            return "\n" in value or len(value) > INLINE_VALUE_WIDTH
        return isinstance(value, dict | list) and len(_inline(value)) > INLINE_VALUE_WIDTH

    return long(change.old) or long(change.new)


def change_lines(change: AttributeChange) -> list[str]:
    """``path: old -> new``, or ``path:`` and the changed lines of the two values (unified, one line of context)."""
    if not _shown_as_lines(change):
        return [f"{change.path}: {_inline(change.old)} -> {_inline(change.new)}"]
    old = [] if change.old is ABSENT else text_lines(change.old)
    new = [] if change.new is ABSENT else text_lines(change.new)
    diff = [line for line in difflib.unified_diff(old, new, lineterm="", n=1)][2:]  # without the file header
    if len(diff) > MAX_DIFF_LINES_PER_CHANGE:
        diff = [*diff[:MAX_DIFF_LINES_PER_CHANGE], f"... {len(diff) - MAX_DIFF_LINES_PER_CHANGE} more diff lines"]
    was = " (was absent)" if change.old is ABSENT else " (now absent)" if change.new is ABSENT else ""
    return [f"{change.path}:{was}", *(f"  {line}" for line in diff)]


def render_text(report: DiffReport, base_label: str = "base", head_label: str = "working tree") -> str:
    lines = [f"synth diff: {base_label} -> {head_label}"]
    for stack in report.stacks:
        if stack.status == "unchanged":
            lines.append(f"  {stack.name}: unchanged")
            continue
        counts = f"+{stack.count('added')} -{stack.count('removed')} ~{stack.count('changed')}"
        lines.append(f"  {stack.name}: {stack.status} ({counts} resources)")
        symbols = {"added": "+", "removed": "-", "changed": "~"}
        for change in stack.resources:
            flag = "  [stateful]" if change.stateful and change.kind != "added" else ""
            note = f"  ({change.kept})" if change.kept else ""
            lines.append(f"    {symbols[change.kind]} {change.address}{flag}{note}")
            lines.extend(f"        {line}" for attribute in change.changes for line in change_lines(attribute))
        for attribute in stack.other:
            first, *rest = change_lines(attribute)
            lines.append(f"    ~ {first}")
            lines.extend(f"      {line}" for line in rest)
    changed = sum(1 for stack in report.stacks if stack.status != "unchanged")
    lines.append(f"{changed} of {len(report.stacks)} stacks changed")
    if report.alerts:
        bar = "!" * 100
        lines += ["", bar, f"!!! {len(report.alerts)} STATEFUL RESOURCE ALERT(S): data may be lost", bar]
        lines.extend(f"!!! {alert}" for alert in report.alerts)
        lines.append(bar)
    return "\n".join(lines) + "\n"


def _markdown_change(change: AttributeChange, indent: str) -> list[str]:
    if not _shown_as_lines(change):
        return [f"{indent}- `{change.path}`: `{_inline(change.old)}` → `{_inline(change.new)}`"]
    first, *diff = change_lines(change)
    fence = [f"{indent}  ```diff", *(f"{indent}  {line[2:]}" for line in diff), f"{indent}  ```"]
    return [f"{indent}- `{first.removesuffix(':')}`", *fence]


def render_markdown(report: DiffReport, base_label: str = "base", head_label: str = "working tree") -> str:
    lines = [f"# Synth diff: `{base_label}` → {head_label}", ""]
    if report.alerts:
        lines += [f"> **:warning: {len(report.alerts)} stateful resource alert(s): data may be lost**", ">"]
        lines += [f"> - {alert}" for alert in report.alerts]
        lines.append("")
    lines += ["| stack | status | added | removed | changed | other blocks |", "|---|---|---|---|---|---|"]
    for stack in report.stacks:
        lines.append(
            f"| `{stack.name}` | {stack.status} | {stack.count('added')} | {stack.count('removed')} "
            f"| {stack.count('changed')} | {len(stack.other)} |"
        )
    for stack in report.stacks:
        if stack.status == "unchanged":
            continue
        lines += ["", f"## `{stack.name}` ({stack.status})", ""]
        for change in stack.resources:
            stateful = " **(stateful)**" if change.stateful and change.kind != "added" else ""
            note = f" ({change.kept})" if change.kept else ""
            lines.append(f"- {change.kind} `{change.address}`{stateful}{note}")
            for attribute in change.changes:
                lines.extend(_markdown_change(attribute, "  "))
        for attribute in stack.other:
            lines.extend(_markdown_change(attribute, ""))
    if not report.changed:
        lines += ["", "No stack changed."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Synthesising both sides


class DiffError(Exception):
    """The diff could not be computed (bad ref, failing synth)."""


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def export_revision(ref: str, target: Path) -> str:
    """Extracts the tree of ``ref`` into ``target``; returns the commit id."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    target.mkdir(parents=True)
    archive = target.parent / f"{target.name}.tar"
    with archive.open("wb") as handle:
        result = subprocess.run(["git", "archive", commit], cwd=PROJECT_ROOT, stdout=handle, check=False)
    if result.returncode != 0:
        raise DiffError(f"git archive {commit} failed")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    return commit


def prepare_checkout(checkout: Path, shim: Path) -> dict[str, str]:
    """Makes an exported revision runnable with the current venv; returns the environment to use.

    The venv's editable install maps ``iworkz_constructs`` to this checkout's constructs/:
    a small package in ``shim`` points it at the exported revision's constructs/ instead
    (``iworkz`` and ``stacks`` come from the revision's own folder, first on sys.path).
    """
    node_modules = checkout / "node_modules"
    if not node_modules.exists() and (PROJECT_ROOT / "node_modules").exists():
        node_modules.symlink_to(PROJECT_ROOT / "node_modules")
    package = shim / "iworkz_constructs"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f"__path__ = [{str(checkout / 'constructs')!r}]\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim), str(checkout), *filter(None, [env.get("PYTHONPATH")])])
    env["PATH"] = f"{PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def start_synth(checkout: Path, outdir: Path, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-O", "main.py", "--outdir", str(outdir)],
        cwd=checkout,
        env=dict(env),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def read_synth(outdir: Path) -> dict[str, StackJson]:
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }


def synth_both(
    ref: str, workdir: Path, sequential: bool = False
) -> tuple[str, dict[str, StackJson], dict[str, StackJson]]:
    """Synthesises ``ref`` and the working tree (STACKS/ENVS from the environment); returns both, normalised."""
    base_checkout = workdir / "base"
    commit = export_revision(ref, base_checkout)
    base_env = prepare_checkout(base_checkout, workdir / "shim")
    head_env = dict(os.environ)
    sides = {
        "base": (base_checkout, workdir / "base.out", base_env),
        "head": (PROJECT_ROOT, workdir / "head.out", head_env),
    }
    processes = {}
    for side, (checkout, outdir, env) in sides.items():
        processes[side] = start_synth(checkout, outdir, env, workdir / f"{side}.log")
        if sequential:
            processes[side].wait()
    for side, process in processes.items():
        if process.wait() != 0:
            log = (workdir / f"{side}.log").read_text(errors="replace")
            label = f"base {ref} ({commit[:12]})" if side == "base" else "working tree"
            raise DiffError(f"the synth of the {label} failed (exit {process.returncode}):\n{log.strip()}")
    documents = {}
    for side, (checkout, outdir, _env) in sides.items():
        replacements = path_replacements(outdir, root=checkout)
        documents[side] = {name: normalise(doc, replacements) for name, doc in read_synth(outdir).items()}
    return commit, documents["base"], documents["head"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=os.environ.get("BASE"), help="git ref to compare with (env BASE)")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown (merge-request artifact)")
    parser.add_argument("--sequential", action="store_true", help="synthesise one side after the other (less memory)")
    args = parser.parse_args(argv)
    if not args.base:
        print("error: no base given: make diff BASE=<git ref> (e.g. BASE=origin/main)", file=sys.stderr)
        return EXIT_ERROR
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="iworkz-synth-diff-") as temporary:
            commit, base, head = synth_both(args.base, Path(temporary), args.sequential)
    except DiffError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    report = compare(base, head)
    base_label = f"{args.base} ({commit[:12]})"
    print(render_text(report, base_label), end="")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(render_markdown(report, base_label), encoding="utf-8")
        print(f"wrote {args.markdown}")
    print(f"synth diff took {time.monotonic() - started:.1f} s")
    return EXIT_CHANGED if report.changed else EXIT_UNCHANGED


if __name__ == "__main__":
    sys.exit(main())
