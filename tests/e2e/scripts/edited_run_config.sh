#!/usr/bin/env bash
# A run directory whose config.yaml was edited after training (batch_norm: true -> false) must not
# score with the checkpoint's weights, nor resume: both stop with exit 1 naming the changed key,
# and no score file is written. Restoring the file makes both work again.
FLOWOOD=$1; WORK=$2/edited_run_config
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
echo "edited config ok"
