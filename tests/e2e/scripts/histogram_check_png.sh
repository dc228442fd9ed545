#!/bin/sh
# Usage: histogram_check_png.sh FLOWOOD DIR OUT.png CSV WIDTH HEIGHT [TEXT]... -- [FLOWOOD ARG]...
# Runs `flowood histogram ARG...` and checks: exit 0, stdout names OUT.png then CSV, OUT.png is a
# PNG of WIDTH x HEIGHT pixels (IHDR bytes), CSV exists and contains every TEXT (fixed strings).
set -u
flowood=$1 dir=$2 png=$3 csv=$4 want_w=$5 want_h=$6
shift 6
texts=""
nl='
'
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  texts="$texts$1$nl"
  shift
done
[ $# -gt 0 ] && shift
rm -f "$png" "$csv"
out=$("$flowood" histogram "$@")
rc=$?
echo "exit status: $rc"
echo "stdout:"
echo "$out"
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: non-zero exit status"; exit 1; }
[ "$out" = "$png$nl$csv" ] || { echo "FAIL: stdout should be the two output paths"; fail=1; }
[ -f "$png" ] || { echo "FAIL: $png was not written"; exit 1; }
# PNG signature (8 bytes), IHDR chunk length and type (8 bytes), then big-endian width, height.
sig=$(od -An -tx1 -N8 "$png" | tr -d ' \n')
[ "$sig" = 89504e470d0a1a0a ] || { echo "FAIL: $png is not a PNG (signature $sig)"; fail=1; }
set -- $(od -An -tu1 -j16 -N8 "$png")
w=$(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 ))
h=$(( ($5 << 24) + ($6 << 16) + ($7 << 8) + $8 ))
echo "png size: ${w}x${h}"
[ "$w" -eq "$want_w" ] && [ "$h" -eq "$want_h" ] || { echo "FAIL: expected ${want_w}x${want_h}"; fail=1; }
[ -f "$csv" ] || { echo "FAIL: $csv was not written"; exit 1; }
head -n 8 "$csv"
IFS=$nl
for t in $texts; do
  grep -qF -- "$t" "$csv" || { echo "FAIL: $csv lacks '$t'"; fail=1; }
done
if ls "$dir" | grep -q '\.tmp\.'; then echo "FAIL: temporary file left in $dir"; fail=1; fi
[ "$fail" -eq 0 ] && echo "OK"
exit "$fail"
