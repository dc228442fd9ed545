#!/bin/sh
# Usage: data_outside_repo.sh FLOWOOD
# folder:, npy: and csv: on data in a fresh temporary directory outside the repository: class
# folders of PGM images, an int64 .npy array and a CSV table, written here with printf. Checks
# what `flowood data info` reports for each.
set -u
flowood=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/flowood_e2e_data.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export FLOWOOD_CACHE="$dir/cache"  # keep the decoded-data cache out of ~/.cache
fail=0
check() {  # check TEXT OUTPUT: OUTPUT contains TEXT (fixed string)
  if ! printf '%s\n' "$2" | grep -qF -- "$1"; then echo "FAIL: output lacks '$1'"; fail=1; fi
}
run() {  # run ARGS...: prints and returns stdout; a non-zero exit fails the test
  out=$("$flowood" "$@" 2>"$dir/err")
  rc=$?
  echo "\$ flowood $*  (exit $rc)"
  echo "$out"
  if [ "$rc" -ne 0 ]; then echo "FAIL: exit status $rc"; cat "$dir/err"; fail=1; fi
}

# Two classes of 8x8 grey images (binary PGM): cats (value 40 + i) and dogs (value 200 + i).
pgm() {  # pgm FILE VALUE: an 8x8 image, every pixel VALUE
  { printf 'P5\n8 8\n255\n'; i=0; oct=$(printf '%03o' "$2"); while [ $i -lt 64 ]; do printf "\\$oct"; i=$((i + 1)); done; } > "$1"
}
mkdir -p "$dir/imgs/cats" "$dir/imgs/dogs"
for i in 0 1 2; do pgm "$dir/imgs/cats/c$i.pgm" $((40 + i)); done
for i in 0 1; do pgm "$dir/imgs/dogs/d$i.pgm" $((200 + i)); done

run data info "folder:$dir/imgs"
check "count: 5" "$out"
check "shape: 1x8x8 (CxHxW)" "$out"
check "range: 40 .. 201" "$out"
check "labels: 2 classes" "$out"
run data info "folder:$dir/imgs?rgb&invert&size=4"
check "shape: 3x4x4 (CxHxW)" "$out"
check "range: 54 .. 215" "$out"

# An .npy of int64 [3, 2] = [[1, 2], [3, 4], [5, 6]]: 128-byte v1.0 header, then the data.
{
  printf '\223NUMPY\001\000\166\000'
  dict="{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }"
  printf '%s' "$dict"
  n=$((128 - 10 - ${#dict} - 1)); i=0
  while [ $i -lt $n ]; do printf ' '; i=$((i + 1)); done
  printf '\n'
  for v in 1 2 3 4 5 6; do printf "\\$(printf '%03o' $v)\\000\\000\\000\\000\\000\\000\\000"; done
} > "$dir/x.npy"
run data info "npy:$dir/x.npy"
check "kind: features" "$out"
check "count: 3" "$out"
check "shape: 2 features" "$out"
check "range: 1 .. 6" "$out"

printf 'a,b,label\n1,2,yes\n3,4,no\n5,6,yes\n' > "$dir/t.csv"
run data info "csv:$dir/t.csv?label=label"
check "columns: a, b" "$out"
check "labels: 2 classes" "$out"

[ "$fail" -eq 0 ] && echo "OK"
exit "$fail"
