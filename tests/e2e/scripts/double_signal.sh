#!/usr/bin/env bash
# A second SIGTERM or SIGINT 30–70 ms after the first (an impatient Ctrl-C, a scheduler's TERM
# after its warning) must not kill the process on its way out: exit 75, a checkpoint, no temporary
# file. Five rounds with different gaps, TERM and INT.
FLOWOOD=$1; WORK=$2/double_signal
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
args=(train --config "$WORK/tiny.yaml" --set train.max_steps=100000 --set train.epochs=100000 --set train.log_every=1
      --set train.checkpoint_every=100000 --set threads=1)
round=0
for spec in "TERM 0.03" "INT 0.05" "TERM 0.07" "INT 0.03" "TERM 0.05"; do
  set -- $spec
  round=$((round + 1))
  run="$WORK/run$round"
  "$FLOWOOD" "${args[@]}" --run-dir "$run" > /dev/null 2> "$WORK/log$round.txt" &
  pid=$!
  for _ in $(seq 1 600); do
    [ -f "$run/metrics.csv" ] && [ "$(wc -l < "$run/metrics.csv")" -ge 4 ] && break
    kill -0 $pid 2> /dev/null || break
    sleep 0.05
  done
  kill -"$1" $pid 2> /dev/null || fail "round $round: training ended before the first signal"
  sleep "$2"
  kill -"$1" $pid 2> /dev/null || true  # it may already be gone: that is fine when it exited 75
  rc=0; wait $pid || rc=$?
  [ "$rc" -eq 75 ] || { cat "$WORK/log$round.txt"; fail "round $round (SIG$1, second after ${2}s): exit $rc, expected 75"; }
  [ -s "$run/checkpoint.pt" ] || fail "round $round: no checkpoint"
  ls "$run" | grep -q '\.tmp' && fail "round $round: a temporary file was left behind"
done
echo "double signal ok"
