"""cdktf app entry: builds the selected environments x stacks (see README, STACKS/ENVS)."""

import sys

# Packages that only the project's virtualenv has (make install): run outside it, the synth
# says how to run it instead of ending in a traceback.
INSTALLED_BY_MAKE = ("cdktf", "constructs", "iworkz_constructs", "jsii", "pydantic", "yaml")
EXIT_USER_ERROR = 2  # iworkz.errors.EXIT_USER_ERROR, which may not be importable here


def not_installed(missing: ModuleNotFoundError) -> int:
    print(
        f"error: {sys.executable} cannot import {missing.name!r}: this is not the project's virtualenv.\n"
        "  fix:  run `make synth` (it installs .venv and node_modules first), or `.venv/bin/python main.py`",
        file=sys.stderr,
    )
    return EXIT_USER_ERROR


if __name__ == "__main__":
    try:
        from iworkz.cli import main

        sys.exit(main())
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in INSTALLED_BY_MAKE and not (missing.name or "").startswith(
            "cdktf_cdktf_provider_"
        ):
            raise
        sys.exit(not_installed(missing))
