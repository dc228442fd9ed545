#pragma once
/// How experiment configs become text and back. The library never parses YAML: the program that
/// links it (the flowood binary: apps/flowood/config_yaml.hpp) hands over its reader and writer,
/// and the library calls them where a stored config must be read (a run directory's config.yaml,
/// an auxiliary run) or written (config.yaml, the copy inside checkpoints, sweep configs).
#include <functional>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"

namespace flowood::experiment {

struct ConfigCodec {
  /// Reads the experiment file `path` (empty: the defaults), applies `overrides` ("key.path=value")
  /// and validates; throws ConfigError naming the file, line and key.
  std::function<config::ExperimentConfig(const std::string& path, const std::vector<std::string>& overrides)> read;
  /// The whole config as text, every key (what `read` reads back to an equal config).
  std::function<std::string(const config::ExperimentConfig&)> write;
  /// Reads config text as `write` wrote it (the copy stored in a checkpoint); `source` names it in
  /// errors. Throws ConfigError.
  std::function<config::ExperimentConfig(const std::string& text, const std::string& source)> parse;
};

}  // namespace flowood::experiment
