// flowood bench: training-step and scoring throughput of a model on synthetic inputs, its FLOPs
// per image, the peak memory of each phase, and the machine's convolution and matmul limits
// measured in the same process, so efficiencies compare numbers from one run.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "bench.hpp"
#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/blas.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/weight_norm.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json.hpp"
#include "run_dir.hpp"
#include "tables.hpp"
#include "flowood/version.hpp"

namespace flowood::app {
namespace {

struct BenchOptions {
  ConfigOptions config;
  std::string builtin;
  BenchSettings settings;
  std::string json_path;
  bool probe_only = false;
  bool no_probe = false;
  bool plain = false;  ///< inference folding off (the plain path)
};

// 14707336 → "14,707,336".
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a"; }

// Three significant digits for rates that span 0.1 to 10,000.
std::string rate(double v) {
  if (!std::isfinite(v)) return "n/a";
  return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

// The 1-minute load average (NaN where /proc/loadavg is unreadable).
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = std::nan("");
  in >> load;
  return in ? load : std::nan("");
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::vector<LoadedConfig> configs_of(const BenchOptions& o, std::vector<int64_t>& reference_parameters) {
  std::vector<LoadedConfig> out;
  if (!o.builtin.empty()) {
    if (!o.config.config_path.empty()) throw ConfigError("--builtin", "give --config or --builtin, not both");
    std::vector<std::string> names;
    bool found = false;
    for (const auto& b : bench_builtins()) {
      names.push_back(b.name);
      if (o.builtin != "all" && o.builtin != b.name) continue;
      found = true;
      auto overrides = b.overrides;
      overrides.insert(overrides.end(), o.config.overrides.begin(), o.config.overrides.end());
      out.push_back(load_config("", overrides));
      reference_parameters.push_back(b.reference_parameters);
    }
    if (!found)
      throw ConfigError("--builtin", fmt::format("unknown built-in '{}' (valid: {}, all)", o.builtin, fmt::join(names, ", ")));
    return out;
  }
  if (o.config.config_path.empty())
    throw ConfigError("--config", "give --config EXPERIMENT.yaml or --builtin NAME|all (flowood bench --help)");
  out.push_back(load_config(o.config.config_path, o.config.overrides));
  reference_parameters.push_back(0);
  return out;
}

std::string machine_lines(const MachineLimits& m) {
  std::string s = fmt::format(
      "machine: 3×3 conv 128→128 14×14 batch 32 fp32: NCHW {} GFLOP/s, channels-last {} GFLOP/s (peak {})\n",
      rate(m.conv_nchw_gflops), rate(m.conv_channels_last_gflops), rate(m.conv_peak_gflops));
  s += fmt::format("         {}² matmul fp32: {} GFLOP/s", m.matmul_size, rate(m.matmul_fp32_gflops));
  if (m.matmul_bf16_gflops) s += fmt::format("; {}² matmul bf16: {} GFLOP/s", m.matmul_bf16_size, rate(*m.matmul_bf16_gflops));
  return s + "\n";
}

std::string models_table(const std::vector<ModelBench>& results) {
  std::vector<std::vector<std::string>> rows{
      {"model", "flow", "input", "parameters", "reference", "check", "GFLOP/image fwd", "conv", "linear"}};
  for (const auto& b : results) {
    const auto& ref = b.reference_parameters;
    rows.push_back({b.name, b.family, fmt::format("{}", fmt::join(b.input_shape, "x")), grouped(b.parameters),
                    ref > 0 ? grouped(ref) : "-", ref > 0 ? (ref == b.parameters ? "ok" : "MISMATCH") : "-",
                    fixed(static_cast<double>(b.forward_flops) / 1e9, 3),
                    fixed(static_cast<double>(b.forward_conv_flops) / 1e9, 3),
                    fixed(static_cast<double>(b.forward_linear_flops) / 1e9, 3)});
  }
  return align_columns(rows, 3);
}

std::string speed_table(const std::vector<ModelBench>& results, const MachineLimits* limits) {
  std::vector<std::vector<std::string>> rows{{"model", "phase", "batch", "s/batch", "min–max s", "img/s", "min–max img/s",
                                              "GFLOP/s", "eff. %", "peak MB"}};
  for (const auto& b : results) {
    for (const auto* p : {&b.train, &b.score}) {
      if (!*p) continue;
      const auto& r = **p;
      const bool train = p == &b.train;
      const double eff = limits && limits->conv_peak_gflops > 0 ? 100.0 * r.gflops_per_s / limits->conv_peak_gflops : std::nan("");
      rows.push_back({b.name, train ? "train" : "score", std::to_string(r.batch_size), fixed(r.per_batch.median_s, 3),
                      fixed(r.per_batch.min_s, 3) + "–" + fixed(r.per_batch.max_s, 3), rate(r.images_per_s),
                      rate(r.images_per_s_min) + "–" + rate(r.images_per_s_max), rate(r.gflops_per_s), fixed(eff, 0),
                      fixed(r.peak_rss_mb, 0) + (r.peak_rss_is_delta ? "" : "*")});
    }
  }
  return align_columns(rows, 2);
}

/// "keep-freed" when main's keep_freed_memory applied (FLOWOOD_ALLOCATOR=keep-freed), else "system".
std::string allocator_name() { return env_or_empty("FLOWOOD_ALLOCATOR") == "keep-freed" ? "keep-freed" : "system"; }

io::Json environment_json(const BenchOptions& o, const BlasInfo& blas, double load_before) {
  const auto wait_policy = env_or_empty("OMP_WAIT_POLICY");
  return io::Json::object()
      .set("flowood", FLOWOOD_VERSION_STRING)
      .set("libtorch", libtorch_version())
      .set("onednn", at::get_mkldnn_version())
      .set("threads", static_cast<int64_t>(torch::get_num_threads()))
      .set("cores", static_cast<int64_t>(std::thread::hardware_concurrency()))
      .set("load_average_before", load_before)
      .set("omp_wait_policy", wait_policy.empty() ? io::Json() : io::Json(wait_policy))
      .set("precision", o.settings.precision)
      .set("blas", blas.name)
      .set("blas_path", blas.path.empty() ? io::Json() : io::Json(blas.path))
      .set("allocator", allocator_name())
      .set("inference_folding", flows::inference_folding())
      .set("warmup", o.settings.warmup)
      .set("steps", o.settings.steps)
      .set("score_warmup", o.settings.score_warmup)
      .set("score_steps", o.settings.score_steps)
      .set("flops_convention",
           "convolutions and Linear layers, multiply-add = 2 FLOPs; training counted as 3× the forward");
}

io::Json machine_json(const MachineLimits& m) {
  return io::Json::object()
      .set("conv_nchw_gflops", m.conv_nchw_gflops)
      .set("conv_channels_last_gflops", m.conv_channels_last_gflops)
      .set("conv_peak_gflops", m.conv_peak_gflops)
      .set("conv_probe", "3x3 conv 128->128, 14x14, batch 32, float32, best of >= 10 calls")
      .set("matmul_size", m.matmul_size)
      .set("matmul_fp32_gflops", m.matmul_fp32_gflops)
      .set("matmul_bf16_gflops", m.matmul_bf16_gflops ? io::Json(*m.matmul_bf16_gflops) : io::Json())
      .set("matmul_bf16_size", m.matmul_bf16_gflops ? io::Json(m.matmul_bf16_size) : io::Json());
}

void run_bench(const BenchOptions& o) {
  const auto& s = o.settings;
  if (s.steps < 1) throw ConfigError("--steps", fmt::format("must be >= 1 (got {})", s.steps));
  if (s.warmup < 0) throw ConfigError("--warmup", fmt::format("must be >= 0 (got {})", s.warmup));
  if (s.score_steps < 1) throw ConfigError("--score-steps", fmt::format("must be >= 1 (got {})", s.score_steps));
  if (s.score_warmup < 0) throw ConfigError("--score-warmup", fmt::format("must be >= 0 (got {})", s.score_warmup));
  if (s.batch_size < 0) throw ConfigError("--batch-size", fmt::format("must be >= 1 (got {})", s.batch_size));
  if (s.score_batch_size < 0)
    throw ConfigError("--score-batch-size", fmt::format("must be >= 1 (got {})", s.score_batch_size));
  if (!o.probe_only) check_precision(s.precision);
  if (!o.json_path.empty()) io::check_output_path(o.json_path, "--json");

  std::vector<int64_t> references;
  std::vector<LoadedConfig> configs;
  if (o.probe_only) {
    configs.push_back(load_config(o.config.config_path, o.config.overrides));  // for threads
    references.push_back(0);
  } else {
    configs = configs_of(o, references);
  }
  for (const auto& loaded : configs)
    for (const auto& w : loaded.warnings) log().warn("{}", w);
  apply_threads(configs.front().config);

  // Other processes' load, before ours starts: timings on a busy machine are low and noisy, and
  // with several threads OpenMP's spinning barriers make them far lower still (a 5–10× slowdown
  // measured with two compiler jobs on two cores), which OMP_WAIT_POLICY=PASSIVE avoids.
  const double load_before = load_average();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (load_before >= 0.5 * cores) {
    const bool spinning = torch::get_num_threads() > 1 && env_or_empty("OMP_WAIT_POLICY").empty();
    log().warn("the machine is busy (load average {:.1f} on {} cores): timings will be low and noisy{}", load_before,
               cores,
               spinning ? "; with several threads, OpenMP's spin-waiting can make them 5-10x lower "
                          "(OMP_WAIT_POLICY=PASSIVE avoids that)"
                        : "");
  }
  const auto blas = detect_blas();  // apply_threads warned if it is the reference BLAS
  if (o.plain) flows::set_inference_folding(false);
  const int threads = torch::get_num_threads();
  std::cout << fmt::format("flowood bench: libtorch {}, {} thread{}, BLAS {}{}, allocator {}, inference folding {}, "
                           "precision {}, load average {:.2f}\n",
                           libtorch_version(), threads, threads == 1 ? "" : "s", blas.name,
                           blas.path.empty() ? "" : " (" + blas.path + ")", allocator_name(),
                           flows::inference_folding() ? "on" : "off", s.precision, load_before);

  std::optional<MachineLimits> limits;
  if (o.probe_only || (!o.no_probe && !s.count_only)) {
    log().info("probing the machine's convolution and matmul throughput");
    limits = probe_machine(s.precision == "bf16");
    std::cout << machine_lines(*limits);
  }
  auto json = environment_json(o, blas, load_before);
  if (limits) json.set("machine", machine_json(*limits));
  if (o.probe_only) {
    if (!o.json_path.empty()) io::write_json_file(o.json_path, json);
    return;
  }

  std::vector<ModelBench> results;
  for (size_t i = 0; i < configs.size(); ++i) {
    const auto& cfg = configs[i].config;
    apply_threads(cfg);
    log().info("{}: {}", cfg.name,
               s.count_only ? "building and counting FLOPs"
                            : fmt::format("{} + {} training steps, {} + {} scoring batches", s.warmup, s.steps,
                                          s.score_warmup, s.score_steps));
    results.push_back(bench_model(configs[i], s, references[i]));
    const auto& b = results.back();
    if (b.reference_parameters > 0 && b.reference_parameters != b.parameters)
      log().warn("{}: {} parameters, but the reference model has {}", b.name, b.parameters, b.reference_parameters);
    if (b.train)
      log().info("{}: train {} img/s, score {} img/s", b.name, rate(b.train->images_per_s), rate(b.score->images_per_s));
  }

  json.set("load_average_after", load_average());
  std::cout << "\n" << models_table(results);
  if (!s.count_only) {
    std::cout << "\n" << speed_table(results, limits ? &*limits : nullptr);
    std::cout << "\nmedian of the timed iterations (after warm-up); GFLOP/s = FLOPs per image × img/s with training "
                 "counted as 3× the forward;\neff. % = GFLOP/s / the conv probe's peak; peak MB = peak RSS during "
                 "the phase minus RSS before it"
              << (std::any_of(results.begin(), results.end(),
                              [](const ModelBench& b) { return b.train && !b.train->peak_rss_is_delta; })
                      ? " (* = the process peak: the peak could not be reset)"
                      : "")
              << "\n";
  }

  if (!o.json_path.empty()) {
    if (results.size() == 1) {
      auto one = to_json(results.front(), limits ? &*limits : nullptr);
      for (size_t k = 0; k < json.keys().size(); ++k) one.set(json.keys()[k], json.values()[k]);
      io::write_json_file(o.json_path, one);
    } else {
      auto models = io::Json::array();
      for (const auto& b : results) models.push_back(to_json(b, limits ? &*limits : nullptr));
      json.set("models", models);
      io::write_json_file(o.json_path, json);
    }
  }
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
  cmd->add_flag("--no-probe", o->no_probe, "Skip the machine probes (no efficiencies)");
  cmd->add_flag("--plain", o->plain,
                "Score without inference folding (weight norm recomputed, batch norm not folded) to compare");
  auto* probe_only = cmd->add_flag("--probe-only", o->probe_only, "Only the machine probes (threads from --config/--set)");
  probe_only->excludes("--builtin");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace flowood::app
