#!/usr/bin/env bash
# SIGKILL during training, then the same command resumes from the last checkpoint.
FLOWOOD=$1; WORK=$2/pipeline_resume
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture

args=(train --config "$WORK/tiny.yaml" --run-dir "$WORK/run" --set train.checkpoint_every=2 --set train.epochs=100000
      --set train.log_every=1)
"$FLOWOOD" "${args[@]}" --set train.max_steps=1000000 > /dev/null 2> "$WORK/err1.txt" &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$WORK/run/checkpoint.pt" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[ -f "$WORK/run/checkpoint.pt" ] || { cat "$WORK/err1.txt"; fail "no checkpoint appeared"; }
sleep 0.5
kill -9 $pid 2>/dev/null || fail "training finished before it could be killed"
wait $pid 2>/dev/null || true
ls "$WORK/run" | grep -q '\.tmp\.' && echo "note: a temporary checkpoint was left by the killed process (ignored)"

# Finish 4 steps after the last step the killed run logged (its checkpoint is at most 1 behind).
last=$(tail -n 1 "$WORK/run/metrics.csv" | cut -d, -f1)
case "$last" in ''|*[!0-9]*) last=0 ;; esac
target=$(( last + 4 ))
"$FLOWOOD" "${args[@]}" --set train.max_steps=$target > /dev/null 2> "$WORK/err2.txt" || { cat "$WORK/err2.txt"; fail "resumed run failed"; }
grep -q 'resuming from .*checkpoint.pt at step [1-9]' "$WORK/err2.txt" || { cat "$WORK/err2.txt"; fail "did not resume from the checkpoint"; }
grep -q "trained $target steps" "$WORK/err2.txt" || { cat "$WORK/err2.txt"; fail "resumed run did not finish at step $target"; }

# A changed model config is refused (it would silently mix two experiments).
if "$FLOWOOD" train --config "$WORK/tiny.yaml" --run-dir "$WORK/run" --set model.mid_channels=8 > /dev/null 2> "$WORK/err3.txt"; then
  fail "a changed model config was accepted"
fi
grep -q 'model.mid_channels (4 → 8)' "$WORK/err3.txt" || { cat "$WORK/err3.txt"; fail "the refusal does not name the changed key"; }
echo "resume ok"
