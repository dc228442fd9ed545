#pragma once
// Helpers shared by the loaders in lib/src/data (not installed, not part of the API).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/data/spec.hpp"

namespace flowood::data::detail {

namespace fs = std::filesystem;

bool is_file(const fs::path& p);
bool is_dir(const fs::path& p);

/// A user-given path that satisfies `ok`: as written, else (when relative) under each root in
/// order; nullopt when none does. Every candidate looked at is appended to `tried`.
std::optional<std::string> find_user_path(const std::string& path, const DataRoots& roots, bool (*ok)(const fs::path&),
                                          std::vector<std::string>& tried);

/// A user-given path: as written when it exists, else (when relative) under each root in order.
/// Throws DataError(path) listing what was tried. `want_dir` selects directories instead of files.
std::string resolve_user_path(const std::string& path, const DataRoots& roots, bool want_dir, const std::string& what);

/// Image files under `dir` (recursively), sorted by path.
std::vector<std::string> list_image_files(const fs::path& dir);

/// The first `limit` rows of a dataset (all when limit <= 0).
void apply_limit(ImageDataset& ds, int64_t limit);

/// "… (roots come from data.roots, then $FLOWOOD_DATA, then ./data and /usr/share/datasets)".
std::string roots_note();

/// Decodes images through the decoded-data cache: the entry `cache_name` with a fingerprint of
/// `what` and `sources` is used when present; otherwise `decode()` runs, and a complete (limit 0)
/// result is stored. Returns images and labels.
template <typename Decode>
ImageDataset cached_decode(const std::string& cache_name, const std::string& what,
                           const std::vector<std::string>& sources, int64_t limit, Decode decode);

std::string fingerprint_for_cache(const std::string& what, const std::vector<std::string>& sources);
std::optional<ImageDataset> cache_lookup(const std::string& cache_name, const std::string& fingerprint, int64_t limit);
void cache_store(const std::string& cache_name, const std::string& fingerprint, const ImageDataset& ds);

template <typename Decode>
ImageDataset cached_decode(const std::string& cache_name, const std::string& what,
                           const std::vector<std::string>& sources, int64_t limit, Decode decode) {
  const std::string fp = fingerprint_for_cache(what, sources);
  if (auto hit = cache_lookup(cache_name, fp, limit)) return std::move(*hit);
  ImageDataset ds = decode();
  if (limit <= 0) cache_store(cache_name, fp, ds);
  return ds;
}

}  // namespace flowood::data::detail
