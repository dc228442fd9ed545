// flowood train: train (or resume) a flow into a run directory.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "progress.hpp"

namespace flowood::app {
namespace {
struct TrainOptions {
  ConfigOptions config;
  std::string run_dir;
};

void run_train(const TrainOptions& o) {
  // Without --config, an existing run directory supplies its own config (resume).
  std::string config_path = o.config.config_path;
  if (config_path.empty()) {
    if (o.run_dir.empty() || !std::filesystem::exists(experiment::RunPaths{o.run_dir}.config()))
      throw ConfigError("--config", "needed (or a --run-dir holding a config.yaml to resume)");
    config_path = experiment::RunPaths{o.run_dir}.config();
  }
  const auto config = load_config(config_path, o.config.overrides).config;
  const auto run = experiment::run_paths(o.run_dir, config);
  const auto result = train_in_terminal(config, run);
  std::cout << run.dir << "\n";
  if (result.stopped) throw StoppedEarly(result.steps);
}
}  // namespace

void register_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a flow (resumes when the run directory has a checkpoint)");
  add_config_options(*cmd, o->config, false);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (default: runs/<name>)");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace flowood::app
