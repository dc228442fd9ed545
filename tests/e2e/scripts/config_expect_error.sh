#!/usr/bin/env bash
# Runs a command that must fail with a config error: prints its stdout and stderr (for the
# test's PASS_REGULAR_EXPRESSION) and, when the exit status is not the expected one, a line
# "config_expect_error: FAILED ..." that the test's FAIL_REGULAR_EXPRESSION catches (CTest
# ignores the exit status once PASS_REGULAR_EXPRESSION is set).
# Usage: config_expect_error.sh EXPECTED_STATUS COMMAND [ARGS...]
set -u
if [ $# -lt 2 ]; then
  echo "config_expect_error: FAILED usage: config_expect_error.sh EXPECTED_STATUS COMMAND [ARGS...]"
  exit 2
fi
expected=$1
shift
"$@" 2>&1
rc=$?
if [ "$rc" -ne "$expected" ]; then
  echo "config_expect_error: FAILED exit status $rc, expected $expected"
  exit 1
fi
exit 0
