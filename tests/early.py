"""Subprocess commands of the test session that run on the second core while the in-process tests run.

A test marked ``@pytest.mark.early(command=f)`` gets the ``subprocess.CompletedProcess`` of
``f``'s argv from the ``early_result`` fixture (conftest.py); tests marked with the same
command share one run, and tests that wait for a command run last. ``f`` takes session
fixtures by parameter name and ``workdir``, a fresh folder of its own.

The commands below take only ``workdir``: pytest starts them before it collects the tests
(~1.5 s of imports that leave the second core idle), and stops those no collected test uses.
The longest, checkov's scan of the snapshots, takes ~5 s. A command that needs the session
synth (``synthesized``) starts once it is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(SCRIPTS))
from bench import tree_pids  # noqa: E402  (scripts/ is not a package)
from snapshots import load_snapshot  # noqa: E402

EarlyCommand = Callable[..., list[str]]
BEFORE_COLLECTION: list[EarlyCommand] = []


def before_collection(command: EarlyCommand) -> EarlyCommand:
    BEFORE_COLLECTION.append(command)
    return command


class EarlyRun:
    """One command running in a subprocess; its output goes to files, so no pipe needs draining.

    The process stays in pytest's process group, so that whatever ends the session's group
    (a cancelled CI job) ends it too; :meth:`stop` ends it with everything it started.
    """

    def __init__(self, argv: list[str], workdir: Path, *, nice: bool) -> None:
        self.argv = argv
        self._stdout = (workdir / "stdout").open("w+", encoding="utf-8")
        self._stderr = (workdir / "stderr").open("w+", encoding="utf-8")
        # niced: the in-process tests (and the session synth) keep their core
        command = ["nice", "-n", "19", *argv] if nice else argv
        try:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=self._stdout, stderr=self._stderr, text=True)
        except OSError:
            self._close()
            raise

    def result(self, timeout: float) -> subprocess.CompletedProcess[str]:
        """Waits for the command; raises subprocess.TimeoutExpired (after stopping it) past ``timeout`` s."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        output = []
        for stream in (self._stdout, self._stderr):
            stream.seek(0)
            output.append(stream.read())
        return subprocess.CompletedProcess(self.argv, self.process.returncode, *output)

    def stop(self) -> None:
        if self.process.poll() is None:
            for pid in reversed(tree_pids(self.process.pid)):  # e.g. scan.py and its checkov
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait()
        self._close()

    def _close(self) -> None:
        self._stdout.close()
        self._stderr.close()


# --- checkov (tests/test_policy.py) ---------------------------------------------------------

