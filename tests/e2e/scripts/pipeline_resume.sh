#!/usr/bin/env bash
# SIGKILL during training, then the same command resumes from the last checkpoint.
FLOWOOD=$1; WORK=$2/pipeline_resume
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture

args=(train --config "$WORK/tiny.yaml" --run-dir "$WORK/run" --set train.max_steps=400 --set train.checkpoint_every=2 --set train.epochs=100)
"$FLOWOOD" "${args[@]}" > /dev/null 2> "$WORK/err1.txt" &
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

"$FLOWOOD" "${args[@]}" --set train.max_steps=12 > /dev/null 2> "$WORK/err2.txt" || { cat "$WORK/err2.txt"; fail "resumed run failed"; }
grep -q 'resuming from .*checkpoint.pt at step [1-9]' "$WORK/err2.txt" || { cat "$WORK/err2.txt"; fail "did not resume from the checkpoint"; }
grep -q 'trained 12 steps' "$WORK/err2.txt" || fail "resumed run did not finish at step 12"

# A changed model config is refused (it would silently mix two experiments).
if "$FLOWOOD" train --config "$WORK/tiny.yaml" --run-dir "$WORK/run" --set model.mid_channels=8 > /dev/null 2> "$WORK/err3.txt"; then
  fail "a changed model config was accepted"
fi
grep -q 'model.mid_channels (4 → 8)' "$WORK/err3.txt" || { cat "$WORK/err3.txt"; fail "the refusal does not name the changed key"; }
echo "resume ok"
