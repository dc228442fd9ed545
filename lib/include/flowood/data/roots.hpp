#pragma once
/// Where named datasets are searched for: an ordered list of root directories.
#include <string>
#include <vector>

namespace flowood::data {

/// Environment variable holding extra data roots, colon-separated like PATH.
inline constexpr const char* kDataRootsEnvVar = "FLOWOOD_DATA";

/// Roots searched last, in this order.
std::vector<std::string> default_data_roots();  // {"./data", "/usr/share/datasets"}

/// Splits a colon-separated list; empty entries are dropped.
std::vector<std::string> split_search_path(const std::string& value);

/// The ordered search list. The first root holding a dataset wins.
struct DataRoots {
  std::vector<std::string> dirs;

  /// `configured` (the config key data.roots, in order), then $FLOWOOD_DATA (colon-separated),
  /// then default_data_roots(). Empty entries and later duplicates (same normalized path) are
  /// dropped; a trailing '/' is removed. Relative paths stay relative to the working directory.
  static DataRoots from(const std::vector<std::string>& configured);
};

}  // namespace flowood::data
