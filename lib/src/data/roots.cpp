#include "flowood/data/roots.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace flowood::data {
namespace {

std::string strip_trailing_slashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

std::vector<std::string> default_data_roots() { return {"./data", "/usr/share/datasets"}; }

std::vector<std::string> split_search_path(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t end = std::min(value.find(':', start), value.size());
    if (end > start) out.push_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

DataRoots DataRoots::from(const std::vector<std::string>& configured) {
  std::vector<std::string> candidates = configured;
  if (const char* env = std::getenv(kDataRootsEnvVar)) {
    for (auto& dir : split_search_path(env)) candidates.push_back(std::move(dir));
  }
  for (auto& dir : default_data_roots()) candidates.push_back(std::move(dir));

  DataRoots roots;
  std::vector<std::string> seen;  // normalized forms, so "./data" and "data/" count once
  for (auto& dir : candidates) {
    if (dir.empty()) continue;
    std::string normalized = strip_trailing_slashes(std::filesystem::path(dir).lexically_normal().string());
    if (std::find(seen.begin(), seen.end(), normalized) != seen.end()) continue;
    seen.push_back(std::move(normalized));
    roots.dirs.push_back(strip_trailing_slashes(dir));
  }
  return roots;
}

}  // namespace flowood::data