BAD_STACK = {
    "terraform": {"required_version": ">= 1.11"},  # checkov's parser needs scan.py's workaround for this
    "resource": {
        "aws_security_group": {
            "open": {"ingress": [{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}
        }
    },
}
# Valid JSON that checkov 3.3.30's terraform_json parser rejects (a provider block that is not an object).
BROKEN_STACK = {"provider": {"aws": ["not-an-object"]}, "resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}}
NEGATIVE_CASES = {"bad-stack": BAD_STACK, "broken-stack": BROKEN_STACK}


def scan_with_negative_cases(outdir: Path, stacks: dict[str, bytes]) -> list[str]:
    """``make scan``'s scan (scripts/scan.py) of ``stacks`` and the two negative cases, in one checkov run.

    One run, because checkov's start-up is a third of a scan; the per-stack table and the
    ``--json`` summary keep the results apart.
    """
    documents = {**stacks, **{name: json.dumps(document).encode() for name, document in NEGATIVE_CASES.items()}}
    for name, document in documents.items():
        folder = outdir / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "cdk.tf.json").write_bytes(document)
    scan = SCRIPTS / "scan.py"
    return [sys.executable, str(scan), "--outdir", str(outdir), "--json", str(outdir / "scan.json")]


@before_collection
def scan_snapshots(workdir: Path) -> list[str]:
    """The checked-in snapshots laid out as a synth output, back in Terraform's form
    (tests/test_snapshots.py proves each equals the session synth but for metadata, which no check reads)."""
    snapshots = {
        path.stem: json.dumps(load_snapshot(path.read_text(encoding="utf-8"))).encode()
        for path in sorted((ROOT / "tests" / "snapshots").glob("*.json"))
    }
    return scan_with_negative_cases(workdir / "cdktf.out", snapshots)


def scan_synthesised_stacks(workdir: Path, synthesized: dict[str, Any], synth_outdir: Path) -> list[str]:
    """A STACKS/ENVS run, whose stacks may differ from the snapshots: the session synth's output."""
    stacks = {name: (synth_outdir / "stacks" / name / "cdk.tf.json").read_bytes() for name in synthesized}
    return scan_with_negative_cases(workdir / "cdktf.out", stacks)


# --- HCL output (tests/test_hcl.py) ------------------------------------------------------------

# @cdktf/hcl2json (node_modules, the cdktf CLI's own HCL parser): each file's HCL as JSON, or its error.
HCL2JSON = """
const { parse } = require(process.argv[1] + "/node_modules/@cdktf/hcl2json");
const fs = require("fs");
(async () => {
  const parsed = {};
  for (const file of process.argv.slice(2)) {
    try {
      parsed[file] = await parse(file, fs.readFileSync(file, "utf8"));
    } catch (error) {
      parsed[file] = { "//": { error: String(error).slice(0, 2000) } };
    }
  }
  process.stdout.write(JSON.stringify(parsed));
})().catch((error) => { console.error(error); process.exit(1); });
"""

HCL_PROBE = f"""
import os, subprocess, sys
from pathlib import Path
outdir = Path(sys.argv[1])
node_bin = {str(ROOT / "node_modules" / ".bin")!r}
env = {{**os.environ, "PATH": node_bin + os.pathsep + os.environ["PATH"], "CHECKPOINT_DISABLE": "1", "CDKTF_DISABLE_TELEMETRY": "true"}}
subprocess.run(["cdktf", "synth", "--hcl", "--output", str(outdir)], cwd={str(ROOT)!r}, env=env, check=True)
files = sorted(str(path) for path in outdir.glob("stacks/*/cdk.tf"))
parsed = subprocess.run(["node", "-e", {HCL2JSON!r}, {str(ROOT)!r}, *files], env=env, check=True, capture_output=True, text=True)
(outdir / "hcl2json.json").write_text(parsed.stdout)
"""


@before_collection
def synth_hcl(workdir: Path) -> list[str]:
    """``make synth-hcl`` (``cdktf synth --hcl``, STACKS/ENVS as in the session) into ``workdir``, then
    every ``cdk.tf`` parsed by @cdktf/hcl2json into ``hcl2json.json`` beside the stacks."""
    return [sys.executable, "-c", HCL_PROBE, str(workdir / "cdktf.out")]


# --- a synth in a fresh process (tests/test_selection.py, tests/test_lazy_providers.py) -------

NETWORK_ONLY_PROBE = f"""
import json, os, sys
from iworkz.cli import main
status = main(["--stacks", "network", "--envs", "production", "--outdir", sys.argv[1]])
sys.path.insert(0, {str(SCRIPTS)!r})
from bench import _rss, tree_pids
print(json.dumps({{
    "status": status,
    "providers": sorted({{m.split(".")[0] for m in sys.modules if m.startswith("cdktf_cdktf_provider_")}}),
    "aws_submodules": sorted(m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.") and m.count(".") == 1),
    "stack_modules": sorted(m for m in sys.modules if m.startswith("stacks.")),
    "node_rss": [_rss(pid) for pid in tree_pids(os.getpid()) if open(f"/proc/{{pid}}/comm").read().strip() == "node"],
}}))
"""


@before_collection
def network_only_synth(workdir: Path) -> list[str]:
    """``python main.py --stacks network --envs production`` in a fresh process, which then reports
    what it loaded, in Python and in jsii's node (``--stacks``/``--envs`` win over STACKS/ENVS)."""
    return [sys.executable, "-c", NETWORK_ONLY_PROBE, str(workdir / "cdktf.out")]


def network_only_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """What the probe printed, and where it wrote the synth (``outdir``)."""
    assert result.returncode == 0, result.stderr
    printed = dict(json.loads(result.stdout.strip().splitlines()[-1]))
    assert printed["status"] == 0, result.stdout + result.stderr
    return {**printed, "outdir": Path(result.args[-1])}


# --- the command line on bad input (tests/test_config.py) -------------------------------------


@before_collection
def synth_with_bad_config_over_previous_output(workdir: Path) -> list[str]:
    from tests.configs import write_config

    outdir = workdir / "cdktf.out"
    outdir.mkdir()
    (outdir / "keep.txt").write_text("previous output")
    config = write_config(workdir, "production", {"network": {"vpc_cidr": "not-a-cidr"}})
    return [sys.executable, str(ROOT / "main.py"), "--config-dir", str(config), "--outdir", str(outdir)]


# --- Ctrl-C in the middle of a synth (tests/test_output_integrity.py) --------------------------

INTERRUPT_PROBE = """
import json, os, signal, subprocess, sys, time
from pathlib import Path
root, outdir = Path(sys.argv[1]), Path(sys.argv[2])
(outdir / "stacks" / "network-dev").mkdir(parents=True)
(outdir / "stacks" / "network-dev" / "cdk.tf.json").write_text("previous")
before = sorted(str(p) for p in outdir.rglob("*"))
synth = subprocess.Popen(
    [sys.executable, str(root / "main.py"), "--stacks", "network", "--envs", sys.argv[3], "--outdir", str(outdir)],
    cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "IWORKZ_SYNTH_JOBS": "2"},
)
staging = outdir.parent / f".{outdir.name}.staging-{synth.pid}"
deadline = time.monotonic() + 120
while not staging.exists() and synth.poll() is None and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.5)  # in the middle of building the stacks (jsii is running)
sys.path.insert(0, str(root / "scripts"))
from bench import tree_pids
started = tree_pids(synth.pid)[1:]  # its synth processes (parallel) and jsii's node
synth.send_signal(signal.SIGINT)
out, err = synth.communicate(timeout=120)
time.sleep(1)  # what the synth stopped has exited (node follows its python at once)
def running(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
print(json.dumps({
    "started": len(started),
    "survivors": [pid for pid in started if running(pid)],
    "status": synth.returncode,
    "stderr": err,
    "unchanged": sorted(str(p) for p in outdir.rglob("*")) == before
    and (outdir / "stacks" / "network-dev" / "cdk.tf.json").read_text() == "previous",
    "leftovers": sorted(p.name for p in outdir.parent.iterdir() if p.name.startswith(".cdktf.out.staging")),
    "outdir": str(outdir),
}))
"""


@before_collection
def interrupted_synth(workdir: Path) -> list[str]:
    """A synth interrupted with SIGINT (Ctrl-C) while it builds: exit 130, one line, the old tree kept."""
    return [sys.executable, "-c", INTERRUPT_PROBE, str(ROOT), str(workdir / "cdktf.out"), "dev"]


@before_collection
def interrupted_parallel_synth(workdir: Path) -> list[str]:
    """The same with two environments in two processes, SIGINT to the parent only (as from ``kill -INT``)."""
    return [sys.executable, "-c", INTERRUPT_PROBE, str(ROOT), str(workdir / "cdktf.out"), "dev,staging"]


# --- a parallel synth (tests/test_parallel_synth.py) -------------------------------------------

PARALLEL_SELECTION = ("state,alerts,network", "dev,staging")


@before_collection
def parallel_synth(workdir: Path) -> list[str]:
    """``main.py`` over two environments with two processes (the account-level state stack in one)."""
    stacks, envs = PARALLEL_SELECTION
    command = [sys.executable, str(ROOT / "main.py"), "--stacks", stacks, "--envs", envs]
    return ["env", "IWORKZ_SYNTH_JOBS=2", *command, "--outdir", str(workdir / "cdktf.out")]


# --- the database roles' SQL against a real PostgreSQL (tests/runtime/test_postgres_roles.py) -

POSTGRES_ROLES_PROBE = """
import json, os, pwd, shutil, subprocess, sys, tempfile, time
script = sys.argv[1]
initdb = shutil.which("initdb") or next(iter(sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin/initdb"))), None)
if initdb is None:
    print(json.dumps({"skipped": "no PostgreSQL server (initdb) on this machine"})); sys.exit(0)
bin_dir = os.path.dirname(os.path.realpath(initdb))
# The server refuses to run as root: as root, run it as the postgres user (Debian's package).
as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
if as_user and not any(p.pw_name == "postgres" for p in pwd.getpwall()):
    print(json.dumps({"skipped": "running as root without a postgres user"})); sys.exit(0)
root = tempfile.mkdtemp(prefix="pg-")
os.chmod(root, 0o777)
# The server's user may not traverse the checkout (a fresh clone in a private temporary folder).
script = shutil.copy(script, os.path.join(root, "roles.sql"))
os.chmod(script, 0o644)
# A free port: other checkouts on this machine may run the same test at the same time.
with __import__("socket").socket() as probe:
    probe.bind(("127.0.0.1", 0)); port = str(probe.getsockname()[1])
data = os.path.join(root, "data")
def run(*argv, env=None, check=True):
    return subprocess.run([*as_user, *argv], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=check, cwd=root)
run(f"{bin_dir}/initdb", "-D", data, "-U", "master", "--auth=trust")
run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-o", f"-k {root} -p {port} -c listen_addresses=''", "-l", f"{root}/log", "start")
try:
    psql = [f"{bin_dir}/psql", "-X", "-h", root, "-p", port, "-U", "master"]
    run(*psql, "-d", "postgres", "-c", "CREATE DATABASE iworkz")
    run(*psql, "-d", "iworkz", "-c", "CREATE TABLE public.jobs (id serial PRIMARY KEY, title text); CREATE VIEW public.open_jobs AS SELECT * FROM public.jobs")
    env = {"APP_USER": "iworkz_app", "APP_PASSWORD": "p'a$$ word", "MONITORING_USER": "iworkz_monitoring",
           "MONITORING_PASSWORD": "m", "PGDATABASE": "iworkz"}
    runs = [run(*psql, "--quiet", "--file", script, env=env, check=False) for _ in range(2)]
    query = (
        "SELECT json_build_object("
        "'owners', (SELECT json_object_agg(relname, pg_get_userbyid(relowner)) FROM pg_class WHERE relnamespace = 'public'::regnamespace),"
        "'login', (SELECT json_object_agg(rolname, rolcanlogin) FROM pg_roles WHERE rolname LIKE 'iworkz%'),"
        "'superuser', (SELECT bool_or(rolsuper) FROM pg_roles WHERE rolname LIKE 'iworkz%'),"
        "'monitor', pg_has_role('iworkz_monitoring', 'pg_monitor', 'member'),"
        "'app_creates', has_schema_privilege('iworkz_app', 'public', 'CREATE'),"
        "'monitor_creates', has_schema_privilege('iworkz_monitoring', 'public', 'CREATE'),"
        "'password_set', (SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'iworkz_app'))"
    )
    state = json.loads(run(*psql, "-d", "iworkz", "-Atc", query).stdout)
    print(json.dumps({"runs": [[r.returncode, r.stderr] for r in runs], "state": state}))
finally:
    run(f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop", check=False)
    shutil.rmtree(root, ignore_errors=True)
"""


@before_collection
def postgres_roles_against_a_server(workdir: Path) -> list[str]:
    """runtime/postgres_roles.sql applied twice by psql to a throwaway PostgreSQL server."""
    return [sys.executable, "-c", POSTGRES_ROLES_PROBE, str(ROOT / "runtime" / "postgres_roles.sql")]


# --- the type checker on a planted mistake (tests/test_typecheck.py) --------------------------


@before_collection
def planted_wrong_prop(workdir: Path) -> list[str]:
    """mypy, with the project's settings, over stacks/network.py with ``cidr_block=12345`` planted."""
    source = (ROOT / "stacks" / "network.py").read_text(encoding="utf-8")
    planted = source.replace("cidr_block=network.vpc_cidr,", "cidr_block=12345,")
    assert planted != source, "stacks/network.py no longer passes cidr_block=network.vpc_cidr"
    (workdir / "network_planted.py").write_text(planted, encoding="utf-8")
    return [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(workdir / "mypy-cache"),
        str(workdir / "network_planted.py"),
    ]


# --- watch mode's module reload (tests/test_watch.py) -----------------------------------------

RELOAD_PROBE = f"""
import sys
sys.path.insert(0, {str(SCRIPTS)!r})
import yaml, pydantic
import iworkz.config, iworkz.registry
import watch
before = iworkz.config
purged = watch.purge_project_modules()
assert "iworkz.config" in purged and "iworkz.registry" in purged, purged
assert not [name for name in purged if not name.startswith(("iworkz", "stacks"))], purged
import iworkz.config as again
assert again is not before, "iworkz.config was not reloaded"
assert sys.modules["yaml"] is yaml and sys.modules["pydantic"] is pydantic
assert "watch" in sys.modules and "snapshots" in sys.modules
print("ok")
"""


@before_collection
def watch_reload_probe(workdir: Path) -> list[str]:
    return [sys.executable, "-c", RELOAD_PROBE]


# --- the secret scan of the repository (tests/test_no_secrets.py) -----------------------------


@before_collection
def repository_secret_scan(workdir: Path) -> list[str]:
    return [sys.executable, "-m", "iworkz.policy.secret_scan"]


# --- the benchmark's memory measurement (tests/test_bench.py) ---------------------------------

# A parent holding ~60 MB that starts a child holding ~100 MB, both alive at the same time
# (~10 samples): like python holding the provider bindings while node holds the jsii assemblies.
TREE = """
import subprocess, sys, time
parent = bytearray(60 * 1000 * 1000)
child = "x = bytearray(100 * 1000 * 1000); import time; time.sleep(0.5)"
subprocess.run([sys.executable, "-c", child], check=True)
"""


@before_collection
def measure_a_process_tree(workdir: Path) -> list[str]:
    """Runs bench.measure on TREE from a small process, as `make bench` does.

    (Linux keeps the RSS high-water mark across fork and exec, so wait4's ru_maxrss of a
    child spawned by the pytest process, which holds the providers, would include them.)
    """
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(SCRIPTS)!r})\n"
        "from dataclasses import asdict\n"
        "from bench import Run, measure\n"
        f"run = measure(Run('tree', 'test', {[sys.executable, '-c', TREE]!r}, env={{}}), interval=0.05)\n"
        "print(json.dumps(asdict(run)))\n"
    )
    return [sys.executable, "-c", probe]


