#include "flowood/experiment/bench.hpp"

#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>

#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/flops.hpp"
#include "flowood/core/log.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/precision.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/train/trainer.hpp"

namespace flowood::experiment {
namespace {
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

Timing summarise(std::vector<double> times) {
  Timing t;
  t.iterations = static_cast<int64_t>(times.size());
  if (times.empty()) return t;
  std::sort(times.begin(), times.end());
  const auto n = times.size();
  t.median_s = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  t.min_s = times.front();
  t.max_s = times.back();
  return t;
}

PhaseResult phase_result(int64_t batch, const std::vector<double>& times, double flops_per_image) {
  PhaseResult r;
  r.batch_size = batch;
  r.per_batch = summarise(times);
  const auto b = static_cast<double>(batch);
  r.images_per_s = b / r.per_batch.median_s;
  r.images_per_s_min = b / r.per_batch.max_s;
  r.images_per_s_max = b / r.per_batch.min_s;
  r.gflops_per_s = flops_per_image * r.images_per_s / 1e9;
  return r;
}

// Peak RSS of a phase: freed heap memory is first handed back to the kernel (malloc_trim; glibc
// would otherwise keep the previous phase's memory resident and the next phase would reuse it
// unseen), then the high-water mark is reset when the kernel lets us, so the peak minus the RSS
// before is what the phase itself needed (activations, gradients, optimiser state); otherwise
// the process peak so far.
class PeakMemory {
 public:
  PeakMemory() : trimmed_(malloc_trim(0)), reset_(reset_peak_rss()), before_kb_(status_kb("VmRSS")) {}
  void finish(PhaseResult& r) const {
    const auto peak = status_kb("VmHWM");
    r.peak_rss_is_delta = reset_ && before_kb_ >= 0;
    if (peak < 0) {
      r.peak_rss_mb = std::nan("");
      return;
    }
    r.peak_rss_mb = static_cast<double>(r.peak_rss_is_delta ? std::max<int64_t>(0, peak - before_kb_) : peak) / 1024.0;
  }

 private:
  int trimmed_;
  bool reset_;
  int64_t before_kb_;
};

// Synthetic examples of the model's input: random uint8 pixels (the loaders' format, turned into
// k/255 by to_model_input like real data), or standard normal feature rows for tabular flows.
torch::Tensor synthetic_examples(const flows::FlowModelImpl& model, int64_t n, uint64_t seed) {
  auto gen = make_generator(seed, Stream::kDataSplit, 0xbe7c4);
  std::vector<int64_t> shape{n};
  for (auto d : model.input_shape()) shape.push_back(d);
  if (model.preprocessing() == flows::Preprocessing::kNone)
    return at::randn(shape, gen, torch::TensorOptions().dtype(torch::kFloat32));
  return at::randint(0, 256, shape, gen, torch::TensorOptions().dtype(torch::kUInt8));
}

// The best (shortest) time of `fn` over `min_calls`..`max_calls` calls lasting at least
// `min_seconds`, after `warmup` calls.
double best_time(const std::function<void()>& fn, int warmup, int min_calls, int max_calls, double min_seconds) {
  for (int i = 0; i < warmup; ++i) fn();
  double best = std::numeric_limits<double>::infinity();
  const auto start = Clock::now();
  for (int i = 0; i < max_calls; ++i) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, seconds_since(t0));
    if (i + 1 >= min_calls && seconds_since(start) >= min_seconds) break;
  }
  return best;
}

// n×n matmul GFLOP/s with n ≤ 4096 chosen so that one call takes at most ~2.5 s (the reference
// BLAS or a CPU without native bf16 would otherwise take minutes).
std::pair<double, int64_t> probe_matmul(torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  auto rate = [&](int64_t n, int warmup, int calls) {
    const auto a = torch::randn({n, n}).to(dtype);
    const auto b = torch::randn({n, n}).to(dtype);
    const double t = best_time([&] { (void)torch::mm(a, b); }, warmup, calls, calls, 0.0);
    return 2.0 * static_cast<double>(n) * n * n / t;
  };
  const double estimate = rate(512, 1, 2);
  int64_t n = 512;
  for (int64_t m : {4096, 2048, 1024})
    if (2.0 * static_cast<double>(m) * m * m / estimate <= 2.5) {
      n = m;
      break;
    }
  return {rate(n, 1, 2) / 1e9, n};
}
}  // namespace

