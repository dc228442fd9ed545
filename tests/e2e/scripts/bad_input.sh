#!/usr/bin/env bash
# The bad-input suite (docs/reliability.md): each hostile input or mistake a user can make must stop
# flowood with exit status 1 and one error line naming the file, key or value — no crash, no
# internal error, memory bounded by the input's real size (a 3 GB address-space limit, except under
# AddressSanitizer, which reserves more), and nothing lost or half-written.
#   bad_input.sh FLOWOOD MAKE_HOSTILE_INPUTS WORK
FLOWOOD=$1; MAKE_HOSTILE=$2; WORK=$3/bad_input
source "$(dirname "$0")/pipeline_common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; make_fixture
H=$WORK/hostile
"$MAKE_HOSTILE" "$H" > /dev/null || fail "make_hostile_inputs failed"
export FLOWOOD_CACHE=$WORK/cache
# (Not `ldd | grep -q`: under pipefail, grep -q leaving early kills ldd with SIGPIPE and the test
# would then take the sanitized binary for a plain one now and then.)
case "$(ldd "$FLOWOOD")" in *libasan*) vlimit=unlimited ;; *) vlimit=3000000 ;; esac
cases=0

# refuse NAME TEXT... -- COMMAND...: COMMAND exits 1 with TEXT (fixed strings) in its one error line.
refuse() {
  local name=$1; shift
  local texts=()
  while [ "$1" != -- ]; do texts+=("$1"); shift; done
  shift
  set +e
  (ulimit -v "$vlimit"; "$@") > "$WORK/$name.out" 2> "$WORK/$name.err"
  local rc=$?
  set -e
  [ "$rc" -eq 1 ] || { cat "$WORK/$name.err"; fail "$name: exit status $rc, expected 1"; }
  ! grep -q "internal error" "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: an internal error"; }
  [ "$(grep -c '^error: ' "$WORK/$name.err")" -eq 1 ] || { cat "$WORK/$name.err"; fail "$name: not one error line"; }
  for t in "${texts[@]}"; do
    grep -qF -- "$t" "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: the error does not say '$t'"; }
  done
  cases=$((cases + 1))
}

# --- Files whose headers claim more than they hold (issue 18, case 5 and 6).
refuse tar_octal_size "$H/octal/cifar10/test.tar.gz:test/cat/0001.png" "truncated tar archive" -- \
  "$FLOWOOD" data info cifar10:test --root "$H/octal"
refuse tar_base256_size "$H/base256/cifar10/test.tar.gz" "truncated tar archive" -- \
  "$FLOWOOD" data info cifar10:test --root "$H/base256"
refuse npz_claims_4gb "$H/claims4gb.npz:embeddings.npy" "corrupt zip member" -- \
  "$FLOWOOD" data info "npz:$H/claims4gb.npz#embeddings"
refuse npy_huge_shape "$H/huge_shape.npy" "(4611686018427387904, 1)" -- "$FLOWOOD" data info "npy:$H/huge_shape.npy"
refuse png_huge_header "$H/bigpng/0001.png" "100000×100000" -- "$FLOWOOD" data info "folder:$H/bigpng"
refuse idx_huge_count "$H/huge-images-idx3-ubyte" "truncated" -- "$FLOWOOD" data info "idx:$H/huge-images-idx3-ubyte"

# --- Configs that would size an impossible model, or hold values that are not what they seem.
refuse mid_channels_huge "model.mid_channels" -- "$FLOWOOD" info --config "$WORK/tiny.yaml" --set model.mid_channels=80000
refuse masks_huge "model.masks" -- "$FLOWOOD" info --config "$WORK/tiny.yaml" --set 'model.masks=[checkerboard x3000000]'
refuse lr_inf "train.lr" -- "$FLOWOOD" info --config "$WORK/tiny.yaml" --set train.lr=.inf
refuse weight_decay_inf "train.weight_decay" -- "$FLOWOOD" info --config "$WORK/tiny.yaml" --set train.weight_decay=.inf
sed 's/^  batch_size: 8$/  batch_size: 010/' "$WORK/tiny.yaml" > "$WORK/octal.yaml"
grep -q 'batch_size: 010' "$WORK/octal.yaml" || fail "could not write octal.yaml"
refuse batch_size_octal "$WORK/octal.yaml" "train.batch_size" -- "$FLOWOOD" info --config "$WORK/octal.yaml"
refuse ood_typo_before_training "mnsit" -- \
  "$FLOWOOD" run "$WORK/tiny.yaml" --run-dir "$WORK/typo" --set 'data.ood=[mnsit:test]'
[ ! -e "$WORK/typo/checkpoint.pt" ] || fail "run trained before finding the misspelt data.ood"

