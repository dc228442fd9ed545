#!/usr/bin/env bash
# The resolved YAML of a config (what a run directory keeps) reads back to the same config:
# `info --config CONFIG --resolved` equals `info --config <that output> --resolved`.
# Usage: config_round_trip.sh FLOWOOD CONFIG
set -u
flowood=$1
config=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$flowood" info --config "$config" --resolved > "$tmp/first.yaml" || { echo "config_round_trip: $config does not load"; exit 1; }
"$flowood" info --config "$tmp/first.yaml" --resolved > "$tmp/second.yaml" || { echo "config_round_trip: the resolved YAML of $config does not load"; exit 1; }
if ! diff -u --label "resolved $config" --label "resolved again" "$tmp/first.yaml" "$tmp/second.yaml"; then
  echo "config_round_trip: the resolved YAML of $config does not read back to itself"
  exit 1
fi
if [ ! -s "$tmp/first.yaml" ]; then
  echo "config_round_trip: empty resolved YAML"
  exit 1
fi
exit 0
