#pragma once
/// flowood bench: the built-in benchmark models, the machine probes and the timing of one model's
/// training step and scoring on synthetic inputs. The binary formats what these return.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/core/blas.hpp"
#include "flowood/experiment/layout_choice.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/io/json_file.hpp"

namespace flowood::experiment {

/// A built-in benchmark: an experiment as `--set` overrides of the defaults (so user --set
/// overrides apply on top), and the parameter count of the authors' model
/// (../shared/baselines/reference-cpu.md).
struct BenchBuiltin {
  std::string name;
  std::string description;
  std::vector<std::string> overrides;
  int64_t reference_parameters = 0;
};

/// fashionmnist_realnvp, small_realnvp, bottleneck_l50, fashionmnist_glow, celeba_realnvp.
const std::vector<BenchBuiltin>& bench_builtins();

/// What to measure.
struct BenchSettings {
  int64_t batch_size = 0;        ///< training batch (0: the config's train.batch_size)
  int64_t score_batch_size = 0;  ///< scoring batch (0: the config's score.batch_size)
  std::string precision = "fp32";
  int64_t warmup = 2;            ///< training steps run before timing
  int64_t steps = 10;            ///< timed training steps
  int64_t score_warmup = 1;      ///< scoring batches run before timing
  int64_t score_steps = 5;       ///< timed scoring batches
  bool count_only = false;       ///< build and count FLOPs; time nothing
  int64_t contend = 0;           ///< busy-looping competitor processes running meanwhile (BusyCompetitors)
};

/// `n` child processes that spin on the CPU until this object is destroyed (then killed and
/// reaped; they also die with the parent): the "another CPU-bound job on the machine" of
/// `bench --contend N`. Each busy-loops in the child without touching LibTorch. n = 0: none.
class BusyCompetitors {
 public:
  explicit BusyCompetitors(int64_t n);
  ~BusyCompetitors();
  BusyCompetitors(const BusyCompetitors&) = delete;
  BusyCompetitors& operator=(const BusyCompetitors&) = delete;

 private:
  std::vector<int> pids_;
};

/// Median, min and max of timed iterations, in seconds.
struct Timing {
  double median_s = 0, min_s = 0, max_s = 0;
  int64_t iterations = 0;
};

/// One timed phase (train steps or scoring batches).
struct PhaseResult {
  int64_t batch_size = 0;
  Timing per_batch;
  double images_per_s = 0;      ///< batch / median time
  double images_per_s_min = 0;  ///< batch / max time
  double images_per_s_max = 0;  ///< batch / min time
  double gflops_per_s = 0;      ///< FLOPs per image (3× forward for training) × images/s
  double peak_rss_mb = 0;       ///< peak RSS during the phase minus RSS before it (or the process peak)
  bool peak_rss_is_delta = true;  ///< false when the peak could not be reset (then: the process peak so far)
  LayoutChoice layout;            ///< the memory layout the phase ran in, and why
};

/// The machine's convolution and matmul throughput measured here, now.
struct MachineLimits {
  double conv_nchw_gflops = 0;           ///< 3×3 conv 128→128, 14×14, batch 32, float32, NCHW
  double conv_channels_last_gflops = 0;  ///< the same, channels-last
  double conv_peak_gflops = 0;           ///< the larger: the denominator of the efficiencies
  int64_t matmul_size = 0;               ///< n of the n×n matmul (4096 unless that would be too slow)
  double matmul_fp32_gflops = 0;
  std::optional<double> matmul_bf16_gflops;  ///< with --precision bf16
  int64_t matmul_bf16_size = 0;
};

/// Runs the probes on the current thread settings. Each takes about a second or less.
MachineLimits probe_machine(bool bf16);

/// One model's results.
struct ModelBench {
  std::string name;
  std::string model;                  ///< the model's own description
  std::string family;
  int64_t parameters = 0;
  int64_t reference_parameters = 0;   ///< 0: no reference (not a built-in)
  std::vector<int64_t> input_shape;
  int64_t forward_flops = 0;          ///< per image, convolutions + Linear layers
  int64_t forward_conv_flops = 0;
  int64_t forward_linear_flops = 0;
  int64_t score_samples = 1;
  std::string device;
  std::optional<PhaseResult> train;   ///< unset with count_only
  std::optional<PhaseResult> score;
};

/// The precision hook: sets the process-wide st-network precision (flows/precision.hpp: "bf16" =
/// the st-networks under bfloat16 autocast, s, t, log-dets and everything else float32); bf16 on a
/// CPU without fast bf16 kernels is a ConfigError (flows::check_bf16_supported).
void apply_precision(flows::FlowModelImpl& model, const std::string& precision);

/// Throws ConfigError when `precision` is not a known precision (before any work starts).
void check_precision(const std::string& precision);

/// Builds the model of `loaded`, counts its FLOPs, times training steps and scoring batches on
/// synthetic inputs of its shape. `limits` gives the efficiencies' denominator (0: none).
ModelBench bench_model(const config::ExperimentConfig& config, const BenchSettings& settings, int64_t reference_parameters);

/// Peak resident memory: resets the kernel's high-water mark (`echo 5 > /proc/self/clear_refs`);
/// false when not permitted.
bool reset_peak_rss();
/// A "kB" field of /proc/self/status (VmHWM, VmRSS), or -1.
int64_t status_kb(const std::string& key);

/// The results as JSON (one model's object; `limits` adds the efficiencies).
io::Json to_json(const ModelBench& bench, const MachineLimits* limits);

/// The LibTorch version, e.g. "1.13.0".
std::string libtorch_version();

// ---- what bench prints (bench_report.cpp) ------------------------------------------------------

/// ConfigError naming the flag of a setting out of range (--steps, --warmup, …).
void check_bench_settings(const BenchSettings& settings);
/// The 1-minute load average (NaN where /proc/loadavg is unreadable).
double load_average();
/// Warns when other processes' load (measured before ours starts) will make timings low and noisy.
void warn_if_busy(double load_before);
/// The value of an environment variable, or "".
std::string env_or_empty(const char* name);
/// "keep-freed" when FLOWOOD_ALLOCATOR=keep-freed applied, else "system".
std::string allocator_name();
/// A rate with three significant digits (0.1 to 10,000), "n/a" when not finite.
std::string bench_rate(double v);
/// The probes' results, two lines.
std::string machine_lines(const MachineLimits& limits);
/// One row per model: flow, input, parameters against the reference, GFLOP per image.
std::string models_table(const std::vector<ModelBench>& results);
/// One row per model and phase: batch, seconds per batch, img/s, GFLOP/s, efficiency, peak memory.
std::string speed_table(const std::vector<ModelBench>& results, const MachineLimits* limits);
/// What the speed table's columns mean.
std::string speed_footnote(const std::vector<ModelBench>& results);
/// The versions, threads, load, precision, BLAS and settings of a bench run.
io::Json environment_json(const BenchSettings& settings, const BlasInfo& blas, double load_before);
/// The probes' results.
io::Json machine_json(const MachineLimits& limits);

}  // namespace flowood::experiment
