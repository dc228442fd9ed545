#pragma once
// One register function per verb; each lives in its own cmd_<verb>.cpp.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace flowood::app {

void register_info(CLI::App& app);

/// Options shared by verbs that read an experiment: --config FILE and repeated --set key=value.
struct ConfigOptions {
  std::string config_path;
  std::vector<std::string> overrides;
};
void add_config_options(CLI::App& cmd, ConfigOptions& options, bool config_required);

}  // namespace flowood::app
