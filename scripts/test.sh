#!/usr/bin/env bash
# The README's test command: install dependencies, configure, build, run every test. It shares the
# `ci` build tree with scripts/quickstart.sh: whichever runs second compiles only what is left.
# Usage: scripts/test.sh [extra ctest args], e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset ci
cmake --build --preset ci -j "$(nproc)"
# Real data for the tests: Debian's Fashion-MNIST and the offline MNIST test split when present.
if [ -d ../shared/data ]; then export FLOWOOD_DATA="${FLOWOOD_DATA:+$FLOWOOD_DATA:}$(cd ../shared/data && pwd)"; fi
ctest --preset ci -j "$(nproc)" "$@"
