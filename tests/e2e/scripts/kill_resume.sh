#!/usr/bin/env bash
# kill -9 at random points of training (seeded, 10 trials): running the same command again must
# finish the run, and the finished model must score exactly like an uninterrupted run's.
#   kill_resume.sh FLOWOOD WORK [TRIALS] [SEED]
FLOWOOD=$1; WORK=$2/kill_resume; TRIALS=${3:-10}; RANDOM=${4:-18}
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
args=(--config "$WORK/tiny.yaml" --set train.epochs=100 --set train.max_steps=40 --set train.checkpoint_every=1)
test_set="idx:$WORK/data/test-images-idx3-ubyte"
scores() { grep -v '^#' "$1"; }

start=$(date +%s%N)
"$FLOWOOD" train "${args[@]}" --run-dir "$WORK/reference" > /dev/null 2>&1 || fail "the uninterrupted run failed"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$FLOWOOD" score --run "$WORK/reference" --data "$test_set" --out "$WORK/reference.csv" > /dev/null 2>&1 \
  || fail "scoring the uninterrupted run failed"

killed=0
for t in $(seq 1 "$TRIALS"); do
  run="$WORK/run$t"
  # A random point within the uninterrupted run's duration (start-up included).
  ms=$(( took_ms * (RANDOM % 1000) / 1000 ))
  delay=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  "$FLOWOOD" train "${args[@]}" --run-dir "$run" > /dev/null 2> "$WORK/kill$t.err" &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  "$FLOWOOD" train "${args[@]}" --run-dir "$run" > /dev/null 2> "$WORK/resume$t.err" \
    || { cat "$WORK/resume$t.err"; fail "trial $t: the run killed after ${delay}s did not resume"; }
  "$FLOWOOD" score --run "$run" --data "$test_set" --out "$WORK/run$t.csv" > /dev/null 2>&1 \
    || fail "trial $t: scoring the resumed run failed"
  cmp -s <(scores "$WORK/reference.csv") <(scores "$WORK/run$t.csv") \
    || fail "trial $t: killed after ${delay}s, the resumed run scores differently from the uninterrupted one"
done
[ "$killed" -ge $((TRIALS / 2)) ] || fail "only $killed of $TRIALS trials were killed before finishing"
echo "kill resume ok: $killed of $TRIALS runs killed at random points, all resumed to identical scores"
