#!/usr/bin/env bash
# A full disk (simulated with the file-size limit, SIGXFSZ ignored) is a clear error that loses
# nothing: training keeps the previous checkpoint and leaves no temporary file; score keeps the
# previous CSV/.npy pair, never a new CSV beside an old .npy.
FLOWOOD=$1; WORK=$2/disk_full
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
args=(train --config "$WORK/tiny.yaml" --set train.epochs=100 --set threads=1 --run-dir "$WORK/run")

"$FLOWOOD" "${args[@]}" --set train.max_steps=4 > /dev/null 2>&1 || fail "first training failed"
cp "$WORK/run/checkpoint.pt" "$WORK/good.pt"
rc=0
( ulimit -f 64; trap '' XFSZ; exec "$FLOWOOD" "${args[@]}" --set train.max_steps=8 ) > /dev/null 2> "$WORK/train.txt" || rc=$?
[ "$rc" -eq 1 ] || { cat "$WORK/train.txt"; fail "training on a full disk: exit $rc, expected 1"; }
grep -q "checkpoint.pt: write failed (disk full?)" "$WORK/train.txt" || { cat "$WORK/train.txt"; fail "no disk-full message naming the checkpoint"; }
cmp -s "$WORK/run/checkpoint.pt" "$WORK/good.pt" || fail "the previous checkpoint was changed"
ls "$WORK/run" | grep -q '\.tmp' && fail "a temporary file was left behind"
grep -q "Aborted\|terminate called" "$WORK/train.txt" && fail "the process aborted"

# score: a good pair first, then a failing rewrite (the .npy fits under the limit, the CSV does not).
score=(score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/s.csv")
"$FLOWOOD" "${score[@]}" --seed 1 > /dev/null 2>&1 || fail "score failed"
cp "$WORK/s.csv" "$WORK/old.csv"; cp "$WORK/s.npy" "$WORK/old.npy"
rc=0
( ulimit -f 1; trap '' XFSZ; exec "$FLOWOOD" "${score[@]}" --seed 2 ) > /dev/null 2> "$WORK/score.txt" || rc=$?
[ "$rc" -eq 1 ] || { cat "$WORK/score.txt"; fail "score on a full disk: exit $rc, expected 1"; }
cmp -s "$WORK/s.csv" "$WORK/old.csv" || fail "the CSV changed"
cmp -s "$WORK/s.npy" "$WORK/old.npy" || fail "the .npy changed: the pair no longer matches"
ls "$WORK" | grep -q 'pending\|\.tmp' && fail "a temporary file was left behind: $(ls "$WORK")"
"$FLOWOOD" "${score[@]}" --seed 2 > /dev/null 2>&1 || fail "score after the disk was freed failed"
cmp -s "$WORK/s.npy" "$WORK/old.npy" && fail "the .npy was not rewritten with the new scores"
# An output directory that is a file is refused before any work (nothing written).
touch "$WORK/a_file"
rc=0
"$FLOWOOD" visualize-latents "$WORK/run" --npy "$WORK/a_file" --out "$WORK/latents.png" > /dev/null 2> "$WORK/lat.txt" || rc=$?
[ "$rc" -eq 1 ] || { cat "$WORK/lat.txt"; fail "visualize-latents --npy FILE: exit $rc, expected 1"; }
grep -q "a_file: --npy names a file, not a directory" "$WORK/lat.txt" || fail "message: $(cat "$WORK/lat.txt")"
[ ! -e "$WORK/latents.png" ] || fail "visualize-latents wrote its image before failing on --npy"
echo "disk full ok"
