#!/usr/bin/env bash
# What score must refuse, each with exit 1 and nothing written:
# - a run directory whose config.yaml was edited after training (batch_norm: true -> false): score
#   and resume name the changed key; restoring the file makes both work again;
# - a CSV and an .npy with the same path (--out X.npy), which would overwrite one with the other;
# - a dataset with no examples;
# and report must refuse a malformed metrics.json, naming it.
FLOWOOD=$1; WORK=$2/run_integrity
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
"$FLOWOOD" train --config "$WORK/tiny.yaml" --run-dir "$WORK/run" --set train.max_steps=2 > /dev/null 2>&1 \
  || fail "training the fixture failed"
cp "$WORK/run/config.yaml" "$WORK/config.good"
sed -i 's/^  batch_norm: true/  batch_norm: false/' "$WORK/run/config.yaml"
grep -q '^  batch_norm: false' "$WORK/run/config.yaml" || fail "could not edit config.yaml"

set +e
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/s.csv" 2> "$WORK/score.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$WORK/score.err"; fail "score on an edited run exited $rc, not 1"; }
grep -q "config.yaml differs from the config .*checkpoint.pt was trained with; changed: model.batch_norm (true → false)" \
  "$WORK/score.err" || { cat "$WORK/score.err"; fail "score: the error does not name the changed key"; }
[ ! -e "$WORK/s.csv" ] || fail "score wrote $WORK/s.csv from the wrong model"

set +e
"$FLOWOOD" train --run-dir "$WORK/run" --set train.max_steps=4 2> "$WORK/train.err" > /dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$WORK/train.err"; fail "resuming an edited run exited $rc, not 1"; }
grep -q "model.batch_norm (true → false)" "$WORK/train.err" || { cat "$WORK/train.err"; fail "resume: key not named"; }

cp "$WORK/config.good" "$WORK/run/config.yaml"
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/s.csv" > /dev/null 2>&1 \
  || fail "score after restoring config.yaml failed"

set +e
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/same.npy" 2> "$WORK/same.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$WORK/same.err"; fail "score --out X.npy exited $rc, not 1"; }
grep -q "the CSV and the .npy would both be $WORK/same.npy" "$WORK/same.err" || { cat "$WORK/same.err"; fail "same-path error"; }
[ ! -e "$WORK/same.npy" ] || fail "score wrote $WORK/same.npy"

write_idx "$WORK/data/empty-images-idx3-ubyte" 0 random
set +e
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/empty-images-idx3-ubyte" --out "$WORK/e.csv" 2> "$WORK/empty.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$WORK/empty.err"; fail "scoring an empty dataset exited $rc, not 1"; }
# The IDX reader refuses a header of 0 items; score itself refuses any dataset left empty.
grep -q "empty-images-idx3-ubyte: IDX header declares 0 items\|no examples to score" "$WORK/empty.err" \
  || { cat "$WORK/empty.err"; fail "empty dataset: no clear error"; }
[ ! -e "$WORK/e.csv" ] || fail "score wrote $WORK/e.csv for an empty dataset"

# report on a malformed metrics.json: an error naming the file and position, not "No metrics".
echo "{ bad" > "$WORK/run/metrics.json"
set +e
"$FLOWOOD" report "$WORK/run" --out "$WORK/report" 2> "$WORK/report.err" > /dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$WORK/report.err"; fail "report on a malformed metrics.json exited $rc, not 1"; }
grep -q "$WORK/run/metrics.json: line 1, column" "$WORK/report.err" || { cat "$WORK/report.err"; fail "report: file not named"; }
echo "run integrity ok"