# --- the repository's configuration and lock checks (tests/test_repository_habits.py, test_lock.py) ---

# Runs each named command (JSON: name -> argv) one after the other, without the outer make's
# variables, and prints name -> {returncode, stdout, stderr} as JSON.
COMMANDS_RUNNER = """
import json, os, subprocess, sys
env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
results = {}
for name, argv in json.loads(sys.argv[1]).items():
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    results[name] = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
print(json.dumps(results))
"""
VENV_BIN = ROOT / ".venv" / "bin"
UV = ROOT / ".venv-tools" / "bin" / "uv"
BROKEN_RENOVATE = {"extends": ["config:recommended"], "packageRules": {"matchDatasources": "helm"}}
BROKEN_PRE_COMMIT = "repos:\n  - repo: local\n    hooks:\n      - id: no-entry\n        language: system\n"
UNFIXABLE_SOURCE = "import os\nprint(  undefined_name )\n"  # F401 fixable, F821 not, and unformatted
CHANGED_PIN = "pydantic==2.0.0"


def with_changed_pin(pyproject: str) -> str:
    """pyproject.toml with one pin changed and uv.lock not re-resolved (what the lock check must catch)."""
    changed = re.sub(r'"pydantic==[^"]+"', f'"{CHANGED_PIN}"', pyproject, count=1)
    assert changed != pyproject, "pyproject.toml pins no pydantic"
    return changed