BusyCompetitors::BusyCompetitors(int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(fmt::format("--contend: cannot start competitor process {}", i + 1));
    if (pid == 0) {  // the child: only async-signal-safe calls and a loop
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      volatile unsigned long long spin = 0;
      for (;;) spin = spin + 1;
    }
    pids_.push_back(pid);
  }
}

BusyCompetitors::~BusyCompetitors() {
  for (const auto pid : pids_) ::kill(pid, SIGKILL);
  for (const auto pid : pids_) ::waitpid(pid, nullptr, 0);
}

const std::vector<BenchBuiltin>& bench_builtins() {
  // The defaults are the authors' FashionMNIST RealNVP trained as the reference does (Adam,
  // lr 5e-5, batch 32, clip 100, score batch 256); each built-in mirrors experiments/<name>.yaml.
  // Training batch 32 for all, as in the reference measurements (small_realnvp.yaml trains at 64).
  static const std::vector<BenchBuiltin> list = {
      {"fashionmnist_realnvp", "RealNVP FashionMNIST, 2 scales, 6 blocks, mid 64 (experiments/fashionmnist_realnvp.yaml)",
       {"name=fashionmnist_realnvp"}, 14707336},
      {"small_realnvp", "RealNVP small, 2 scales, 2 blocks, mid 32 (experiments/small_realnvp.yaml)",
       {"name=small_realnvp", "model.num_blocks=2", "model.mid_channels=32", "train.lr=1.0e-4"}, 1271048},
      {"bottleneck_l50", "RealNVP FashionMNIST with the bottleneck st-net, l = 50 (experiments/bottleneck_l50.yaml)",
       {"name=bottleneck_l50", "model.st_net=resnet-bottleneck", "model.bottleneck_dim=50"}, 46744316},
      {"fashionmnist_glow", "Glow FashionMNIST, 2 scales × 16 steps, highway 3 layers, width 200 (experiments/fashionmnist_glow.yaml)",
       {"name=fashionmnist_glow", "model.flow=glow", "model.num_steps=16", "model.st_net=highway",
        "model.mid_channels=200", "model.num_blocks=3", "train.optimizer=rmsprop", "train.weight_decay_on=all"},
       69378048},
      {"celeba_realnvp", "RealNVP CelebA/CIFAR-10 3×32×32, 3 scales, 8 blocks, mid 64 (experiments/celeba_realnvp.yaml)",
       {"name=celeba_realnvp", "model.in_shape=[3, 32, 32]", "model.num_scales=3", "model.num_blocks=8",
        "train.lr=1.0e-4", "data.train=celeba:train", "data.test=celeba:test", "data.ood=[svhn:test, cifar10:test]"},
       87859080},
  };
  return list;
}

void check_precision(const std::string& precision) { flows::parse_precision(precision, "--precision"); }

void apply_precision(flows::FlowModelImpl& model, const std::string& precision) {
  const auto p = flows::parse_precision(precision, "--precision");
  flows::check_bf16_supported(p, model.parameters().front().is_cuda());
  flows::set_st_precision(p);
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

int64_t status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0 || line.size() <= key.size() || line[key.size()] != ':') continue;
    try {
      return std::stoll(line.substr(key.size() + 1));
    } catch (const std::exception&) {
      return -1;
    }
  }
  return -1;
}

std::string libtorch_version() { return TORCH_VERSION; }

