# Shared by the pipeline e2e scripts: tiny generated IDX datasets and a tiny experiment.
# Usage: source it with FLOWOOD (binary) and WORK (scratch dir) set.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }

# write_idx PATH COUNT KIND: an idx3 file of COUNT 8×8 images; KIND random|dark.
write_idx() {
  local path=$1 n=$2 kind=$3
  printf '\x00\x00\x08\x03' > "$path"
  printf "\\x$(printf %02x $(( (n >> 24) & 255 )))\\x$(printf %02x $(( (n >> 16) & 255 )))\\x$(printf %02x $(( (n >> 8) & 255 )))\\x$(printf %02x $(( n & 255 )))" >> "$path"
  printf '\x00\x00\x00\x08\x00\x00\x00\x08' >> "$path"
  if [ "$kind" = random ]; then
    head -c $(( n * 64 )) /dev/urandom >> "$path"
  else
    # dark images: bytes 0..15 (the random set spans 0..255)
    head -c $(( n * 64 )) /dev/urandom | tr '\020-\377' '\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017\000-\017' >> "$path"
  fi
}

make_fixture() {
  mkdir -p "$WORK/data"
  write_idx "$WORK/data/train-images-idx3-ubyte" 64 random
  write_idx "$WORK/data/test-images-idx3-ubyte" 32 random
  write_idx "$WORK/data/ood-images-idx3-ubyte" 32 dark
  cat > "$WORK/tiny.yaml" <<YAML
name: tiny
seed: 1
device: cpu
threads: 1   # pinned: the scripts compare runs bit for bit, and threads: 0 follows the machine's load
layout: channels-last   # pinned for the same reason (auto measures); and every verb runs channels-last
model:
  in_shape: [1, 8, 8]
  num_scales: 2
  num_blocks: 1
  mid_channels: 4
data:
  train: idx:$WORK/data/train-images-idx3-ubyte
  test: idx:$WORK/data/test-images-idx3-ubyte
  ood: [idx:$WORK/data/ood-images-idx3-ubyte]
train:
  lr: 1.0e-3
  batch_size: 8
  epochs: 1
  max_steps: 4
  checkpoint_every: 2
score:
  batch_size: 16
histogram:
  bins: 10
YAML
}
