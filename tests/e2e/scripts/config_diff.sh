#!/usr/bin/env bash
# Compares two texts byte for byte and prints a unified diff when they differ.
# Each side is either "--file PATH" (the file's bytes) or a command (its stdout), and the two
# sides are separated by "--vs". A side's command must succeed.
# Usage: config_diff.sh --file experiments/reference.yaml --vs build/bin/flowood info --reference
#        config_diff.sh flowood info --resolved --vs flowood info --config X --resolved
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

left=()
right=()
side=left
for a in "$@"; do
  if [ "$a" = "--vs" ]; then
    side=right
  elif [ "$side" = left ]; then
    left+=("$a")
  else
    right+=("$a")
  fi
done
if [ ${#left[@]} -eq 0 ] || [ ${#right[@]} -eq 0 ]; then
  echo "config_diff: usage: config_diff.sh LEFT... --vs RIGHT..." >&2
  exit 2
fi

# produce OUT SIDE...: writes the side's text to OUT.
produce() {
  local out=$1
  shift
  if [ "$1" = "--file" ]; then
    if [ $# -ne 2 ] || [ ! -f "$2" ]; then
      echo "config_diff: no such file: ${2:-}" >&2
      return 1
    fi
    cat "$2" > "$out"
  else
    "$@" > "$out" || { echo "config_diff: command failed (exit $?): $*" >&2; return 1; }
  fi
}

produce "$tmp/left" "${left[@]}" || exit 1
produce "$tmp/right" "${right[@]}" || exit 1
if ! diff -u --label "${left[*]}" --label "${right[*]}" "$tmp/left" "$tmp/right"; then
  echo "config_diff: the outputs differ (see the diff above)" >&2
  exit 1
fi
exit 0
