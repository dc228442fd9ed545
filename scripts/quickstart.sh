#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, and run the quickstart experiment
# (train a small RealNVP on Fashion-MNIST, score Fashion-MNIST and MNIST test images with the OOD
# scores that need no second model, metrics, curves, histogram), then write its report. Extra
# arguments go to `flowood run` (e.g. --set train.max_steps=800). The four-model comparison with
# likelihood-ratio and WAIC: build/bin/flowood run experiments/quickstart_all_scores.yaml.
#
# It builds the flowood binary of the `ci` tree, the tree scripts/test.sh builds too, so running
# both compiles everything once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset ci
cmake --build --preset ci -j "$(nproc)" --target flowood

# MNIST test images: a configured root, ./data/mnist (scripts/fetch_data.sh), or the offline
# mirror beside the checkout.
if [ -d ../shared/data ]; then export FLOWOOD_DATA="${FLOWOOD_DATA:+$FLOWOOD_DATA:}$(cd ../shared/data && pwd)"; fi
if [ ! -d ../shared/data ] && [ -z "${FLOWOOD_DATA:-}" ] && [ ! -e data/mnist/t10k-images-idx3-ubyte.gz ]; then
  scripts/fetch_data.sh mnist || echo "quickstart: MNIST test images not found; see docs/datasets.md" >&2
fi
build/bin/flowood run experiments/quickstart.yaml "$@"
exec build/bin/flowood report runs/quickstart
