#!/usr/bin/env bash
# flowood sweep --slurm on a real Slurm: a private one-node cluster (slurm_local.sh: munged,
# slurmctld, slurmd under $WORK/slurm/state, ports 16817/16818), a 3-task array sweep (seeds
# 1..3) submitted by flowood itself through sbatch, waited for with squeue, each task checked
# through scontrol (COMPLETED, exit 0), its log and its metrics.json, then flowood aggregate
# (mean ± sd over the 3 seeds). The daemons are stopped by pid whatever happens.
# Exits 77 (CTest: skipped) when not root or when Slurm/munge are not installed.
FLOWOOD=$1; WORK=$2/slurm
FLOWOOD=$(cd "$(dirname "$FLOWOOD")" && pwd)/$(basename "$FLOWOOD")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/slurm_local.sh"
if ! why=$(slurm_local_check); then
  echo "skipped: $why"
  exit 77
fi
source "$here/pipeline_common.sh"
STATE=$WORK/state
# Stop before removing: a killed earlier run may have left its daemons on this state dir.
[ -d "$STATE" ] && slurm_local_stop "$STATE"
rm -rf "$WORK"; mkdir -p "$WORK"
trap 'slurm_local_stop "$STATE"' EXIT
started=$(date +%s)
slurm_local_start "$STATE" || fail "the local Slurm did not start"

make_fixture
cat > "$WORK/grid.yaml" <<YAML
base: tiny.yaml
name: slurmgrid
set:
  train.max_steps: 2
  score.bootstrap: 50
  threads: 1
axes:
  seed: [1, 2, 3]
YAML

"$FLOWOOD" sweep "$WORK/grid.yaml" --out "$WORK/s" --slurm --partition debug --time 00:10:00 \
  > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/out.txt" "$WORK/err.txt"; fail "sweep --slurm failed"; }
grep -q "sweep slurmgrid: 3 configs" "$WORK/out.txt" || fail "plan not printed: $(cat "$WORK/out.txt")"
job=$(cat "$WORK/s/slurm_job_id")
[[ "$job" =~ ^[0-9]+$ ]] || fail "slurm_job_id is not a job id: '$job'"
grep -q "submitted array job $job (3 tasks)" "$WORK/out.txt" || fail "submission not reported: $(cat "$WORK/out.txt")"

# Wait until no task of the array is pending, running or completing (8 min at most).
deadline=$(( $(date +%s) + 480 ))
while [ -n "$(squeue -h -j "$job" -o %i 2> /dev/null)" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    squeue -j "$job" >&2; scontrol show job "$job" >&2; cat "$WORK"/s/logs/*.out >&2 2> /dev/null
    fail "array job $job still queued or running after 8 min"
  fi
  sleep 2
done

# Each task: finished as far as Slurm knows (scontrol keeps finished jobs for MinJobAge=300 s),
# its log shows a finished run, its run directory holds metrics.json.
scontrol -o show job "$job" > "$WORK/jobs.txt" 2>&1 || fail "scontrol show job $job: $(cat "$WORK/jobs.txt")"
for task in 0 1 2; do
  line=$(grep " ArrayTaskId=$task " "$WORK/jobs.txt") || fail "task $task unknown to scontrol: $(cat "$WORK/jobs.txt")"
  if ! grep -q "JobState=COMPLETED " <<< "$line" || ! grep -q " ExitCode=0:0 " <<< "$line"; then
    cat "$WORK"/s/logs/*.out >&2; fail "task $task did not complete: $line"
  fi
  log="$WORK/s/logs/flowood-slurmgrid-${job}_${task}.out"
  [ -s "$log" ] || fail "no log $log: $(ls "$WORK/s/logs")"
  grep -q "trained 2 steps" "$log" || fail "task $task log shows no finished training: $(cat "$log")"
  ! grep -qE "^\[[0-9:]+\] (error|critical) " "$log" || fail "task $task log has an error: $(cat "$log")"
done
for seed in 1 2 3; do
  [ -s "$WORK/s/runs/seed-$seed/metrics.json" ] || fail "run seed-$seed has no metrics.json: $(ls "$WORK/s/runs" 2>&1)"
  grep -q "^seed: $seed$" "$WORK/s/runs/seed-$seed/config.yaml" || fail "run seed-$seed did not run with seed $seed"
done

"$FLOWOOD" aggregate "$WORK/s" > "$WORK/agg.txt" 2>&1 || { cat "$WORK/agg.txt"; fail "aggregate failed"; }
grep -q '3 of 3 runs finished' "$WORK/s/aggregate.md" || fail "aggregate count: $(cat "$WORK/s/aggregate.md")"
[ "$(wc -l < "$WORK/s/aggregate.csv")" -eq 4 ] || fail "aggregate.csv should have a header and 3 rows"
grep -q '^| 3 | [01]\.[0-9]* ± [0-9.]* |' "$WORK/s/aggregate.md" || fail "no mean ± sd over 3 seeds: $(cat "$WORK/s/aggregate.md")"

# Data-parallel training: one job, `srun -n 2` → two ranks rendezvous through Slurm's variables
# (SLURM_PROCID, SLURM_STEP_NUM_TASKS, the first node of SLURM_STEP_NODELIST, a port from the job id).
ddp=$WORK/ddp
mkdir -p "$ddp"
ddp_job=$(sbatch --parsable --ntasks=2 --partition debug --time 00:10:00 --output "$ddp/job.out" \
  --wrap "srun -n 2 '$FLOWOOD' train --config '$WORK/tiny.yaml' --run-dir '$ddp/run' --set train.max_steps=4 --set threads=1") \
  || fail "sbatch of the 2-task job failed"
deadline=$(( $(date +%s) + 300 ))
while [ -n "$(squeue -h -j "$ddp_job" -o %i 2> /dev/null)" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { cat "$ddp/job.out" >&2; fail "2-task job $ddp_job still running after 5 min"; }
  sleep 2
done
line=$(scontrol -o show job "$ddp_job")
grep -q "JobState=COMPLETED " <<< "$line" || { cat "$ddp/job.out" >&2; fail "2-task job did not complete: $line"; }
grep -q "rank 0 of 2 joined the process group at .* (slurm)" "$ddp/job.out" || fail "no 2-rank process group: $(cat "$ddp/job.out")"
grep -q "trained 4 steps" "$ddp/job.out" || fail "the 2-task job did not train 4 steps: $(cat "$ddp/job.out")"
[ -s "$ddp/run/checkpoint.pt" ] || fail "rank 0 wrote no checkpoint"
[ "$(grep -c '^4,' "$ddp/run/metrics.csv")" -eq 1 ] || fail "metrics.csv should have one line for step 4 (one writer): $(cat "$ddp/run/metrics.csv")"

slurm_local_stop "$STATE"
trap - EXIT
for d in munged slurmctld slurmd; do [ ! -e "$STATE/$d.pid" ] || fail "$d not stopped"; done
echo "slurm: 3 array tasks in $(( $(date +%s) - started )) s"
echo "slurm ok"
