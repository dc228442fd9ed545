#!/usr/bin/env bash
# Data-parallel training with torchrun-style variables: two flowood processes (RANK 0 and 1,
# WORLD_SIZE 2, loopback rendezvous) train one Glow run with batch 8 per rank and log the same
# per-step losses as one process with batch 16 (ActNorm initialised from the whole first global
# batch); only rank 0 writes the run directory and speaks. The training images are seeded noise, so
# the comparison is the same on every run (with random fixture bytes it was flaky: float32 sums in
# another order, amplified by Adam's normalised steps, differ by up to ~1.5e-4 bits/dim).
FLOWOOD=$1; WORK=$2/ddp_two_processes
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
common=(train --config "$WORK/tiny.yaml" --set "data.train=noise:uniform?shape=1x8x8&n=64&seed=3" --set model.flow=glow --set model.st_net=highway --set model.num_steps=1
        --set train.max_steps=6 --set train.epochs=100 --set train.log_every=1 --set threads=1)

"$FLOWOOD" "${common[@]}" --set train.batch_size=16 --run-dir "$WORK/single" > /dev/null 2> "$WORK/single.txt" \
  || { cat "$WORK/single.txt"; fail "single-process run failed"; }

port=$(( 20000 + RANDOM % 20000 ))
for rank in 0 1; do
  RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$FLOWOOD" "${common[@]}" --set train.batch_size=8 --run-dir "$WORK/ddp" > "$WORK/out$rank.txt" 2> "$WORK/rank$rank.txt" &
  pids[$rank]=$!
done
for rank in 0 1; do
  wait "${pids[$rank]}" || { cat "$WORK/rank0.txt" "$WORK/rank1.txt"; fail "rank $rank failed"; }
done
grep -q "rank 0 of 2 joined the process group at 127.0.0.1:$port (torchrun)" "$WORK/rank0.txt" \
  || { cat "$WORK/rank0.txt"; fail "rank 0 did not join"; }
grep -q "trained 6 steps" "$WORK/rank0.txt" || { cat "$WORK/rank0.txt"; fail "rank 0 did not report 6 steps"; }
! grep -q "info" "$WORK/rank1.txt" || { cat "$WORK/rank1.txt"; fail "rank 1 should only warn"; }
[ "$(wc -l < "$WORK/ddp/metrics.csv")" -eq 7 ] || fail "metrics.csv: one writer, 6 steps + header: $(cat "$WORK/ddp/metrics.csv")"

# Per-step training losses (bits/dim, column 4) of 2 × 8 and 1 × 16 agree to 5e-4 (float32 order).
paste -d, <(cut -d, -f4 "$WORK/single/metrics.csv") <(cut -d, -f4 "$WORK/ddp/metrics.csv") | tail -n +2 \
  | awk -F, '{ d = $1 - $2; if (d < 0) d = -d; if (d > 5e-4) { print "step " NR ": " $1 " vs " $2; bad = 1 } } END { exit bad }' \
  || fail "2 ranks × 8 did not follow 1 process × 16"
echo "ddp ok"
