// flowood info: the model an experiment describes, its layers and parameter count.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include <torch/torch.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/blas.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/factory.hpp"

namespace flowood::app {
namespace {
struct InfoOptions {
  ConfigOptions config;
  bool resolved = false;
  bool reference = false;
};

void run_info(const InfoOptions& o) {
  if (o.reference) {
    std::cout << reference_yaml();
    return;
  }
  const auto loaded = load_config(o.config.config_path, o.config.overrides);
  if (o.resolved) {
    std::cout << to_yaml(loaded.config);
    return;
  }
  torch::manual_seed(static_cast<uint64_t>(loaded.config.seed));
  const auto model = flows::make_flow(loaded.config.model);
  std::cout << "experiment: " << loaded.config.name << "\n";
  if (const auto& e = loaded.config.embedding; e.extractor == "classifier")
    std::cout << fmt::format("extractor: ResNet classifier (width {}, {} block{} per stage, {} features) trained on the "
                             "labels of {} ({} epochs)\n",
                             e.width, e.depth, e.depth == 1 ? "" : "s", 4 * e.width, loaded.config.data.train, e.epochs);
  else if (!e.extractor.empty())
    std::cout << "extractor: " << e.extractor << " (its output, flattened, is the flow's input)\n";
  std::cout << model->summary();
  // To stderr: Linear layers (bottleneck st-nets, tabular and embedding flows) are ~35× slower.
  if (const auto blas = detect_blas(); blas.is_reference()) log().warn("{}", blas_warning(blas));
}
}  // namespace

void register_info(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Print the model an experiment describes and its parameter count");
  add_config_options(*cmd, o->config, false);
  cmd->add_flag("--resolved", o->resolved, "Print the resolved config (defaults < YAML < --set) as YAML instead");
  cmd->add_flag("--reference", o->reference, "Print every config key with its default and meaning");
  cmd->callback([o] { run_info(*o); });
}

}  // namespace flowood::app
