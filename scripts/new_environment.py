"""Adds an environment: ``config/<name>.yaml`` from a template environment, then regenerates
everything derived from the list of environments.

    python scripts/new_environment.py qa                 # copy of staging with a free VPC CIDR
    python scripts/new_environment.py qa --from dev
    make env NAME=qa

Steps: the copy gets the first free /16 of 10.0.0.0/8 as ``network.vpc_cidr`` (comments that
name the template's range follow); values that name an environment are written with
``{environment}`` / ``{prefix}`` in the shipped files, so they name the new one. Then the
configuration is validated, and the snapshots of the new stacks (scripts/snapshots.py),
tests/stateful_addresses.json (scripts/stateful_addresses.py --update) and .gitlab-ci.yml
(scripts/gitlab_ci.py) are regenerated. Review the diff (sizes, domain, image tags) and commit.

Exit status: 0 done, 2 on bad input (name taken or invalid, configuration errors).
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iworkz.config import DEFAULT_CONFIG_DIR, ConfigError, free_vpc_cidr, load_settings  # noqa: E402
from iworkz.errors import EXIT_USER_ERROR  # noqa: E402

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
REGENERATE = (
    ["scripts/snapshots.py", "--envs", "{name}"],
    ["scripts/stateful_addresses.py", "--update"],
    ["scripts/gitlab_ci.py"],
)


def environment_text(name: str, source: str, template: str, template_cidr: str, new_cidr: str) -> str:
    """The template's text with its VPC range (value and the comments that spell its octets) moved."""
    old, new = ipaddress.ip_network(template_cidr), ipaddress.ip_network(new_cidr)
    old_octets = ".".join(str(old.network_address).split(".")[:2]) + "."
    new_octets = ".".join(str(new.network_address).split(".")[:2]) + "."
    text = template.replace(f"vpc_cidr: {template_cidr}", f"vpc_cidr: {new_cidr}")
    lines = [
        line.replace(old_octets, new_octets) if line.lstrip().startswith("#") else line for line in text.split("\n")
    ]
    heading = f"# {name.capitalize()}: added from {source} by scripts/new_environment.py; review its sizes and domain."
    return "\n".join([heading, *lines[1:]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="the new environment (the file name config/<name>.yaml)")
    parser.add_argument(
        "--from", dest="template", default="staging", help="template environment (default: %(default)s)"
    )
    parser.add_argument("--no-regenerate", action="store_true", help="only write and validate the file")
    args = parser.parse_args(argv)
    target = DEFAULT_CONFIG_DIR / f"{args.name}.yaml"
    if not NAME.match(args.name) or len(args.name) > 16:
        print(f"error: {args.name!r}: 2-16 lower-case letters, digits and single hyphens", file=sys.stderr)
        return EXIT_USER_ERROR
    if target.exists():
        print(f"error: {target.relative_to(ROOT)} exists", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"error: {error.render()}", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.template not in settings.environments:
        print(f"error: no environment {args.template!r} to copy ({', '.join(settings.environments)})", file=sys.stderr)
        return EXIT_USER_ERROR
    template = settings.environments[args.template]
    cidr = free_vpc_cidr(settings.environments)
    text = (DEFAULT_CONFIG_DIR / f"{args.template}.yaml").read_text(encoding="utf-8")
    target.write_text(
        environment_text(args.name, args.template, text, template.network.vpc_cidr, cidr), encoding="utf-8"
    )
    try:
        load_settings()
    except ConfigError as error:
        target.unlink()
        print(f"error: {error.render()}\n{target.relative_to(ROOT)} was not kept", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {target.relative_to(ROOT)} (from {args.template}, network.vpc_cidr {cidr})")
    if args.no_regenerate:
        return 0
    for command in REGENERATE:
        argv_ = [sys.executable, *(part.format(name=args.name) for part in command)]
        print("$", " ".join(argv_[1:]), flush=True)
        status = subprocess.run(argv_, cwd=ROOT, check=False).returncode
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