# --- A diverged model: training stops naming the last finite checkpoint; scoring uses it.
refuse diverged "diverged" "last finite checkpoint" -- \
  "$FLOWOOD" train --config "$WORK/tiny.yaml" --run-dir "$WORK/div" --set train.lr=1000 --set train.epochs=20 \
  --set train.max_steps=60 --set train.checkpoint_every=1
# Its parameters are finite, but a model one step from diverging may still give NaN: then score
# must refuse it (exit 1, no file); when it succeeds, no score is NaN.
set +e
"$FLOWOOD" score --run "$WORK/div" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/div.csv" \
  > "$WORK/div_score.out" 2>&1
rc=$?
set -e
if [ "$rc" -eq 0 ]; then
  ! grep -qi "nan" "$WORK/div_score.out" "$WORK/div.csv" || fail "score exited 0 with NaN scores of a diverged run"
else
  [ "$rc" -eq 1 ] && grep -q "numerically broken" "$WORK/div_score.out" || { cat "$WORK/div_score.out"; fail "score of a diverged run: exit $rc"; }
  [ ! -e "$WORK/div.csv" ] || fail "score refused the diverged run but wrote div.csv"
fi

# --- A good run, then damage: a flipped byte in the checkpoint, outputs that cannot be written.
"$FLOWOOD" train --config "$WORK/tiny.yaml" --run-dir "$WORK/run" > /dev/null 2>&1 || fail "training the fixture failed"
"$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/good.csv" > /dev/null 2>&1 \
  || fail "scoring the fixture failed"
cp "$WORK/good.csv" "$WORK/good.csv.before"; cp "$WORK/good.npy" "$WORK/good.npy.before"
cp "$WORK/run/checkpoint.pt" "$WORK/checkpoint.good"
size=$(stat -c %s "$WORK/run/checkpoint.pt")
offset=$((size / 2))
byte=$(od -An -tu1 -j "$offset" -N1 "$WORK/run/checkpoint.pt" | tr -d ' ')
printf "\\x$(printf %02x $((byte ^ 16)))" | dd of="$WORK/run/checkpoint.pt" bs=1 seek="$offset" conv=notrunc status=none
cmp -s "$WORK/run/checkpoint.pt" "$WORK/checkpoint.good" && fail "the byte flip did not change checkpoint.pt"
refuse checkpoint_bit_flip "$WORK/run/checkpoint.pt" -- \
  "$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/good.csv"
cmp -s "$WORK/good.csv" "$WORK/good.csv.before" || fail "a refused score changed good.csv"
cp "$WORK/checkpoint.good" "$WORK/run/checkpoint.pt"

# Read-only folders: root ignores permissions, so as root a folder under /proc stands in.
if [ "$(id -u)" -eq 0 ]; then ro=/proc/flowood_read_only; else ro=$WORK/read_only; mkdir -p "$ro"; chmod 555 "$ro"; fi
refuse score_out_read_only "$ro" -- \
  "$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$ro/s.csv"
refuse score_npy_is_out "$WORK/good.csv" -- \
  "$FLOWOOD" score --run "$WORK/run" --data "idx:$WORK/data/test-images-idx3-ubyte" --out "$WORK/good.csv" --npy "$WORK/good.csv"
cmp -s "$WORK/good.csv" "$WORK/good.csv.before" && cmp -s "$WORK/good.npy" "$WORK/good.npy.before" \
  || fail "a refused score changed the earlier score files"
touch "$WORK/a_file"
refuse latents_npy_is_a_file "$WORK/a_file" -- \
  "$FLOWOOD" visualize-latents "$WORK/run" --out "$WORK/latents.png" --npy "$WORK/a_file"
refuse latents_npy_read_only "$ro" -- "$FLOWOOD" visualize-latents "$WORK/run" --out "$WORK/latents.png" --npy "$ro/npy"
[ ! -e "$WORK/latents.png" ] || fail "visualize-latents wrote its PNG before refusing --npy"
refuse latents_out_read_only "$ro" -- "$FLOWOOD" visualize-latents "$WORK/run" --out "$ro/latents.png"
[ "$(id -u)" -eq 0 ] || chmod 755 "$ro"

# --- A temporary file left by a killed process is removed when training starts again there.
stale="$WORK/run/checkpoint.pt.tmp.4194999"  # above Linux's largest pid: no live process has it
head -c 4096 /dev/urandom > "$stale"
touch -d '5 minutes ago' "$stale"
"$FLOWOOD" train --run-dir "$WORK/run" --set train.max_steps=6 > /dev/null 2>&1 || fail "resuming the fixture failed"
[ ! -e "$stale" ] || fail "a stale temporary file survived a new training start"

echo "bad input ok: $cases cases refused"
