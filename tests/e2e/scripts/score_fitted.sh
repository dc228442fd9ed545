#!/usr/bin/env bash
# The fitted scores (level-ratio, dose, gradient, lid) and the typicality threshold from held-out data,
# through `run` and `score --method`: the per-level columns sum to log p(x), the fits are saved in
# the run directory and reused, a damaged fit is refitted, and flows without levels are refused.
FLOWOOD=$1; WORK=$2/score_fitted
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
methods="loglik level-ratio dose gradient typicality lid"
sets=(--set "scores=[${methods// /, }]" --set score.typicality_batch=4 --set score.bootstrap=100
      --set data.test_limit=16 --set score.fit_limit=32)

"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/run" "${sets[@]}" > "$WORK/out.txt" 2> "$WORK/err.txt" \
  || { cat "$WORK/err.txt"; fail "run exited non-zero"; }
for m in $methods; do grep -q "\"method\": \"$m\"" "$WORK/run/metrics.json" || fail "metrics.json lacks $m"; done
for f in dose gradient lid; do [ -s "$WORK/run/fits/$f.json" ] || fail "the $f fit was not saved"; done
grep -q 'dose fitted on 32 examples' "$WORK/err.txt" || fail "dose fit not logged: $(cat "$WORK/err.txt")"

# The log-likelihood file's per-level terms sum to log p(x) (relative 1e-5).
test_csv=$(ls "$WORK/run/scores/"*test-images*idx3-ubyte.csv)
grep -q '^# level_dims=32;32$' "$test_csv" || fail "level_dims metadata: $(grep '^#' "$test_csv")"
grep -v '^#' "$test_csv" | head -1 | grep -q '^index,label,loglik,bpd,loglik_outside,loglik_level0,sqnorm_level0,loglik_level1,sqnorm_level1$' \
  || fail "loglik columns: $(grep -v '^#' "$test_csv" | head -1)"
grep -v '^#' "$test_csv" | tail -n +2 | awk -F, '{ s = $5 + $6 + $8; d = s - $3; if (d < 0) d = -d; if (d > 1e-5 * ($3 < 0 ? -$3 : $3)) { print "row " NR ": " s " vs " $3; bad = 1 } } END { exit bad }' \
  || fail "per-level terms do not sum to loglik"
[ "$(grep -vc '^#' "$test_csv")" = 17 ] || fail "test_limit 16: 16 rows + header"

# Typicality: entropy from data.train, threshold from the test examples the run never scores.
typ=$(ls "$WORK/run/scores/"*test-images*.typicality.csv)
grep -q "^# heldout=idx:$WORK/data/test-images-idx3-ubyte?skip=16$" "$typ" || fail "typicality heldout: $(grep '^#' "$typ")"
grep -q "^# reference=idx:$WORK/data/train-images-idx3-ubyte$" "$typ" || fail "typicality reference"

# score --method reuses the fits; the scores equal the run's.
ood_idx="idx:$WORK/data/ood-images-idx3-ubyte"
for m in dose gradient level-ratio lid; do
  "$FLOWOOD" score --run "$WORK/run" --data "$ood_idx" --method "$m" --limit 16 --out "$WORK/ood.$m.csv" > "$WORK/s.txt" 2>&1 \
    || { cat "$WORK/s.txt"; fail "score --method $m failed"; }
  run_file=$(ls "$WORK/run/scores/"*ood-images*."$m".csv)
  diff <(grep -v '^#' "$run_file" | cut -d, -f3) <(grep -v '^#' "$WORK/ood.$m.csv" | cut -d, -f3) > /dev/null \
    || fail "score --method $m differs from the run's scores"
  case $m in gradient | lid) grep -q "$m fit read from" "$WORK/s.txt" || fail "the $m fit was not reused" ;; esac
done
"$FLOWOOD" score --run "$WORK/run" --data "$ood_idx" --method dose --limit 8 --out "$WORK/d8.csv" > "$WORK/s.txt" 2>&1 \
  || { cat "$WORK/s.txt"; fail "dose with the saved fit failed"; }
grep -q 'dose fit read from' "$WORK/s.txt" || fail "the saved dose fit was not reused: $(cat "$WORK/s.txt")"
head -n 30 "$WORK/ood.gradient.csv" | grep -v '^#' | head -1 | grep -q '^index,label,gradient,gradient_sum,loglik,grad_step0,' \
  || fail "gradient columns: $(grep -v '^#' "$WORK/ood.gradient.csv" | head -1)"

# lid: the dual threshold's score is a reference quantile in [0, 1]; the estimate is its own column.
lid_file=$(ls "$WORK/run/scores/"*test-images*.lid.csv)
grep -v '^#' "$lid_file" | head -1 | grep -q '^index,label,lid,loglik,lid_estimate,lid_trace,lid_quadratic$' \
  || fail "lid columns: $(grep -v '^#' "$lid_file" | head -1)"
grep -v '^#' "$lid_file" | tail -n +2 | awk -F, '{ if ($3 < 0 || $3 > 1 || $5 <= 0 || $6 <= 0 || $6 > 64 + 1e-9) bad = 1 } END { exit bad }' \
  || fail "lid scores outside [0, 1], or estimates <= 0, or traces outside (0, D]"
grep -q '^# lid=delta=-3;probes=2;steps=32$' "$lid_file" || fail "lid settings metadata: $(grep '^#' "$lid_file")"

# A damaged fit is refitted, with the same result.
echo '{"meta": 1' > "$WORK/run/fits/dose.json"
"$FLOWOOD" score --run "$WORK/run" --data "$ood_idx" --method dose --limit 8 --out "$WORK/d8b.csv" > "$WORK/s.txt" 2>&1 \
  || { cat "$WORK/s.txt"; fail "dose with a damaged fit failed"; }
grep -q 'unreadable' "$WORK/s.txt" || fail "the damaged fit was not reported: $(cat "$WORK/s.txt")"
diff <(grep -v '^#' "$WORK/d8.csv") <(grep -v '^#' "$WORK/d8b.csv") > /dev/null || fail "the refitted dose differs"
grep -q '"statistics"' "$WORK/run/fits/dose.json" || fail "the damaged fit was not rewritten"

# level-ratio needs levels: a coupling stack has none.
"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/flat" --set model.flow=coupling --set "model.masks=[checkerboard x2]" \
  --set "scores=[level-ratio]" > "$WORK/bad.txt" 2>&1 && fail "level-ratio accepted on a flow without levels"
grep -q 'level-ratio needs a flow with two or more levels' "$WORK/bad.txt" || fail "unclear error: $(cat "$WORK/bad.txt")"
echo "fitted scores ok"
