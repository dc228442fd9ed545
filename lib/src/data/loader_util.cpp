#include "loader_util.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/data/image_decode.hpp"

namespace flowood::data::detail {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

std::optional<std::string> find_user_path(const std::string& path, const DataRoots& roots, bool (*ok)(const fs::path&),
                                          std::vector<std::string>& tried) {
  tried.push_back(path);
  if (ok(path)) return path;
  if (fs::path(path).is_relative()) {
    for (const auto& root : roots.dirs) {
      const fs::path candidate = fs::path(root) / path;
      tried.push_back(candidate.string());
      if (ok(candidate)) return candidate.string();
    }
  }
  return std::nullopt;
}

std::string resolve_user_path(const std::string& path, const DataRoots& roots, bool want_dir, const std::string& what) {
  std::vector<std::string> tried;
  if (auto found = find_user_path(path, roots, want_dir ? &is_dir : &is_file, tried)) return *found;
  throw DataError(path, fmt::format("{} not found (tried {})", what, fmt::join(tried, ", ")));
}

std::vector<std::string> list_image_files(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (is_file(it->path()) && is_image_file_name(it->path().filename().string())) files.push_back(it->path().string());
  }
  if (ec) throw DataError(dir.string(), "cannot list directory: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

void apply_limit(ImageDataset& ds, int64_t limit) {
  if (limit <= 0 || !ds.images.defined() || limit >= ds.images.size(0)) return;
  ds.images = ds.images.narrow(0, 0, limit).contiguous();
  if (ds.labels.defined()) ds.labels = ds.labels.narrow(0, 0, limit).contiguous();
}

std::string roots_note() {
  return fmt::format("roots come from data.roots, then ${}, then {}", kDataRootsEnvVar,
                     fmt::join(default_data_roots(), " and "));
}

std::string fingerprint_for_cache(const std::string& what, const std::vector<std::string>& sources) {
  return source_fingerprint(what, sources);
}

std::optional<ImageDataset> cache_lookup(const std::string& cache_name, const std::string& fingerprint, int64_t limit) {
  return read_decoded_cache(cache_name, fingerprint, limit);
}

void cache_store(const std::string& cache_name, const std::string& fingerprint, const ImageDataset& ds) {
  write_decoded_cache(cache_name, fingerprint, ds);
}

}  // namespace flowood::data::detail
