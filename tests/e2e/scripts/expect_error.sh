#!/usr/bin/env bash
# expect_error.sh REGEX COMMAND...: passes when COMMAND exits non-zero (and not by a crash
# signal) and its stderr matches REGEX (extended grep). Prints what it saw either way.
regex=$1; shift
err=$("$@" 2>&1 >/dev/null); rc=$?
echo "exit code $rc; stderr: $err"
[ $rc -ne 0 ] || { echo "FAIL: expected a non-zero exit code"; exit 1; }
[ $rc -lt 128 ] || { echo "FAIL: killed by a signal (crash)"; exit 1; }
echo "$err" | grep -Eq -- "$regex" || { echo "FAIL: stderr does not match /$regex/"; exit 1; }
echo "error ok"
