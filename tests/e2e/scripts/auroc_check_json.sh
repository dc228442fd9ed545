#!/bin/sh
# Usage: auroc_check_json.sh FLOWOOD DIR
# Runs `flowood auroc --json` on the files of auroc_make_scores.sh and checks the JSON file.
set -eu
flowood=$1 dir=$2
json=$dir/metrics.json
rm -f "$json"
"$flowood" auroc --in "$dir/in.csv" --ood "$dir/ood_a.csv" --ood "$dir/ood_b.csv" --json "$json"
test -f "$json" || { echo "FAIL: $json was not written"; exit 1; }
cat "$json"
fail=0
for want in '"auroc": 0.75,' '"auroc": 0.45,' '"score": "loglik"' '"dataset": "toy:in"' \
            '"dataset": "toy:ood-a"' '"dataset": null' '"fpr95_in_positive"' '"fpr95_ood_positive"' \
            '"n_in": 10,' '"n_out": 6,' '"n_out": 5,' "\"file\": \"$dir/ood_b.csv\""; do
  grep -qF -- "$want" "$json" || { echo "FAIL: $json lacks $want"; fail=1; }
done
if ls "$dir" | grep -q '\.tmp\.'; then echo "FAIL: temporary file left in $dir"; fail=1; fi
[ "$fail" -eq 0 ] && echo "OK"
exit "$fail"
