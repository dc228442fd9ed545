#!/usr/bin/env bash
# Downloads the files of one dataset listed in data/manifest.tsv and verifies their checksums.
#
#   scripts/fetch_data.sh NAME [DEST]      NAME: fashion-mnist | mnist;  DEST default ./data/NAME
#
# Idempotent: a file already in DEST whose checksum verifies (or, when the manifest has no
# checksum, that decompresses as gzip) is kept. When a download fails (offline machine, moved
# URL) the script says plainly which files to place where, and exits non-zero.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="${here}/../data/manifest.tsv"

usage() {
  echo "usage: $0 NAME [DEST]   (NAME: $(known_names | tr '\n' ' ' | sed 's/ $//' | sed 's/ / | /g'); DEST default ./data/NAME)" >&2
}
known_names() { grep -v '^#' "$manifest" | tail -n +2 | cut -f1 | uniq; }

[[ -r "$manifest" ]] || { echo "error: manifest not found: $manifest" >&2; exit 2; }
if [[ $# -lt 1 || $# -gt 2 || "$1" == "-h" || "$1" == "--help" ]]; then usage; exit 2; fi
name="$1"
dest="${2:-./data/${name}}"
if ! known_names | grep -qx -- "$name"; then
  echo "error: unknown dataset '$name'" >&2; usage; exit 2
fi

if command -v sha256sum >/dev/null 2>&1; then sha256() { sha256sum | cut -c1-64; }
elif command -v shasum >/dev/null 2>&1; then sha256() { shasum -a 256 | cut -c1-64; }
else echo "error: need sha256sum or shasum to verify downloads" >&2; exit 2; fi

if command -v curl >/dev/null 2>&1; then
  download() { curl -fL --retry 2 --connect-timeout 15 -sS -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  download() { wget -q --tries=2 --timeout=15 -O "$2" "$1"; }
else
  download() { echo "neither curl nor wget is installed" >&2; return 1; }
fi

# verify FILE EXPECTED_IDX_SHA256: the checksum is of the decompressed IDX bytes, so any gzip
# packaging of the same data (upstream, Debian's repack) verifies. '-' means unknown: the file
# must at least decompress.
verify() {
  local file="$1" expected="$2" actual
  if [[ "$expected" == "-" ]]; then gzip -t "$file" 2>/dev/null; return; fi
  actual="$(gzip -dc "$file" 2>/dev/null | sha256)" || return 1
  [[ "$actual" == "$expected" ]]
}

mkdir -p "$dest"
missing=()
while IFS=$'\t' read -r dataset split file idx_bytes idx_sha gz_sha url; do
  [[ "$dataset" == "$name" ]] || continue
  target="${dest}/${file}"
  if [[ -f "$target" ]] && verify "$target" "$idx_sha"; then
    if [[ "$idx_sha" == "-" ]]; then note="no checksum in the manifest"; else note="verified"; fi
    echo "ok       ${target} (already present, ${note})"
    continue
  fi
  echo "fetching ${url}"
  tmp="${target}.part"
  if download "$url" "$tmp" && verify "$tmp" "$idx_sha"; then
    mv -f "$tmp" "$target"
    if [[ "$idx_sha" == "-" ]]; then
      echo "ok       ${target} (no checksum in the manifest; sha256 of the decompressed file: $(gzip -dc "$target" | sha256))"
    else
      echo "ok       ${target} (verified)"
    fi
  else
    [[ -f "$tmp" ]] && ! verify "$tmp" "$idx_sha" && echo "checksum mismatch or corrupt download: ${url}" >&2
    rm -f "$tmp"
    missing+=("${file}  (${split}, ${url})")
  fi
done < <(grep -v '^#' "$manifest" | tail -n +2)

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "${name}: all files present in ${dest}"
  echo "flowood finds them in ROOT/${name}/ for every data root ROOT: ./data and /usr/share/datasets by default, more via data.roots or FLOWOOD_DATA."
  exit 0
fi

{
  echo
  echo "Could not download ${#missing[@]} file(s) of ${name} (offline, or the URL moved)."
  echo "Place these files (gzip, original names) in ${dest}/ and run this script again to verify them:"
  for m in "${missing[@]}"; do echo "  ${m}"; done
  if [[ "$name" == "fashion-mnist" ]]; then
    echo "On Debian/Ubuntu: apt-get install dataset-fashion-mnist  (installs /usr/share/datasets/fashion-mnist, a default data root)"
  fi
  if [[ "$name" == "mnist" ]]; then
    echo "Note: the MNIST train split is not mirrored offline; only the test split may be available locally."
  fi
  echo "Any ROOT/${name}/ works when ROOT is a data root (data.roots in the config, or FLOWOOD_DATA=DIR1:DIR2). See docs/datasets.md."
} >&2
exit 1
