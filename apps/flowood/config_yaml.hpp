#pragma once
// The one YAML reader: experiment files and --set overrides → ExperimentConfig, and the
// resolved config back to YAML. Every error names the file, line and key.
#include <map>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"

namespace flowood::app {

struct LoadedConfig {
  config::ExperimentConfig config;
  std::string source;                    ///< file path ("" for defaults only)
  std::map<std::string, int> key_lines;  ///< key → 1-based line in the file
  std::vector<std::string> warnings;     ///< "file:line: key message" of usable-but-suspect values (logged)
};

/// Reads `path` (empty: defaults), applies `overrides` ("key.path=value", value parsed as
/// YAML), validates. Throws ConfigError listing every problem as "file:line: key message".
LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides);

/// The whole config as YAML, every key (the resolved config of a run).
std::string to_yaml(const config::ExperimentConfig& config);

/// Every key with its default and doc, as YAML with comments (docs/config.md is built from it).
std::string reference_yaml();

}  // namespace flowood::app
