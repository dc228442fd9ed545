#!/usr/bin/env bash
# run → score → auroc → histogram on generated data through the real binary; a second run skips
# finished stages.
FLOWOOD=$1; WORK=$2/pipeline_run
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture

"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/run" > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "run exited non-zero"; }
for f in config.yaml manifest.json checkpoint.pt metrics.csv metrics.json histogram.png histogram.csv; do
  [ -s "$WORK/run/$f" ] || fail "run directory lacks $f"
done
grep -q '"auroc"' "$WORK/run/metrics.json" || fail "metrics.json has no auroc"
grep -q 'AUROC' "$WORK/out.txt" || fail "run printed no metrics table"
grep -q 'sha256' "$WORK/run/manifest.json" || fail "manifest has no data checksums"
[ "$(head -c 8 "$WORK/run/histogram.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "histogram.png is not a PNG"
# metrics.csv: header plus rows up to step 4
tail -n 1 "$WORK/run/metrics.csv" | grep -q '^4,' || fail "metrics.csv does not end at step 4"

# Second run: every stage is current.
"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/run" > "$WORK/out2.txt" 2> "$WORK/err2.txt" || fail "second run failed"
grep -q 'are current' "$WORK/err2.txt" || fail "second run re-scored instead of skipping"
grep -q 'trained 4 steps (0 this run' "$WORK/err2.txt" || fail "second run trained again"

# score on an IDX file outside the run, then auroc and histogram on the score files.
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/ood-images-idx3-ubyte" --out "$WORK/ood.csv" > "$WORK/score.txt" || fail "score failed"
[ -s "$WORK/ood.npy" ] || fail "score wrote no .npy"
head -n 20 "$WORK/ood.csv" | grep -q '^index,label,loglik,bpd' || fail "score CSV header"
[ "$(grep -c -v '^#' "$WORK/ood.csv")" = 33 ] || fail "score CSV should have 32 rows"
# Scoring is seeded: the same command gives the same file (but for the time it took).
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/ood-images-idx3-ubyte" --out "$WORK/ood2.csv" --no-npy > /dev/null || fail "score failed"
cmp -s <(grep -v "^# seconds=" "$WORK/ood.csv") <(grep -v "^# seconds=" "$WORK/ood2.csv") || fail "scores are not reproducible"
# The run's own OOD scores equal the standalone ones (same seed, same noise per image).
"$FLOWOOD" auroc --in "$WORK/run/scores/"idx_*test-images*.csv --ood "$WORK/ood.csv" --json "$WORK/auroc.json" > "$WORK/auroc.txt" || fail "auroc failed"
grep -q 'AUROC' "$WORK/auroc.txt" || fail "auroc printed no table"
[ -s "$WORK/auroc.json" ] || fail "auroc wrote no json"
"$FLOWOOD" histogram "$WORK/run/scores/"idx_*test-images*.csv "$WORK/ood.csv" --out "$WORK/h.png" > /dev/null || fail "histogram failed"
[ -s "$WORK/h.png" ] || fail "histogram wrote no png"
echo "pipeline ok"
