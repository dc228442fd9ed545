// Options shared by several verbs.
#include "commands.hpp"

namespace flowood::app {
void add_config_options(CLI::App& cmd, ConfigOptions& o, bool required) {
  auto* opt = cmd.add_option("--config,-c", o.config_path, "Experiment YAML file");
  if (required) opt->required();
  cmd.add_option("--set", o.overrides, "Override a config key: key.path=value (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);  // one value per --set, so a positional argument after it stays positional
}
}  // namespace flowood::app
