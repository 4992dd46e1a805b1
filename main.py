"""cdktf app entry: builds the selected environments x stacks (see README, STACKS/ENVS)."""

import sys

from iworkz.cli import main

if __name__ == "__main__":
    sys.exit(main())
