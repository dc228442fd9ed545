// flowood embed: the features of a dataset under an extractor — an embedding run's (--run) or one
// named directly (--extractor torchscript:PATH) — written as .npz (embeddings [N, D] float32,
// labels, and logits for a classifier), the layout npz:FILE#embeddings reads back.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/data/features.hpp"
#include "flowood/experiment/embeddings.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::app {
namespace {
struct EmbedOptions {
  std::string run_dir;
  std::string extractor;
  std::string data;
  std::string out;
  int64_t limit = 0;
  std::string device;
  std::vector<std::string> overrides;
};

void run_embed(const EmbedOptions& o) {
  if (o.run_dir.empty() == o.extractor.empty())
    throw ConfigError("--run", "give either --run DIR (an embedding run) or --extractor SPEC, not both or neither");
  io::check_output_path(o.out, "--out");
  config::ExperimentConfig cfg;
  if (!o.run_dir.empty()) {
    const auto config_path = experiment::RunPaths{o.run_dir}.config();
    if (!std::filesystem::is_regular_file(config_path))
      throw IoError(o.run_dir, "not a run directory (no config.yaml)");
    cfg = load_config(config_path, o.overrides).config;
    if (!experiment::is_embedding_run(cfg))
      throw ConfigError("embedding.extractor", fmt::format("{} is not an embedding run (its config sets no "
                                                           "embedding.extractor); use --extractor SPEC", o.run_dir));
  } else {
    auto overrides = o.overrides;
    overrides.push_back("embedding.extractor=" + o.extractor);
    if (o.extractor == "classifier")
      throw ConfigError("--extractor", "classifier is trained by a run: give --run DIR of an embedding run instead");
    // The flow keys do not matter here: only embedding.* and data.roots are used.
    for (const char* flow_key : {"model.flow=tabular", "model.in_shape=[2]", "model.masks=[tabular x1]", "model.st_net=mlp"})
      overrides.insert(overrides.begin(), flow_key);
    cfg = load_config("", overrides).config;
  }
  if (!o.device.empty()) cfg.device = o.device;
  const auto e = experiment::embeddings_of(cfg, o.run_dir, o.data, o.limit);
  std::vector<std::pair<std::string, torch::Tensor>> arrays = {{"embeddings", e.features}};
  if (e.labels.defined()) arrays.emplace_back("labels", e.labels);
  if (e.logits.defined()) arrays.emplace_back("logits", e.logits);
  data::write_npz(o.out, arrays);
  std::cout << fmt::format("{}: {} × {} embeddings{}{}\n", o.out, e.features.size(0), e.features.size(1),
                           e.labels.defined() ? ", labels" : "", e.logits.defined() ? ", logits" : "");
}
}  // namespace

void register_embed(CLI::App& app) {
  auto o = std::make_shared<EmbedOptions>();
  auto* cmd = app.add_subcommand("embed", "Write a dataset's features under an extractor as .npz (embeddings, labels, logits)");
  cmd->add_option("--run", o->run_dir, "Embedding run directory (its extractor; embeddings cached there)");
  cmd->add_option("--extractor", o->extractor, "Extractor without a run: torchscript:PATH");
  cmd->add_option("--data", o->data, "Dataset spec: NAME[:SPLIT] or KIND:PATH[?OPTIONS]")->required();
  cmd->add_option("--out", o->out, ".npz file to write")->required();
  cmd->add_option("--limit", o->limit, "Embed only the first N examples")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device, else auto)");
  cmd->add_option("--set", o->overrides, "Override a config key, e.g. embedding.resize=[224,224] (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->callback([o] { run_embed(*o); });
}

}  // namespace flowood::app
