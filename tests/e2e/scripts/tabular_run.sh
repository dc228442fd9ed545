#!/bin/bash
# Usage: tabular_run.sh FLOWOOD WORK
# A tabular flow through `flowood run` on a CSV table written here (two classes, features on very
# different scales), the App. K protocol: train on class "a" (part train), test on its held-out
# part, OOD = class "b". Checks the standardisation layer, the scores, the AUROC, `score` on another
# selection, and that the image-only verbs refuse a tabular run by name.
set -euo pipefail
flowood=$1
work=$2/tabular_run
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 600 rows per class. a: x1 ~ 500 + 100·N, x2 = 0.02·(x1 − 500) + 0.1·N, x3 ~ N, x4 = x3² + 0.1·N.
# b: the same marginals, but x2 = −0.02·(x1 − 500) + 0.1·N and x4 = −x3² + 1 + 0.1·N.
awk 'function g() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand()) }
BEGIN { srand(7); print "x1,x2,x3,x4,kind";
  for (i = 0; i < 1200; i++) { c = i % 2; x1 = 500 + 100 * g(); x3 = g();
    s = c ? -1 : 1; x2 = s * 0.02 * (x1 - 500) + 0.1 * g(); x4 = s * x3 * x3 + c + 0.1 * g();
    printf "%.4f,%.5f,%.5f,%.5f,%s\n", x1, x2, x3, x4, c ? "b" : "a" } }' > "$work/table.csv"

cat > "$work/tabular.yaml" <<YAML
name: tabular
seed: 3
device: cpu
threads: 1
model:
  flow: tabular
  in_shape: [4]
  masks: [tabular x6]
  st_net: mlp
  mid_channels: 32
  num_blocks: 1
  standardize: true
data:
  train: csv:$work/table.csv?label=kind&classes=a&part=train&holdout=0.2
  test: csv:$work/table.csv?label=kind&classes=a&part=test&holdout=0.2
  ood:
    - csv:$work/table.csv?label=kind&classes=b&part=test&holdout=0.2
train:
  lr: 3.0e-3
  batch_size: 64
  epochs: 40
  eval_limit: 0
  log_every: 100
YAML

"$flowood" info --config "$work/tabular.yaml" > "$work/info.txt"
grep -q "standardise" "$work/info.txt" || fail "info does not show the standardisation layer: $(cat "$work/info.txt")"
"$flowood" run "$work/tabular.yaml" --run-dir "$work/run" > "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "run failed"; }
cat "$work/run.txt"
grep -q "standardisation fitted on the 480 rows" "$work/run/flowood.log" || fail "no standardisation fit logged"
[ -s "$work/run/metrics.json" ] || fail "no metrics.json"
auroc=$(grep -o '"auroc": *[0-9.]*' "$work/run/metrics.json" | head -1 | grep -o '[0-9.]*$')
echo "AUROC class a vs class b: $auroc"
awk -v a="$auroc" 'BEGIN { exit !(a > 0.9) }' || fail "AUROC $auroc <= 0.9 on two classes with opposite correlations"
rows=$(grep -vc '^#' "$work/run/scores/"*classes_a*part_test*.csv || true)
[ "$rows" -eq 121 ] || fail "expected a header + 120 in-distribution scores, got $rows lines"

# score on another selection of the same table, through the score verb
"$flowood" score --run "$work/run" --data "csv:$work/table.csv?label=kind&classes=b&part=train&holdout=0.2" \
  --out "$work/b_train.csv" > /dev/null 2>&1 || fail "score failed"
[ "$(grep -vc '^#' "$work/b_train.csv")" -eq 481 ] || fail "score wrote $(grep -vc '^#' "$work/b_train.csv") lines"

# image-only verbs name the problem
if "$flowood" visualize-latents "$work/run" > "$work/viz.txt" 2>&1; then fail "visualize-latents accepted a tabular run"; fi
grep -q "visualize-latents works on image models" "$work/viz.txt" || fail "unclear error: $(cat "$work/viz.txt")"
# a feature spec with the wrong width names both shapes
if "$flowood" score --run "$work/run" --data "noise:uniform?shape=1x3x3&n=4" --out "$work/x.csv" > "$work/w.txt" 2>&1; then
  fail "score accepted 9 features for a 4-feature model"
fi
grep -q "are 9 but the model expects 4" "$work/w.txt" || fail "unclear error: $(cat "$work/w.txt")"
[ ! -e "$work/x.csv" ] || fail "a failed score left $work/x.csv"
echo "tabular ok"
