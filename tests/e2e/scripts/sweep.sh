#!/usr/bin/env bash
# flowood sweep + aggregate on generated data: a 2 × 3 grid (width × seed) run locally two at a
# time, aggregated with mean ± sd over seeds; a grid with a failing run; the Slurm array script
# (--slurm --dry-run) checked with bash -n and run as array task 0 with fake Slurm variables,
# including a preemption (SIGUSR1 → checkpoint, exit 75, requeue through a fake scontrol).
FLOWOOD=$1; WORK=$2/sweep
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
cat > "$WORK/grid.yaml" <<YAML
base: tiny.yaml
name: tinygrid
set:
  train.max_steps: 2
  score.bootstrap: 50
axes:
  model.mid_channels: [4, 8]
  seed: [1, 2, 3]
slurm:
  partition: debug
  time: "00:10:00"
YAML

"$FLOWOOD" sweep "$WORK/grid.yaml" --out "$WORK/s" --local -j 2 > "$WORK/out.txt" 2> "$WORK/err.txt" \
  || { cat "$WORK/out.txt" "$WORK/err.txt"; fail "sweep --local failed"; }
grep -q "sweep tinygrid: 6 configs" "$WORK/out.txt" || fail "plan not printed: $(cat "$WORK/out.txt")"
grep -q "6 of 6 runs finished" "$WORK/out.txt" || fail "not every run finished: $(cat "$WORK/out.txt")"
for name in mid_channels-4__seed-1 mid_channels-8__seed-3; do
  [ -s "$WORK/s/runs/$name/metrics.json" ] || fail "run $name has no metrics"
  grep -q "mid_channels: $(echo $name | sed 's/mid_channels-\([0-9]\).*/\1/')" "$WORK/s/configs/$name.yaml" || fail "config $name"
done
grep -q "threads: 1" "$WORK/s/runs/mid_channels-4__seed-1/config.yaml" || fail "two jobs on this machine should get cores/2 threads each"

"$FLOWOOD" aggregate "$WORK/s" > "$WORK/agg.txt" 2>&1 || { cat "$WORK/agg.txt"; fail "aggregate failed"; }
[ "$(wc -l < "$WORK/s/aggregate.csv")" -eq 7 ] || fail "aggregate.csv should have a header and 6 rows"
head -1 "$WORK/s/aggregate.csv" | grep -q '^run,model.mid_channels,seed,loglik auroc vs ' || fail "aggregate.csv header"
grep -q '^| 4 | 3 | [01]\.[0-9]* ± [0-9.]* |' "$WORK/s/aggregate.md" || fail "no mean ± sd over 3 seeds: $(cat "$WORK/s/aggregate.md")"
grep -q '6 of 6 runs finished' "$WORK/s/aggregate.md" || fail "aggregate count"
head -1 "$WORK/s/aggregate.csv" | grep -q ',bits/dim [^,]*,bits/dim [^,]*$' || fail "aggregate.csv lacks the bits/dim of the test and OOD sets"
awk -F, 'NR > 1 && !($NF > 0 && $NF < 100) { bad = 1 } END { exit bad }' "$WORK/s/aggregate.csv" || fail "bits/dim out of range"

# A grid whose second run fails at scoring: listed as failed, the sweep exits non-zero.
cat > "$WORK/bad.yaml" <<YAML
base: tiny.yaml
set: {train.max_steps: 1}
axes:
  data.ood: [[idx:$WORK/data/ood-images-idx3-ubyte], [idx:$WORK/data/missing-idx3-ubyte]]
YAML
"$FLOWOOD" sweep "$WORK/bad.yaml" --out "$WORK/b" --local > "$WORK/bout.txt" 2>&1 && fail "a sweep with a failing run exited 0"
grep -q "1 run(s) failed" "$WORK/bout.txt" || fail "failed run not named: $(cat "$WORK/bout.txt")"
"$FLOWOOD" aggregate "$WORK/b" > "$WORK/bagg.txt" 2>&1 || fail "aggregate of a partly failed sweep"
grep -q '## Failed' "$WORK/b/aggregate.md" && grep -q 'missing-idx3-ubyte.*(exit 1' "$WORK/b/aggregate.md" \
  || fail "failed run not listed: $(cat "$WORK/b/aggregate.md")"

# Slurm: the array script, checked and run as task 0 with fake Slurm variables and scontrol.
"$FLOWOOD" sweep "$WORK/grid.yaml" --out "$WORK/s" --slurm --dry-run --time 01:00:00 > "$WORK/sl.txt" 2>&1 || fail "dry run"
script="$WORK/s/sweep.sbatch"
for line in '#SBATCH --array=0-5' '#SBATCH --partition=debug' '#SBATCH --time=01:00:00' '#SBATCH --signal=B:USR1@120' '#SBATCH --requeue'; do
  grep -qF -- "$line" "$script" || fail "sbatch script lacks $line"
done
grep -q 'not submitted' "$WORK/sl.txt" || fail "dry run should say it did not submit"
bash -n "$script" || fail "the sbatch script is not valid bash"
mkdir -p "$WORK/fakebin"
printf '#!/bin/sh\necho "$@" > %s/requeued\n' "$WORK" > "$WORK/fakebin/scontrol"; chmod +x "$WORK/fakebin/scontrol"
SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_JOB_ID=77 PATH="$WORK/fakebin:$PATH" bash "$script" > "$WORK/task0.txt" 2>&1 \
  || { cat "$WORK/task0.txt"; fail "array task 0 failed"; }
grep -q 'trained 2 steps (0 this run' "$WORK/task0.txt" || fail "task 0 should find its run finished"
# Preemption: a longer run of task 5, SIGUSR1 to the batch shell → checkpoint, exit 75, requeue.
sed -i 's/max_steps: 2$/max_steps: 100000/; s/epochs: 1$/epochs: 100000/' "$WORK/s/configs/mid_channels-8__seed-3.yaml"
rm -rf "$WORK/s/runs/mid_channels-8__seed-3"
SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_JOB_ID=77 PATH="$WORK/fakebin:$PATH" bash "$script" > "$WORK/task5.txt" 2>&1 &
shell=$!
for _ in $(seq 1 100); do [ -s "$WORK/s/runs/mid_channels-8__seed-3/metrics.csv" ] && break; sleep 0.2; done
sleep 1
kill -USR1 "$shell"
rc=0; wait "$shell" || rc=$?
[ "$rc" -eq 75 ] || { cat "$WORK/task5.txt"; fail "preempted task exited $rc, expected 75"; }
[ -s "$WORK/s/runs/mid_channels-8__seed-3/checkpoint.pt" ] || fail "no checkpoint after preemption"
grep -q '77_5' "$WORK/requeued" || fail "the task was not requeued"
echo "sweep ok"
