#!/usr/bin/env bash
# Every score method through `run` (background model and ensemble member trained, metrics with
# intervals, curves) and through `score --method`, on generated data; a second run reuses it all.
FLOWOOD=$1; WORK=$2/score_methods
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
methods="loglik bpd input-complexity likelihood-ratio typicality waic bn-train"
sets=(--set "scores=[${methods// /, }]" --set score.ensemble=2 --set score.typicality_batch=4
      --set score.bootstrap=200 --set background.max_steps=2)

"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/run" "${sets[@]}" > "$WORK/out.txt" 2> "$WORK/err.txt" \
  || { cat "$WORK/err.txt"; fail "run exited non-zero"; }
cat "$WORK/out.txt"
[ -s "$WORK/run/background/checkpoint.pt" ] || fail "no background model"
grep -q 'mutation_rate: 0.2' "$WORK/run/background/config.yaml" || fail "background not trained on mutated inputs"
grep -q 'max_steps: 2' "$WORK/run/background/config.yaml" || fail "background.max_steps not applied"
[ -s "$WORK/run/ensemble/seed-2/checkpoint.pt" ] || fail "no ensemble member seed-2"
for m in $methods; do
  grep -q "\"method\": \"$m\"" "$WORK/run/metrics.json" || fail "metrics.json lacks method $m"
  grep -q "  $m" "$WORK/out.txt" || fail "the printed table lacks $m"
done
grep -q '"ci"' "$WORK/run/metrics.json" || fail "metrics.json has no confidence intervals"
grep -q '95% CI' "$WORK/out.txt" || fail "no interval column printed"
grep -q 'typicality vs .*group accuracy' "$WORK/out.txt" || fail "no typicality decisions printed"
ood=$(ls "$WORK/run/curves/" | grep '^roc\..*\.png$' | head -1)
[ -n "$ood" ] || fail "no ROC figure"
[ "$(head -c 8 "$WORK/run/curves/$ood" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$ood is not a PNG"
ls "$WORK/run/curves/" | grep -q '^pr\..*\.png$' || fail "no precision-recall figure"
ls "$WORK/run/curves/" | grep -q '^input-complexity\..*\.roc\.csv$' || fail "no ROC points CSV"
ls "$WORK/run/scores/" | grep -q '\.typicality\.csv$' || fail "no typicality score file"
head -n 30 "$WORK/run/scores/"*ood*.input-complexity.csv | grep -q '^index,label,input-complexity,loglik,complexity_bits' \
  || fail "input-complexity file header"

# Second run: nothing is trained or scored again.
"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/run" "${sets[@]}" > "$WORK/out2.txt" 2> "$WORK/err2.txt" \
  || { cat "$WORK/err2.txt"; fail "second run failed"; }
grep -v 'layout for scoring' "$WORK/err2.txt" | grep -q 'scoring' && { cat "$WORK/err2.txt"; fail "second run scored again"; }
diff <(grep -v '^run directory\|^  ' "$WORK/out.txt") <(grep -v '^run directory\|^  ' "$WORK/out2.txt") > /dev/null \
  || fail "second run printed other metrics"

# score --method: each method on a file outside the run; auroc reads the method's own column.
ood_idx="idx:$WORK/data/ood-images-idx3-ubyte"
for m in input-complexity likelihood-ratio waic bn-train typicality; do
  "$FLOWOOD" score --run "$WORK/run" --data "$ood_idx" --method "$m" --out "$WORK/ood.$m.csv" > "$WORK/s.txt" 2>&1 \
    || { cat "$WORK/s.txt"; fail "score --method $m failed"; }
  grep -q "^# score=$m" "$WORK/ood.$m.csv" || fail "score --method $m: metadata"
done
[ "$(grep -vc '^#' "$WORK/ood.typicality.csv")" = 9 ] || fail "typicality: 32 images in batches of 4 are 8 rows + header"
test_csv=$(ls "$WORK/run/scores/"*test-images*.input-complexity.csv)
"$FLOWOOD" auroc --in "$test_csv" --ood "$WORK/ood.input-complexity.csv" > "$WORK/a.txt" 2>&1 || { cat "$WORK/a.txt"; fail "auroc"; }
grep -q "column 'input-complexity', lower = more in-distribution" "$WORK/a.txt" || fail "auroc did not use the method's column"
grep -q '95% CI' "$WORK/a.txt" || fail "auroc printed no interval"
"$FLOWOOD" score --run "$WORK/run" --data "$ood_idx" --method llr --out "$WORK/x.csv" > "$WORK/bad.txt" 2>&1 \
  && fail "an unknown method was accepted"
grep -q "unknown score method 'llr' (valid: loglik, bpd, input-complexity" "$WORK/bad.txt" || fail "unclear error: $(cat "$WORK/bad.txt")"
[ ! -e "$WORK/x.csv" ] || fail "a failed score left a file"
# report: Markdown and one self-contained HTML page with every section and method.
"$FLOWOOD" report "$WORK/run" > "$WORK/r.txt" 2>&1 || { cat "$WORK/r.txt"; fail "report failed"; }
html="$WORK/run/report/report.html"; md="$WORK/run/report/report.md"
[ -s "$html" ] && [ -s "$md" ] && [ -s "$WORK/run/report/training.png" ] || fail "report files missing"
for section in "Configuration" "OOD metrics" "Training" "Histograms" "ROC and precision-recall curves"; do
  grep -q "<h2>$section</h2>" "$html" || fail "report.html lacks section $section"
  grep -q "^## $section" "$md" || fail "report.md lacks section $section"
done
for m in $methods; do grep -q "<h3>$m</h3>" "$html" || fail "report lacks method $m"; done
grep -q 'src="data:image/png;base64,iVBORw0KGgo' "$html" || fail "report.html embeds no PNG"
grep -q 'src="http\|href="http' "$html" && fail "report.html refers to external resources"
grep -q '](../histogram.png)' "$md" || fail "report.md does not link the histogram relatively"
# several runs: mean ± sd across them
cp -r "$WORK/run" "$WORK/run_copy"
"$FLOWOOD" report "$WORK/run" "$WORK/run_copy" --out "$WORK/both" > /dev/null 2>&1 || fail "report of two runs failed"
grep -q 'mean ± sd over the runs of an experiment' "$WORK/both/report.md" || fail "no mean ± sd across runs"
grep -q '± 0.0000 (n = 2)' "$WORK/both/report.md" || fail "identical runs should have sd 0"
"$FLOWOOD" report "$WORK/nope" > "$WORK/bad.txt" 2>&1 && fail "report of a missing run succeeded"
grep -q "nope: no such run directory" "$WORK/bad.txt" || fail "unclear error: $(cat "$WORK/bad.txt")"
echo "score methods ok"
