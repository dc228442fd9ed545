#!/usr/bin/env bash
# Preemption is exact: kill -TERM during training leaves a checkpoint and exit 75; running the
# same command again finishes with the same parameters as an uninterrupted run (identical
# checkpoint tensors, hence identical scores to the last digit).
FLOWOOD=$1; WORK=$2/preempt_identical
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
steps=120
args=(train --config "$WORK/tiny.yaml" --set train.max_steps=$steps --set train.epochs=100000 --set train.log_every=1
      --set train.checkpoint_every=100000 --set threads=1)

"$FLOWOOD" "${args[@]}" --run-dir "$WORK/straight" > /dev/null 2> "$WORK/straight.txt" \
  || { cat "$WORK/straight.txt"; fail "uninterrupted run failed"; }

"$FLOWOOD" "${args[@]}" --run-dir "$WORK/preempted" > /dev/null 2> "$WORK/first.txt" &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$WORK/preempted/metrics.csv" ] && [ "$(wc -l < "$WORK/preempted/metrics.csv")" -ge 6 ] && break
  kill -0 $pid 2> /dev/null || break
  sleep 0.05
done
kill -TERM $pid 2> /dev/null || fail "training finished before SIGTERM (make it longer)"
rc=0; wait $pid || rc=$?
[ "$rc" -eq 75 ] || { cat "$WORK/first.txt"; fail "SIGTERM: exit $rc, expected 75"; }
[ -s "$WORK/preempted/checkpoint.pt" ] || fail "no checkpoint after SIGTERM"
stopped=$(sed -n 's/.*stopped by a signal at step \([0-9]*\).*/\1/p' "$WORK/first.txt")
[ -n "$stopped" ] && [ "$stopped" -lt $steps ] || { cat "$WORK/first.txt"; fail "no 'stopped at step' message"; }
ls "$WORK/preempted" | grep -q '\.tmp' && fail "a temporary file was left behind"

"$FLOWOOD" "${args[@]}" --run-dir "$WORK/preempted" > /dev/null 2> "$WORK/second.txt" \
  || { cat "$WORK/second.txt"; fail "the resumed run failed"; }
grep -q "resuming from .* at step $stopped" "$WORK/second.txt" || { cat "$WORK/second.txt"; fail "did not resume at $stopped"; }
grep -q "trained $steps steps" "$WORK/second.txt" || { cat "$WORK/second.txt"; fail "resumed run did not finish"; }

# Same parameters: scores of the test set written with every digit (max_digits10) agree exactly,
# and so do the logged training losses of every step both runs logged.
for run in straight preempted; do
  "$FLOWOOD" score --run "$WORK/$run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/$run.csv" > /dev/null 2>&1 \
    || fail "score $run"
done
cmp -s <(grep -v '^#' "$WORK/straight.csv") <(grep -v '^#' "$WORK/preempted.csv") \
  || { diff "$WORK/straight.csv" "$WORK/preempted.csv" | head; fail "scores differ"; }
# step, epoch, loss, bpd, test bpd (throughput and time differ)
cmp -s <(cut -d, -f1-5 "$WORK/straight/metrics.csv") <(cut -d, -f1-5 "$WORK/preempted/metrics.csv") \
  || { diff <(cut -d, -f1-5 "$WORK/straight/metrics.csv") <(cut -d, -f1-5 "$WORK/preempted/metrics.csv") | head; fail "training losses differ"; }
echo "preempted at step $stopped of $steps; resumed run identical"
echo "preempt ok"
