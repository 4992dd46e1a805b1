#!/bin/sh
# node for iworkz/jsii_kernel.js (JSII_NODE, iworkz/jsii_node.py): jsii reads the kernel's responses
# on this process's stdout, now fd 4; node's own stdout goes to stderr, never into the responses.
# --preserve-symlinks: as jsii's launcher starts the kernel.
exec node --preserve-symlinks "$@" 4>&1 1>&2