@before_collection
def repository_checks(workdir: Path) -> list[str]:
    """check-jsonschema (vendored Renovate and GitLab CI schemas), pre-commit validate-config,
    ``uv lock --check --offline`` and ``make fmt``, each on the real file and on a broken copy."""
    broken_renovate = workdir / "broken-renovate.json"
    broken_renovate.write_text(json.dumps(BROKEN_RENOVATE))
    broken_pre_commit = workdir / "pre-commit" / ".pre-commit-config.yaml"
    broken_pre_commit.parent.mkdir()
    broken_pre_commit.write_text(BROKEN_PRE_COMMIT)
    lock_copy = workdir / "lock-copy"
    lock_copy.mkdir()
    (lock_copy / "uv.lock").write_bytes((ROOT / "uv.lock").read_bytes())
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (lock_copy / "pyproject.toml").write_text(with_changed_pin(pyproject), encoding="utf-8")
    unfixable = workdir / "unfixable.py"
    unfixable.write_text(UNFIXABLE_SOURCE)
    schema = [str(VENV_BIN / "check-jsonschema"), "--output-format", "json", "--builtin-schema"]
    lock_check = [str(UV), "lock", "--check", "--offline", "--quiet", "--project"]
    commands = {
        "renovate": [*schema, "vendor.renovate", str(ROOT / "renovate.json"), str(broken_renovate)],
        "gitlab-ci": [*schema, "vendor.gitlab-ci", str(ROOT / ".gitlab-ci.yml")],
        "pre-commit": [str(VENV_BIN / "pre-commit"), "validate-config", str(ROOT / ".pre-commit-config.yaml")],
        "pre-commit-broken": [str(VENV_BIN / "pre-commit"), "validate-config", str(broken_pre_commit)],
        "uv-lock": [*lock_check, str(ROOT)],
        "uv-lock-changed-pin": [*lock_check, str(lock_copy)],
        "make-fmt": ["make", "-s", "-C", str(ROOT), "fmt", f"FMT_PATHS={unfixable}"],
    }
    return [sys.executable, "-c", COMMANDS_RUNNER, json.dumps(commands)]


