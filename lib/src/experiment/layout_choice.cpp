#include "flowood/experiment/layout_choice.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/flops.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/flows/precision.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/io/sha256.hpp"

namespace flowood::experiment {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kMargin = 0.95;        // channels-last must take at most 95 % of NCHW's time
constexpr int64_t kMaxTimedBatch = 64;  // larger batches are timed at 64 (time per example is flat)
constexpr size_t kMaxCacheEntries = 256;
constexpr const char* kCacheFile = "layout-choices.json";

// The distinct convolutions of one forward pass of `model` (eval mode, one synthetic example).
std::vector<flops::ConvShape> conv_shapes(flows::FlowModelImpl& model, const torch::Device& device) {
  const bool training = model.is_training();
  model.eval();
  std::vector<int64_t> shape{1};
  for (auto d : model.input_shape()) shape.push_back(d);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const auto x = model.preprocessing() == flows::Preprocessing::kNone ? torch::zeros(shape, opts)
                                                                       : torch::full(shape, 128.0, opts);
  std::vector<flops::ConvShape> shapes;
  {
    torch::NoGradGuard no_grad;
    flows::ShapeProbe probe;  // an untrained Glow's ActNorm stays uninitialised
    flops::Counter counter;
    (void)model.forward_with_noise(x, torch::full_like(x, 0.5));
    shapes = counter.conv_shapes();
  }
  if (training) model.train();
  return shapes;
}

// Best of three timings (after one warm-up) of one convolution of `s` at `batch` in `layout`.
double time_conv(const flops::ConvShape& s, int64_t batch, flows::Layout layout, bool backward,
                 const torch::Device& device) {
  const auto format =
      layout == flows::Layout::kChannelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto x = torch::randn({batch, s.in_channels, s.height, s.width}, opts).contiguous(format);
  auto w = (torch::randn({s.out_channels, s.in_channels, s.kernel, s.kernel}, opts) * 0.05).contiguous(format);
  x.requires_grad_(backward);
  w.requires_grad_(backward);
  flows::StAutocast autocast(device.is_cuda());  // bf16 st-networks: time what they will run
  torch::Tensor g;
  auto once = [&] {
    torch::AutoGradMode grad_mode(backward);
    const auto y = torch::conv2d(x, w, {}, 1, s.kernel / 2);
    if (backward) {
      if (!g.defined()) g = torch::randn_like(y);
      (void)torch::autograd::grad({y}, {x, w}, {g});
    }
    synchronize(device);
  };
  once();
  double best = 1e300;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    once();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

std::string cache_key(const std::vector<flops::ConvShape>& shapes, LayoutWork work, int64_t batch,
                      const torch::Device& device) {
  std::string text;
  for (const auto& s : shapes)
    text += fmt::format("{}>{}k{}@{}x{}*{};", s.in_channels, s.out_channels, s.kernel, s.height, s.width, s.calls);
  return fmt::format("{} | {} threads | {} | {} | {} | batch {} | shapes {}", cpu_description(), at::get_num_threads(),
                     device.str(), flows::precision_name(flows::st_precision()),
                     work == LayoutWork::kTrain ? "train" : "score", batch, io::sha256_hex(text).substr(0, 16));
}

std::string cache_path() {
  const auto dir = data::decoded_cache_dir();
  return dir.empty() ? std::string() : (fs::path(dir) / kCacheFile).string();
}

io::Json read_cache(const std::string& path) {
  if (path.empty() || !fs::exists(path)) return io::Json::object();
  try {
    auto j = io::read_json_file(path);
    if (j.is_object()) return j;
    log().warn("{}: not a JSON object; measuring the layout again and rewriting it", path);
  } catch (const Error& e) {
    log().warn("{}; measuring the layout again and rewriting it", e.what());
  }
  return io::Json::object();
}

bool from_cache(const io::Json& entry, LayoutChoice& out) {
  try {
    out.layout = flows::parse_layout(entry.at("layout").get<std::string>());
    out.nchw_ms = io::json_number(entry.at("nchw_ms"));
    out.channels_last_ms = io::json_number(entry.at("channels_last_ms"));
    out.shapes = entry.at("shapes").get<int64_t>();
    out.source = "cached";
    return true;
  } catch (const std::exception&) {
    return false;  // an entry of another version or edited by hand: measure again
  }
}

void write_cache(const std::string& path, io::Json cache, const std::string& key, const LayoutChoice& c) {
  if (path.empty()) return;
  cache.erase(key);
  while (cache.size() >= kMaxCacheEntries) cache.erase(cache.begin());
  cache[key] = {{"layout", flows::layout_name(c.layout)},
                {"nchw_ms", c.nchw_ms},
                {"channels_last_ms", c.channels_last_ms},
                {"shapes", c.shapes}};
  try {
    fs::create_directories(fs::path(path).parent_path());
    io::write_json_file(path, cache);
  } catch (const std::exception& e) {
    log().warn("could not cache the layout choice in {}: {}", path, e.what());
  }
}

LayoutChoice measure(const std::vector<flops::ConvShape>& shapes, LayoutWork work, int64_t batch,
                     const torch::Device& device) {
  LayoutChoice c;
  c.source = "measured";
  c.shapes = static_cast<int64_t>(shapes.size());
  const bool backward = work == LayoutWork::kTrain;
  const int64_t timed = std::max<int64_t>(1, std::min(batch, kMaxTimedBatch));
  const double per_batch = static_cast<double>(batch) / static_cast<double>(timed) * 1e3;  // s at `timed` → ms at batch
  for (const auto& s : shapes) {
    c.nchw_ms += s.calls * time_conv(s, timed, flows::Layout::kNchw, backward, device) * per_batch;
    c.channels_last_ms += s.calls * time_conv(s, timed, flows::Layout::kChannelsLast, backward, device) * per_batch;
  }
  c.layout = c.channels_last_ms <= kMargin * c.nchw_ms ? flows::Layout::kChannelsLast : flows::Layout::kNchw;
  return c;
}
}  // namespace

std::string LayoutChoice::describe() const {
  if (source == "measured" || source == "cached")
    return fmt::format("{} ({}: the model's convolutions take {:.1f} ms NCHW, {:.1f} ms channels-last per batch)",
                       flows::layout_name(layout), source, nchw_ms, channels_last_ms);
  return fmt::format("{} ({})", flows::layout_name(layout), source);
}

LayoutChoice choose_layout(const std::string& setting, flows::FlowModelImpl& model, LayoutWork work, int64_t batch,
                           const torch::Device& device, const std::string& key) {
  std::string wanted = setting;
  std::string source = "config";
  std::string where = key;
  if (const char* env = std::getenv(kLayoutEnvVar); env && *env) {
    wanted = env;
    source = where = kLayoutEnvVar;
  }
  LayoutChoice c;
  if (wanted != "auto") {
    c.layout = flows::parse_layout(wanted, where);
    c.source = source;
    return c;
  }
  if (model.input_shape().size() != 3) {
    c.source = "no convolutions";
    return c;
  }
  const auto shapes = conv_shapes(model, device);
  if (shapes.empty()) {
    c.source = "no convolutions";
    return c;
  }
  // One answer per process for a key (a background model or ensemble member of the same
  // architecture gets the main model's layout even where no cache directory is writable).
  static std::mutex mutex;
  static std::map<std::string, LayoutChoice> chosen;
  const auto k = cache_key(shapes, work, batch, device);
  const auto path = cache_path();
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = chosen.find(path + "\n" + k); it != chosen.end()) return it->second;
  auto cache = read_cache(path);
  if (!(cache.contains(k) && from_cache(cache[k], c))) {
    c = measure(shapes, work, batch, device);
    write_cache(path, std::move(cache), k, c);
  }
  chosen[path + "\n" + k] = c;
  return c;
}

LayoutChoice apply_layout(const config::ExperimentConfig& config, flows::FlowModelImpl& model, LayoutWork work,
                          int64_t batch, const torch::Device& device) {
  const auto c = choose_layout(config.layout, model, work, batch, device);
  flows::set_layout(c.layout);
  log().info("layout for {}: {}", work == LayoutWork::kTrain ? "training" : "scoring", c.describe());
  return c;
}

}  // namespace flowood::experiment
