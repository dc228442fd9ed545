#!/bin/bash
# Usage: embedding_run.sh FLOWOOD MAKE_TORCHSCRIPT WORK
# Flows on embeddings end to end, on real Fashion-MNIST / MNIST (skipped, exit 77, without them):
# a tiny classifier-extractor run through `run` (classifier → embeddings → tabular flow → loglik,
# msp, energy, mahalanobis), the embedding cache, `score` and `embed` on an embedding run with image
# specs, a TorchScript module built in C++ through experiments/embeddings_torchscript.yaml, negative
# training, and the errors a user meets first.
set -euo pipefail
flowood=$1
make_module=$2
work=$3/embedding_run
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! "$flowood" data info fashion-mnist:train > /dev/null 2>&1 || ! "$flowood" data info mnist:test > /dev/null 2>&1; then
  echo "SKIP: Fashion-MNIST (apt-get install dataset-fashion-mnist) or MNIST test (FLOWOOD_DATA) not found"
  exit 77
fi

cat > "$work/emb.yaml" <<YAML
name: emb
seed: 2
device: cpu
model:
  flow: tabular
  in_shape: [32]
  masks: [tabular x4]
  st_net: mlp
  mid_channels: 32
  num_blocks: 1
  standardize: true
data:
  train: fashion-mnist:train
  test: fashion-mnist:test
  ood: [mnist:test, "constant?shape=1x28x28&n=200"]
  train_limit: 1200
  test_limit: 300
embedding:
  extractor: classifier
  width: 8
  epochs: 5                     # 95 steps: enough for batch-norm statistics to settle
  batch_size: 64
  lr: 3.0e-3
train:
  lr: 2.0e-3
  batch_size: 64
  epochs: 3
  eval_limit: 0
  log_every: 20
scores: [loglik, msp, energy, mahalanobis]
score:
  bootstrap: 100
YAML
"$flowood" run "$work/emb.yaml" --run-dir "$work/run" > "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "run failed"; }
cat "$work/run.txt"
acc=$(grep -o '"test_accuracy": *[0-9.]*' "$work/run/extractor/metrics.json" | grep -o '[0-9.]*$')
echo "classifier test accuracy after 95 steps: $acc"
awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }' || fail "classifier accuracy $acc <= 0.5 (10 classes)"
for m in loglik msp energy mahalanobis; do
  grep -q "\"method\": \"$m\"" "$work/run/metrics.json" || fail "metrics.json has no $m rows"
done
ls "$work/run/embeddings/"fashion-mnist_train.limit1200.npz > /dev/null || fail "training-set embeddings not cached"
auroc=$(tr -d '\n ' < "$work/run/metrics.json" | grep -o '"ood":\[{[^]]*' | grep -o '"auroc":[0-9.]*' | head -1 | cut -d: -f2)
echo "embedding flow AUROC fashion-mnist vs mnist (tiny run): $auroc"
awk -v a="$auroc" 'BEGIN { exit !(a > 0.7) }' || fail "embedding-flow AUROC $auroc <= 0.7"

# A second run reuses the trained stages and the cached embeddings.
"$flowood" run "$work/emb.yaml" --run-dir "$work/run" > "$work/run2.txt" 2>&1 || { cat "$work/run2.txt"; fail "second run failed"; }
grep -q "embeddings of mnist:test are current" "$work/run/flowood.log" || fail "embeddings recomputed on the second run"
grep -q "embedding fashion-mnist:train" "$work/run2.txt" && fail "training set embedded again on the second run"

# score and embed take image specs on an embedding run.
"$flowood" score --run "$work/run" --data "mnist:test" --limit 50 --out "$work/s.csv" > "$work/score.txt" 2>&1 \
  || { cat "$work/score.txt"; fail "score on an embedding run failed"; }
[ "$(grep -vc '^#' "$work/s.csv")" -eq 51 ] || fail "score: expected 50 rows"
"$flowood" score --run "$work/run" --data "mnist:test" --limit 50 --method energy --out "$work/e.csv" > /dev/null 2>&1 \
  || fail "score --method energy failed"
"$flowood" embed --run "$work/run" --data mnist:test --limit 30 --out "$work/m.npz" > "$work/embed.txt" 2>&1 \
  || { cat "$work/embed.txt"; fail "embed failed"; }
