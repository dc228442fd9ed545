#pragma once
/// data/manifest.tsv: one row per downloadable dataset file with its checksums and URL (see
/// data/README.md), and checking local files against it.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/data/roots.hpp"

namespace flowood::data {

/// One row of the manifest. '-' in the file becomes an empty string (unknown) or -1.
struct ManifestEntry {
  std::string dataset;     ///< spec name: "mnist", "fashion-mnist"
  std::string split;       ///< "train" / "test"
  std::string file;        ///< file name as flowood looks for it
  int64_t idx_bytes = -1;  ///< size of the decompressed content
  std::string idx_sha256;  ///< SHA-256 of the decompressed content (what is verified)
  std::string gz_sha256;   ///< SHA-256 of the file as stored
  std::string url;         ///< canonical download URL
  int64_t line = 0;        ///< line in the manifest, for messages
};

/// Reads a manifest (tab-separated; '#' lines are comments; the first other line is the header
/// `dataset split file idx_bytes idx_sha256 gz_sha256 url`). Throws DataError(path) naming the line
/// of a row with another number of fields, a bad size or a checksum that is not 64 hex digits.
std::vector<ManifestEntry> read_manifest(const std::string& path);

/// SHA-256 of a file's content after gzip decompression (a file that is not gzip is hashed as it
/// is) and the number of bytes hashed. Throws DataError(path) for unreadable or corrupt gzip data.
std::pair<std::string, int64_t> sha256_decompressed(const std::string& path);

/// Outcome of checking one manifest file.
struct VerifyResult {
  enum class Status { kOk, kMismatch, kMissing, kUnchecked };
  Status status = Status::kMissing;
  std::string path;                  ///< the file checked (empty when missing)
  std::string detail;                ///< what was compared, or why it failed
  std::vector<std::string> searched;  ///< where the file was looked for
};

/// Finds the entry's file — in `dir` when given, else in ROOT/<dataset>/ and in the directory where
/// the dataset's split is found, for every root — and checks it: the decompressed SHA-256 (and
/// size) against idx_sha256 when known, else the file's SHA-256 against gz_sha256; kUnchecked when
/// the manifest has neither.
VerifyResult verify_manifest_entry(const ManifestEntry& entry, const DataRoots& roots, const std::string& dir = {});

/// "ok", "MISMATCH", "missing", "unchecked".
const char* verify_status_name(VerifyResult::Status status);

}  // namespace flowood::data
