#!/bin/sh
# Usage: expect_failure.sh [--absent FILE]... TEXT... -- COMMAND [ARG]...
# Passes when COMMAND exits non-zero, its stderr contains every TEXT (fixed strings) and no
# --absent FILE exists afterwards (no partial outputs).
set -u
absent=""
texts=""
nl='
'
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  if [ "$1" = --absent ]; then
    absent="$absent$2$nl"
    shift 2
  else
    texts="$texts$1$nl"
    shift
  fi
done
[ $# -gt 0 ] && shift  # the --
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" 2> "$err" > /dev/null
rc=$?
echo "exit status: $rc"
echo "stderr:"
cat "$err"
fail=0
if [ "$rc" -eq 0 ]; then
  echo "FAIL: expected a non-zero exit status"
  fail=1
fi
if [ "$(wc -l < "$err")" -gt 1 ]; then
  echo "FAIL: expected a one-line error message"
  fail=1
fi
IFS=$nl
for t in $texts; do
  if ! grep -qF -- "$t" "$err"; then
    echo "FAIL: stderr does not contain '$t'"
    fail=1
  fi
done
for f in $absent; do
  if [ -e "$f" ]; then
    echo "FAIL: $f exists but should not"
    fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "OK"
exit "$fail"