MachineLimits probe_machine(bool bf16) {
  torch::NoGradGuard no_grad;
  MachineLimits m;
  const int64_t n = 32, c = 128, hw = 14;
  const double conv_flops = 2.0 * n * hw * hw * c * c * 9;
  const auto x = torch::randn({n, c, hw, hw});
  const auto w = torch::randn({c, c, 3, 3}) * 0.03;
  const auto conv_rate = [&](const torch::Tensor& xi, const torch::Tensor& wi) {
    return conv_flops / best_time([&] { (void)torch::conv2d(xi, wi, {}, 1, 1); }, 3, 10, 100, 0.5) / 1e9;
  };
  m.conv_nchw_gflops = conv_rate(x, w);
  m.conv_channels_last_gflops = conv_rate(x.contiguous(torch::MemoryFormat::ChannelsLast),
                                          w.contiguous(torch::MemoryFormat::ChannelsLast));
  m.conv_peak_gflops = std::max(m.conv_nchw_gflops, m.conv_channels_last_gflops);
  std::tie(m.matmul_fp32_gflops, m.matmul_size) = probe_matmul(torch::kFloat32);
  if (bf16) {
    double rate = 0;
    std::tie(rate, m.matmul_bf16_size) = probe_matmul(torch::kBFloat16);
    m.matmul_bf16_gflops = rate;
  }
  return m;
}

ModelBench bench_model(const config::ExperimentConfig& cfg, const BenchSettings& s, int64_t reference_parameters) {
  const auto device = resolve_device(cfg.device);
  const auto seed = static_cast<uint64_t>(cfg.seed);
  torch::manual_seed(seed);
  auto model = flows::make_flow(cfg.model);
  model->to(device);
  apply_precision(*model, s.precision);

  ModelBench b;
  b.name = cfg.name;
  b.model = model->name();
  b.family = model->family();
  b.parameters = model->num_parameters();
  b.reference_parameters = reference_parameters;
  b.input_shape = model->input_shape();
  b.score_samples = cfg.score.samples;
  b.device = device.str();

  // FLOPs per image from the layers, one forward of two examples in training mode (which also
  // initialises Glow's ActNorm, as the first training batch would).
  {
    torch::NoGradGuard no_grad;
    model->train();
    const auto x = data::to_model_input(synthetic_examples(*model, 2, seed), device);
    auto gen = make_generator(seed, Stream::kTrainNoise, 0);
    flops::Counter counter;
    (void)model->log_prob(x, gen);
    b.forward_flops = counter.total() / 2;
    b.forward_conv_flops = counter.conv() / 2;
    b.forward_linear_flops = counter.linear() / 2;
  }
  if (s.count_only) return b;
  const double forward_flops = static_cast<double>(b.forward_flops);

  // Training steps, exactly as train::train does one (lib/src/train/trainer.cpp): the optimiser
  // of make_optimizer, noise from the step's seeded stream, per-group gradient clipping, and the
  // loss read back (which waits for the step).
  const int64_t batch = s.batch_size > 0 ? s.batch_size : cfg.train.batch_size;
  {
    const int64_t pool = std::min<int64_t>(s.warmup + s.steps, 4);
    const auto examples = synthetic_examples(*model, batch * pool, seed + 1);
    const auto layout = apply_layout(cfg, *model, LayoutWork::kTrain, batch, device);
    auto optimizer = train::make_optimizer(*model, cfg.train);
    model->train();
    std::vector<double> times;
    PeakMemory memory;
    for (int64_t step = 0; step < s.warmup + s.steps; ++step) {
      const auto t0 = Clock::now();
      const auto x = data::to_model_input(examples.narrow(0, (step % pool) * batch, batch), device);
      auto noise_gen = make_generator(seed, Stream::kTrainNoise, static_cast<uint64_t>(step));
      const double loss_value =
          train::train_step(*model, *optimizer, x, flows::uniform_noise_like(x, noise_gen), cfg.train.max_grad_norm);
      synchronize(device);
      if (step >= s.warmup) times.push_back(seconds_since(t0));
      log().debug("bench {}: train step {} {:.3f} s, loss {:.1f}", b.name, step + 1, seconds_since(t0), loss_value);
    }
    b.train = phase_result(batch, times, 3.0 * forward_flops);
    b.train->layout = layout;
    memory.finish(*b.train);
  }

  // Scoring batches through ood::score_loglik itself (eval mode, no autograd, per-example noise);
  // its progress callback marks the end of each batch.
  {
    const int64_t score_batch = s.score_batch_size > 0 ? s.score_batch_size : cfg.score.batch_size;
    model->eval();
    const auto layout = apply_layout(cfg, *model, LayoutWork::kScore, score_batch, device);
    data::ImageDataset set;
    set.spec = "synthetic";
    set.images = synthetic_examples(*model, score_batch * (s.score_warmup + s.score_steps), seed + 2);
    ood::LoglikOptions o;
    o.batch_size = score_batch;
    o.samples = cfg.score.samples;
    o.seed = derive_seed(seed, Stream::kEvalNoise);
    std::vector<double> times;
    int64_t batches = 0;
    auto last = Clock::now();
    o.progress = [&](int64_t, int64_t) {
      synchronize(device);
      const double t = seconds_since(last);
      if (batches++ >= s.score_warmup) times.push_back(t);
      log().debug("bench {}: score batch {} {:.3f} s", b.name, batches, t);
      last = Clock::now();
    };
    PeakMemory memory;
    last = Clock::now();
    (void)ood::score_loglik(*model, set, o);
    b.score = phase_result(score_batch, times, forward_flops * static_cast<double>(cfg.score.samples));
    b.score->layout = layout;
    memory.finish(*b.score);
  }
  return b;
}