grep -q "30 × 32 embeddings, labels, logits" "$work/embed.txt" || fail "embed output: $(cat "$work/embed.txt")"
"$flowood" data info "npz:$work/m.npz#embeddings" > "$work/npz.txt" 2>&1 || { cat "$work/npz.txt"; fail "npz:FILE#embeddings unreadable"; }
grep -q "30" "$work/npz.txt" || fail "npz read back: $(cat "$work/npz.txt")"

# TorchScript: a module built in C++, through the shipped experiment (small limits).
"$make_module" "$work/net.pt" 1 > /dev/null
"$flowood" run experiments/embeddings_torchscript.yaml --run-dir "$work/ts" \
  --set "embedding.extractor=torchscript:$work/net.pt" --set data.train_limit=1000 --set data.test_limit=200 \
  --set train.epochs=2 --set score.bootstrap=0 > "$work/ts.txt" 2>&1 || { cat "$work/ts.txt"; fail "torchscript run failed"; }
grep -q '"method": "mahalanobis"' "$work/ts/metrics.json" || fail "torchscript run: no mahalanobis rows"
"$flowood" embed --extractor "torchscript:$work/net.pt" --data fashion-mnist:test --limit 20 --out "$work/t.npz" > "$work/t.txt" 2>&1 \
  || { cat "$work/t.txt"; fail "embed --extractor failed"; }
grep -q "20 × 32 embeddings, labels" "$work/t.txt" || fail "embed --extractor output: $(cat "$work/t.txt")"

# Negative training through `run`: the OOD term is logged and the pair separates.
cat > "$work/neg.yaml" <<YAML
name: neg
seed: 1
device: cpu
model: {flow: realnvp, in_shape: [1, 28, 28], num_scales: 2, num_blocks: 1, mid_channels: 8}
data:
  train: fashion-mnist:train
  test: fashion-mnist:test
  ood: ["mnist:test?part=test&holdout=0.5"]
  train_limit: 2000
  test_limit: 300
train:
  lr: 1.0e-3
  batch_size: 32
  max_steps: 30
  log_every: 10
  eval_limit: 100
  negative: {data: "mnist:test?part=train&holdout=0.5", weight: 1.0, threshold: -30000}
scores: [loglik]
score: {bootstrap: 0}
YAML
"$flowood" run "$work/neg.yaml" --run-dir "$work/neg" > "$work/neg.txt" 2>&1 || { cat "$work/neg.txt"; fail "negative run failed"; }
grep -q "negative training on mnist:test?part=train&holdout=0.5 (5000 examples" "$work/neg/flowood.log" || fail "negative set not logged"
grep -q "OOD examples still above the threshold" "$work/neg/flowood.log" || fail "negative term not logged"

# report puts the pixel flow (neg) and the embedding flow (emb) side by side, a row per experiment.
"$flowood" report "$work/run" "$work/neg" --out "$work/report" > /dev/null 2>&1 || fail "report of two runs failed"
grep -q "| emb: loglik |" "$work/report/report.md" || fail "report: no embedding-flow row"
grep -q "| emb: mahalanobis |" "$work/report/report.md" || fail "report: no mahalanobis row"
grep -q "| neg: loglik |" "$work/report/report.md" || fail "report: no pixel-flow row"

# Errors name the key or file.
expect_error() {  # expect_error PATTERN CMD...
  local pattern=$1; shift
  if "$@" > "$work/err.txt" 2>&1; then fail "expected failure: $*"; fi
  grep -q -- "$pattern" "$work/err.txt" || fail "expected '$pattern' in: $(cat "$work/err.txt")"
}
expect_error "no TorchScript module" "$flowood" embed --extractor "torchscript:$work/none.pt" --data mnist:test --out "$work/x.npz"
expect_error "$work/none.pt" "$flowood" embed --extractor "torchscript:$work/none.pt" --data mnist:test --out "$work/x.npz"
expect_error "model.in_shape must be \[32\]" "$flowood" run "$work/emb.yaml" --set "model.in_shape=[16]" --run-dir "$work/bad"
expect_error "scores\[1\] msp needs classifier logits" "$flowood" run experiments/embeddings_torchscript.yaml --set "scores=[loglik, msp]"
expect_error "model.flow must be tabular" "$flowood" run "$work/emb.yaml" --set model.flow=realnvp --run-dir "$work/bad"
expect_error "not an embedding run" "$flowood" embed --run "$work/neg" --data mnist:test --out "$work/x.npz"
[ ! -e "$work/x.npz" ] || fail "a failed embed left $work/x.npz"
echo "embedding run ok"
