#pragma once
// The one YAML reader: experiment files and --set overrides → ExperimentConfig, and the
// resolved config back to YAML. Every error names the file, line and key.
#include <map>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/sweep.hpp"

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

/// Reads config YAML held in memory (a checkpoint's stored config); errors name `source`.
LoadedConfig load_config_text(const std::string& text, const std::string& source);

/// The whole config as YAML, every key (the resolved config of a run).
std::string to_yaml(const config::ExperimentConfig& config);

/// Reads a sweep grid file (base, name, dir, set, axes, slurm; docs/cli.md#sweep); `dir` overrides
/// the grid's dir (default runs/sweeps/<name>). Errors name the grid file.
experiment::SweepGrid read_sweep_grid(const std::string& grid_path, const std::string& dir);

/// load_config and to_yaml as the library's codec (experiment/config_codec.hpp).
const experiment::ConfigCodec& yaml_codec();

/// Every key with its default and doc, as YAML with comments (docs/config.md is built from it).
std::string reference_yaml();

}  // namespace flowood::app