io::Json to_json(const ModelBench& b, const MachineLimits* limits) {
  auto shape = io::Json::array();
  for (auto d : b.input_shape) shape.push_back(d);
  auto j = io::Json{
               {"name", b.name},
               {"model", b.model},
               {"flow", b.family},
               {"input_shape", shape},
               {"device", b.device},
               {"parameters", b.parameters},
               {"reference_parameters", b.reference_parameters > 0 ? io::Json(b.reference_parameters) : io::Json()},
               {"forward_flops_per_image", b.forward_flops},
               {"forward_conv_flops_per_image", b.forward_conv_flops},
               {"forward_linear_flops_per_image", b.forward_linear_flops},
               {"train_flops_per_image_estimate", 3 * b.forward_flops}};
  const auto phase = [&](const char* prefix, const std::optional<PhaseResult>& p, double flops_per_image) {
    if (!p) return;
    const std::string k = prefix;
    j[k + "_batch_size"] = p->batch_size;
    j[k + "_images_per_s"] = p->images_per_s;
    j[k + "_images_per_s_min"] = p->images_per_s_min;
    j[k + "_images_per_s_max"] = p->images_per_s_max;
    j[k + "_seconds_per_batch"] = io::Json{
                                           {"median", p->per_batch.median_s},
                                           {"min", p->per_batch.min_s},
                                           {"max", p->per_batch.max_s},
                                           {"iterations", p->per_batch.iterations}};
    j[k + "_flops_per_image"] = flops_per_image;
    j[k + "_gflops_per_s"] = p->gflops_per_s;
    j[k + "_efficiency_percent"] = limits && limits->conv_peak_gflops > 0 ? io::Json(100.0 * p->gflops_per_s / limits->conv_peak_gflops)
                                                    : io::Json();
    j[k + "_peak_rss_mb"] = p->peak_rss_mb;
    j[k + "_peak_rss_is_delta"] = p->peak_rss_is_delta;
    j[k + "_layout"] = io::Json{{"layout", flows::layout_name(p->layout.layout)},
                                {"source", p->layout.source},
                                {"conv_nchw_ms", p->layout.nchw_ms},
                                {"conv_channels_last_ms", p->layout.channels_last_ms},
                                {"conv_shapes", p->layout.shapes}};
  };
  phase("train", b.train, 3.0 * static_cast<double>(b.forward_flops));
  if (b.score) j["score_samples"] = b.score_samples;
  phase("score", b.score, static_cast<double>(b.forward_flops * b.score_samples));
  return j;
}

}  // namespace flowood::experiment
