#!/usr/bin/env bash
# visualize-latents, visualize-coupling, measures and sample on tiny trained RealNVP, coupling-
# stack and Glow runs (generated data) through the real binary.
FLOWOOD=$1; WORK=$2/inspect_verbs
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1 is not a PNG"; }
train() {  # NAME [--set ...]
  local name=$1; shift
  "$FLOWOOD" train --config "$WORK/tiny.yaml" --run-dir "$WORK/$name" "$@" > /dev/null 2> "$WORK/$name.err" ||
    { cat "$WORK/$name.err"; fail "training $name failed"; }
}
train realnvp
train stack --set model.flow=coupling --set "model.masks=[checkerboard x2, cycle]"
train glow --set model.flow=glow --set model.st_net=highway --set model.num_steps=2
# run on the trained Glow: scores from the loaded checkpoint (ActNorm initialised, not re-initialised).
"$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/glow" --set model.flow=glow --set model.st_net=highway \
  --set model.num_steps=2 > "$WORK/glow_run.txt" 2> "$WORK/glow_run.err" || { cat "$WORK/glow_run.err"; fail "run glow"; }
grep -q 'AUROC' "$WORK/glow_run.txt" || fail "run glow printed no metrics"
grep -q 'trained 4 steps (0 this run' "$WORK/glow_run.err" || fail "run glow trained again"

ID="idx:$WORK/data/test-images-idx3-ubyte"; OOD="idx:$WORK/data/ood-images-idx3-ubyte"
for run in realnvp stack glow; do
  R="$WORK/$run"
  "$FLOWOOD" visualize-latents "$R" --image "$ID#0,3" --image "$OOD#5" --samples 4 --npy "$R/lat" > "$R/lat.txt" ||
    fail "visualize-latents $run"
  is_png "$R/latents.png"
  for a in x z z_mean; do [ -s "$R/lat/$a.npy" ] || fail "$run: no $a.npy"; done
  "$FLOWOOD" visualize-coupling "$R" --image "$ID#1" --image "$OOD#2" --out "$R/c.png" > /dev/null || fail "visualize-coupling $run"
  is_png "$R/c.png"
  "$FLOWOOD" measures "$R" -n 16 --samples 3 --batch-size 8 --json "$R/m.json" > "$R/m.txt" || fail "measures $run"
  grep -q '"measures"' "$R/m.json" || fail "$run: measures JSON"
  grep -q 'edge correlation, latent mean of K=3' "$R/m.txt" || fail "$run: no averaged-latent row"
  "$FLOWOOD" sample "$R" -n 5 --temperature 0.7 --npy "$R/s.npy" > /dev/null || fail "sample $run"
  is_png "$R/samples.png"
done
# Rows of the measures table: one per coupling (10 for this RealNVP, 6 for the stack), plus edges.
[ "$(grep -c '^predictability error' "$WORK/realnvp/m.txt")" = 10 ] || fail "realnvp: expected 10 coupling rows"
[ "$(grep -c '^predictability error' "$WORK/stack/m.txt")" = 6 ] || fail "stack: expected 6 coupling rows"
grep -q '^edge correlation, batch norm train mode' "$WORK/realnvp/m.txt" || fail "realnvp: no batch-norm row"
# Glow has no batch norm: said, not drawn.
grep -q 'has no batch norm' "$WORK/glow/lat.txt" || fail "glow: no note about batch norm"
[ ! -e "$WORK/glow/lat/z_bn_train.npy" ] || fail "glow: wrote a batch-norm latent"
[ -s "$WORK/realnvp/lat/z_bn_train.npy" ] || fail "realnvp: no batch-norm latent"
# Bad input: an index past the end names the flag and the text; nothing is written.
out=$("$FLOWOOD" visualize-latents "$WORK/realnvp" --image "$ID#99" --out "$WORK/none.png" 2>&1) && fail "index 99 accepted"
echo "$out" | grep -q -- "--image: '$ID#99': index 99 is past the end (32 images)" || fail "bad index message: $out"
[ ! -e "$WORK/none.png" ] || fail "a figure was written despite the error"
echo "inspect ok"
