#!/usr/bin/env bash
# Training curves: train.keep_checkpoints keeps every checkpoint's model as checkpoints/step-N.pt
# (resuming keeps the earlier ones), and `flowood curve` scores each: one CSV row per checkpoint,
# the last one equal to what `score` gives at the final step; a run that kept none is refused.
FLOWOOD=$1; WORK=$2/curve
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture

"$FLOWOOD" train -c "$WORK/tiny.yaml" --run-dir "$WORK/run" --set train.keep_checkpoints=true > /dev/null 2> "$WORK/err.txt" \
  || { cat "$WORK/err.txt"; fail "train failed"; }
"$FLOWOOD" train -c "$WORK/tiny.yaml" --run-dir "$WORK/run" --set train.keep_checkpoints=true --set train.max_steps=6 \
  > /dev/null 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "resume failed"; }
[ "$(ls "$WORK/run/checkpoints")" = "$(printf 'step-2.pt\nstep-4.pt\nstep-6.pt')" ] \
  || fail "kept checkpoints: $(ls "$WORK/run/checkpoints" | tr '\n' ' ')"

"$FLOWOOD" curve "$WORK/run" --limit 16 > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "curve failed"; }
for f in curve.csv curve_bpd.png curve_auroc.png; do [ -s "$WORK/run/$f" ] || fail "$f not written"; done
grep -v '^#' "$WORK/run/curve.csv" | head -1 | grep -q "^step,test_bpd,auroc\[idx:$WORK/data/ood-images-idx3-ubyte\]$" \
  || fail "header: $(grep -v '^#' "$WORK/run/curve.csv" | head -1)"
[ "$(grep -v '^#' "$WORK/run/curve.csv" | tail -n +2 | cut -d, -f1 | tr '\n' ' ')" = "2 4 6 " ] || fail "steps: $(cat "$WORK/run/curve.csv")"
grep -v '^#' "$WORK/run/curve.csv" | tail -n +2 | awk -F, '{ if (!($2 > 0 && $3 >= 0 && $3 <= 1)) bad = 1 } END { exit bad }' \
  || fail "values out of range: $(cat "$WORK/run/curve.csv")"

# The last row is the final model: its test bits/dim is the mean of what `score` writes.
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --limit 16 --out "$WORK/test.csv" > /dev/null 2>&1 \
  || fail "score failed"
expected=$(grep -v '^#' "$WORK/test.csv" | tail -n +2 | awk -F, '{ s += $4; n++ } END { printf "%.6f", s / n }')
got=$(grep -v '^#' "$WORK/run/curve.csv" | tail -1 | awk -F, '{ printf "%.6f", $2 }')
awk -v a="$expected" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4 * a) }' \
  || fail "curve's final test bpd $got, score's mean $expected"

# A run without kept checkpoints.
"$FLOWOOD" train -c "$WORK/tiny.yaml" --run-dir "$WORK/plain" > /dev/null 2>&1 || fail "train failed"
if "$FLOWOOD" curve "$WORK/plain" 2> "$WORK/err.txt"; then fail "curve without kept checkpoints succeeded"; fi
grep -q "train.keep_checkpoints: true" "$WORK/err.txt" || fail "$(cat "$WORK/err.txt")"
echo "curve ok"
