// The text and JSON of `flowood bench`: tables of the models and their speeds, the environment
// and the machine probes.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/experiment/bench.hpp"
#include "flowood/experiment/tables.hpp"
#include "flowood/flows/weight_norm.hpp"
#include "flowood/version.hpp"

namespace flowood::experiment {
namespace {

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
}  // namespace

std::string bench_rate(double v) { return rate(v); }

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
                                              "GFLOP/s", "eff. %", "peak MB", "layout"}};
  for (const auto& b : results) {
    for (const auto* p : {&b.train, &b.score}) {
      if (!*p) continue;
      const auto& r = **p;
      const bool train = p == &b.train;
      const double eff = limits && limits->conv_peak_gflops > 0 ? 100.0 * r.gflops_per_s / limits->conv_peak_gflops : std::nan("");
      rows.push_back({b.name, train ? "train" : "score", std::to_string(r.batch_size), fixed(r.per_batch.median_s, 3),
                      fixed(r.per_batch.min_s, 3) + "–" + fixed(r.per_batch.max_s, 3), rate(r.images_per_s),
                      rate(r.images_per_s_min) + "–" + rate(r.images_per_s_max), rate(r.gflops_per_s), fixed(eff, 0),
                      fixed(r.peak_rss_mb, 0) + (r.peak_rss_is_delta ? "" : "*"), flows::layout_name(r.layout.layout)});
    }
  }
  std::string out = align_columns(rows, 2);
  for (const auto& b : results)
    for (const auto* p : {&b.train, &b.score})
      if (*p) out += fmt::format("layout of {} {}: {}\n", b.name, p == &b.train ? "train" : "score", (*p)->layout.describe());
  return out;
}

/// "keep-freed" when main's keep_freed_memory applied (FLOWOOD_ALLOCATOR=keep-freed), else "system".
std::string allocator_name() { return env_or_empty("FLOWOOD_ALLOCATOR") == "keep-freed" ? "keep-freed" : "system"; }

io::Json environment_json(const BenchSettings& s, const BlasInfo& blas, double load_before) {
  const auto wait_policy = env_or_empty("OMP_WAIT_POLICY");
  return io::Json{
             {"flowood", FLOWOOD_VERSION_STRING},
             {"libtorch", libtorch_version()},
             {"onednn", at::get_mkldnn_version()},
             {"threads", static_cast<int64_t>(torch::get_num_threads())},
             {"cores", static_cast<int64_t>(std::thread::hardware_concurrency())},
             {"cpu", cpu_description()},
             {"load_average_before", load_before},
             {"competitors", s.contend},
             {"omp_wait_policy", wait_policy.empty() ? io::Json() : io::Json(wait_policy)},
             {"precision", s.precision},
             {"blas", blas.name},
             {"blas_path", blas.path.empty() ? io::Json() : io::Json(blas.path)},
             {"allocator", allocator_name()},
             {"inference_folding", flows::inference_folding()},
             {"warmup", s.warmup},
             {"steps", s.steps},
             {"score_warmup", s.score_warmup},
             {"score_steps", s.score_steps},
             {"flops_convention", "convolutions and Linear layers, multiply-add = 2 FLOPs; training counted as 3× the forward"}};
}

io::Json machine_json(const MachineLimits& m) {
  return io::Json{
             {"conv_nchw_gflops", m.conv_nchw_gflops},
             {"conv_channels_last_gflops", m.conv_channels_last_gflops},
             {"conv_peak_gflops", m.conv_peak_gflops},
             {"conv_probe", "3x3 conv 128->128, 14x14, batch 32, float32, best of >= 10 calls"},
             {"matmul_size", m.matmul_size},
             {"matmul_fp32_gflops", m.matmul_fp32_gflops},
             {"matmul_bf16_gflops", m.matmul_bf16_gflops ? io::Json(*m.matmul_bf16_gflops) : io::Json()},
             {"matmul_bf16_size", m.matmul_bf16_gflops ? io::Json(m.matmul_bf16_size) : io::Json()}};
}

void warn_if_busy(double load_before) {
  // Other processes' load, before ours starts: timings on a busy machine are low and noisy, and
  // with several threads OpenMP's spinning barriers make them far lower still (a 5–10× slowdown
  // measured with two compiler jobs on two cores), which OMP_WAIT_POLICY=PASSIVE avoids.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (load_before >= 0.5 * cores) {
    const bool spinning = torch::get_num_threads() > 1 && env_or_empty("OMP_WAIT_POLICY").empty();
    log().warn("the machine is busy (load average {:.1f} on {} cores): timings will be low and noisy{}", load_before,
               cores,
               spinning ? "; with several threads, OpenMP's spin-waiting can make them 5-10x lower "
                          "(OMP_WAIT_POLICY=PASSIVE avoids that)"
                        : "");
  }
}

void check_bench_settings(const BenchSettings& s) {
  if (s.steps < 1) throw ConfigError("--steps", fmt::format("must be >= 1 (got {})", s.steps));
  if (s.warmup < 0) throw ConfigError("--warmup", fmt::format("must be >= 0 (got {})", s.warmup));
  if (s.score_steps < 1) throw ConfigError("--score-steps", fmt::format("must be >= 1 (got {})", s.score_steps));
  if (s.score_warmup < 0) throw ConfigError("--score-warmup", fmt::format("must be >= 0 (got {})", s.score_warmup));
  if (s.batch_size < 0) throw ConfigError("--batch-size", fmt::format("must be >= 1 (got {})", s.batch_size));
  if (s.score_batch_size < 0)
    throw ConfigError("--score-batch-size", fmt::format("must be >= 1 (got {})", s.score_batch_size));
  if (s.contend < 0 || s.contend > 256) throw ConfigError("--contend", fmt::format("must be in 0..256 (got {})", s.contend));
}

std::string speed_footnote(const std::vector<ModelBench>& results) {
  const bool process_peak = std::any_of(results.begin(), results.end(),
                                        [](const ModelBench& b) { return b.train && !b.train->peak_rss_is_delta; });
  return std::string("median of the timed iterations (after warm-up); GFLOP/s = FLOPs per image × img/s with training "
                     "counted as 3× the forward;\neff. % = GFLOP/s / the conv probe's peak; peak MB = peak RSS during "
                     "the phase minus RSS before it") +
         (process_peak ? " (* = the process peak: the peak could not be reset)" : "") + "\n";
}

}  // namespace flowood::experiment
