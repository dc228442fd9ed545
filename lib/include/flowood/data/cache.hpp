#pragma once
/// An on-disk cache of decoded datasets, so that only the first run pays for decoding thousands of
/// JPEGs. Entries are raw uint8 tensors keyed by a fingerprint of the sources (paths, sizes,
/// modification times) and the decoding options: a changed source gives a new fingerprint, and the
/// stale entry is replaced.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"

namespace flowood::data {

/// Environment variable naming the cache directory; "off" (or "0", "none") disables the cache.
inline constexpr const char* kCacheEnvVar = "FLOWOOD_CACHE";

/// The cache directory: $FLOWOOD_CACHE, else $XDG_CACHE_HOME/flowood, else $HOME/.cache/flowood;
/// empty when disabled or when none of these is set.
std::string decoded_cache_dir();

/// Hex fingerprint of `what` (the loader, its version and options) and, for each of `files`, its
/// path, size and modification time. Throws DataError when a file cannot be stat'ed.
std::string source_fingerprint(const std::string& what, const std::vector<std::string>& files);

/// The cached dataset `name` (e.g. "cifar10-train") if an entry with this fingerprint exists and is
/// intact; `limit` > 0 keeps the first rows. A damaged entry is removed and nullopt returned.
/// The result has images and labels; spec and files are left to the caller.
std::optional<ImageDataset> read_decoded_cache(const std::string& name, const std::string& fingerprint,
                                               int64_t limit = 0);

/// Stores `data` (images and labels) as `name` with `fingerprint`, atomically, removing older
/// entries of the same name. Best effort: a failure (read-only disk, no space) is logged as a
/// warning and otherwise ignored. Returns the file written, or empty.
std::string write_decoded_cache(const std::string& name, const std::string& fingerprint, const ImageDataset& data);

}  // namespace flowood::data