def repository_check_results(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    results: dict[str, dict[str, Any]] = json.loads(result.stdout)
    return results


# --- adding an environment in a copy of the repository (tests/test_new_environment.py) --------

NEW_ENVIRONMENT = "qa"
ADD_ENVIRONMENT_IN_A_COPY = f"""
import os, shutil, subprocess, sys
from pathlib import Path
root, copy = Path(sys.argv[1]), Path(sys.argv[2])
listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                        capture_output=True, text=True, check=True).stdout.split("\\0")
for name in filter(None, listed):
    if (root / name).is_file():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, copy / name)
(copy / "node_modules").symlink_to(root / "node_modules")
def run(*argv, **env):
    print("$", *argv, flush=True)
    # PYTHONPATH: the copy's packages, not the ones the virtualenv installed from the original
    environment = {{**os.environ, "PYTHONPATH": str(copy), **env}}
    status = subprocess.run([sys.executable, *argv], cwd=copy, env=environment).returncode
    print("exit", status, flush=True)
    return status
statuses = [
    run("scripts/new_environment.py", "{NEW_ENVIRONMENT}"),
    run("scripts/gitlab_ci.py", "--check"),
    # config load and synth of the new environment's stacks (the session synth of ENVS=qa), and the
    # contracts over it; not_shadowed: the virtualenv maps iworkz_constructs to the original's constructs/, not the copy's
    run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_config.py", "tests/test_config_edge.py",
        "tests/test_foundation.py", "tests/test_pipeline.py", "-k", "not package_is_not_shadowed",
        ENVS="{NEW_ENVIRONMENT}"),
]
print("statuses", statuses)
sys.exit(max(statuses))
"""


def add_environment_in_a_copy(workdir: Path) -> list[str]:
    copy = workdir / "repo"
    copy.mkdir()
    return [sys.executable, "-c", ADD_ENVIRONMENT_IN_A_COPY, str(ROOT), str(copy)]
