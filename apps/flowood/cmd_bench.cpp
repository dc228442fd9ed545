// flowood bench: training-step and scoring throughput of a model on synthetic inputs, its FLOPs
// per image, the peak memory of each phase, and the machine's convolution and matmul limits
// measured in the same process, so efficiencies compare numbers from one run.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/blas.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/experiment/bench.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "flowood/flows/weight_norm.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"

namespace flowood::app {
namespace {
namespace ex = experiment;

struct BenchOptions {
  ConfigOptions config;
  std::string builtin;
  ex::BenchSettings settings;
  std::string json_path;
  bool probe_only = false;
  bool no_probe = false;
  bool plain = false;  ///< inference folding off (the plain path)
};

/// The configs to measure and each one's reference parameter count (0: none).
std::vector<std::pair<config::ExperimentConfig, int64_t>> configs_of(const BenchOptions& o) {
  std::vector<std::pair<config::ExperimentConfig, int64_t>> out;
  if (o.probe_only || o.builtin.empty()) {
    if (o.config.config_path.empty() && !o.probe_only)
      throw ConfigError("--config", "give --config EXPERIMENT.yaml or --builtin NAME|all (flowood bench --help)");
    out.emplace_back(load_config(o.config.config_path, o.config.overrides).config, 0);  // probe only: for threads
    return out;
  }
  if (!o.config.config_path.empty()) throw ConfigError("--builtin", "give --config or --builtin, not both");
  std::vector<std::string> names;
  for (const auto& b : ex::bench_builtins()) {
    names.push_back(b.name);
    if (o.builtin != "all" && o.builtin != b.name) continue;
    auto overrides = b.overrides;
    overrides.insert(overrides.end(), o.config.overrides.begin(), o.config.overrides.end());
    out.emplace_back(load_config("", overrides).config, b.reference_parameters);
  }
  if (out.empty())
    throw ConfigError("--builtin", fmt::format("unknown built-in '{}' (valid: {}, all)", o.builtin, fmt::join(names, ", ")));
  return out;
}

void run_bench(const BenchOptions& o) {
  const auto& s = o.settings;
  ex::check_bench_settings(s);
  if (!o.probe_only) ex::check_precision(s.precision);
  if (!o.json_path.empty()) io::check_output_path(o.json_path, "--json");
  const auto configs = configs_of(o);
  const double load_before = ex::load_average();
  const ex::BusyCompetitors competitors(s.contend);  // started first: the thread choice sees them
  ex::apply_threads(configs.front().first);
  ex::warn_if_busy(load_before);
  const auto blas = detect_blas();  // apply_threads warned if it is the reference BLAS
  if (o.plain) flows::set_inference_folding(false);
  const int threads = torch::get_num_threads();
  std::cout << fmt::format("flowood bench on {}: libtorch {}, {} thread{}, BLAS {}{}, allocator {}, inference "
                           "folding {}, precision {}, load average {:.2f}{}\n",
                           cpu_description(), ex::libtorch_version(), threads, threads == 1 ? "" : "s", blas.name,
                           blas.path.empty() ? "" : " (" + blas.path + ")", ex::allocator_name(),
                           flows::inference_folding() ? "on" : "off", s.precision, load_before,
                           s.contend > 0 ? fmt::format(", {} busy-looping competitor(s)", s.contend) : "");

  std::optional<ex::MachineLimits> limits;
  if (o.probe_only || (!o.no_probe && !s.count_only)) {
    log().info("probing the machine's convolution and matmul throughput");
    limits = ex::probe_machine(s.precision == "bf16");
    std::cout << ex::machine_lines(*limits);
  }
  auto json = ex::environment_json(s, blas, load_before);
  if (limits) json["machine"] = ex::machine_json(*limits);
  if (o.probe_only) {
    if (!o.json_path.empty()) io::write_json_file(o.json_path, json);
    return;
  }

  std::vector<ex::ModelBench> results;
  for (const auto& [cfg, reference] : configs) {
    ex::apply_threads(cfg);
    log().info("{}: {}", cfg.name,
               s.count_only ? "building and counting FLOPs"
                            : fmt::format("{} + {} training steps, {} + {} scoring batches", s.warmup, s.steps,
                                          s.score_warmup, s.score_steps));
    const auto& b = results.emplace_back(ex::bench_model(cfg, s, reference));
    if (b.reference_parameters > 0 && b.reference_parameters != b.parameters)
      log().warn("{}: {} parameters, but the reference model has {}", b.name, b.parameters, b.reference_parameters);
    if (b.train)
      log().info("{}: train {} img/s, score {} img/s", b.name, ex::bench_rate(b.train->images_per_s),
                 ex::bench_rate(b.score->images_per_s));
  }

  json["load_average_after"] = ex::load_average();
  std::cout << "\n" << ex::models_table(results);
  if (!s.count_only)
    std::cout << "\n" << ex::speed_table(results, limits ? &*limits : nullptr) << "\n" << ex::speed_footnote(results);
  if (o.json_path.empty()) return;
  auto models = io::Json::array();
  for (const auto& b : results) models.push_back(ex::to_json(b, limits ? &*limits : nullptr));
  if (results.size() == 1) models.front().update(json);  // one model: its fields, then the run's environment
  else json["models"] = models;
  io::write_json_file(o.json_path, results.size() == 1 ? models.front() : json);
}
}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench", "Time training steps and scoring of a model on synthetic inputs; FLOPs, memory, machine limits");
  add_config_options(*cmd, o->config, false);
  cmd->add_option("--builtin", o->builtin,
                  "A built-in model: fashionmnist_realnvp, small_realnvp, bottleneck_l50, fashionmnist_glow, "
                  "celeba_realnvp, or all")
      ->type_name("NAME");
  cmd->add_option("--batch-size", o->settings.batch_size, "Training batch (default: train.batch_size)");
  cmd->add_option("--score-batch-size", o->settings.score_batch_size, "Scoring batch (default: score.batch_size)");
  cmd->add_option("--precision", o->settings.precision, "fp32, or bf16: st-networks under bfloat16 autocast (see docs/performance.md)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--steps", o->settings.steps, "Timed training steps (default 10)");
  cmd->add_option("--warmup", o->settings.warmup, "Training steps before timing (default 2)");
  cmd->add_option("--score-steps", o->settings.score_steps, "Timed scoring batches (default 5)");
  cmd->add_option("--score-warmup", o->settings.score_warmup, "Scoring batches before timing (default 1)");
  cmd->add_option("--json", o->json_path, "Also write the results as JSON to FILE (atomically)")->type_name("FILE");
  cmd->add_flag("--count-only", o->settings.count_only, "Build the models and count FLOPs; time nothing");
  cmd->add_option("--contend", o->settings.contend, "N busy-looping processes compete for the CPUs meanwhile (default 0)");
  cmd->add_flag("--no-probe", o->no_probe, "Skip the machine probes (no efficiencies)");
  cmd->add_flag("--plain", o->plain,
                "Score without inference folding (weight norm recomputed, batch norm not folded) to compare");
  auto* probe_only = cmd->add_flag("--probe-only", o->probe_only, "Only the machine probes (threads from --config/--set)");
  probe_only->excludes("--builtin");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace flowood::app
