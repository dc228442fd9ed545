#pragma once
// One register function per verb; each lives in its own cmd_<verb>.cpp.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace flowood::app {

void register_info(CLI::App& app);
void register_train(CLI::App& app);
void register_score(CLI::App& app);
void register_run(CLI::App& app);
void register_auroc(CLI::App& app);
void register_histogram(CLI::App& app);
void register_visualize_latents(CLI::App& app);
void register_visualize_coupling(CLI::App& app);
void register_measures(CLI::App& app);
void register_sample(CLI::App& app);
void register_data(CLI::App& app);
void register_report(CLI::App& app);
void register_sweep(CLI::App& app);
void register_aggregate(CLI::App& app);
void register_bench(CLI::App& app);
void register_embed(CLI::App& app);
void register_import(CLI::App& app);
void register_curve(CLI::App& app);

/// Options shared by verbs that read an experiment: --config FILE and repeated --set key=value.
struct ConfigOptions {
  std::string config_path;
  std::vector<std::string> overrides;
};
void add_config_options(CLI::App& cmd, ConfigOptions& options, bool config_required);

/// Thrown by a verb that stopped early on purpose (a signal during training): main exits with
/// experiment::kExitStoppedResumable after the verb has written its checkpoint.
struct StoppedEarly : std::runtime_error {
  explicit StoppedEarly(int64_t step)
      : std::runtime_error("stopped at step " + std::to_string(step) + "; run again to resume") {}
};

}  // namespace flowood::app
