#include "flowood/flows/weight_norm.hpp"

#include <atomic>
#include <cmath>
#include <mutex>

#include <c10/core/GradMode.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/init.h>

#include "flowood/core/error.hpp"
#include "flowood/core/flops.hpp"
#include "flowood/flows/layout.hpp"

namespace flowood::flows {
namespace {
std::atomic<bool> folding{true};
std::mutex scope_mutex;
int open_scopes = 0;           // guarded by scope_mutex
std::atomic<uint64_t> scope{0};  // the open scope's number, 0 when none is open
uint64_t scopes_opened = 0;    // guarded by scope_mutex

// The scope whose cached tensors may be used now, or 0 (compute as written).
uint64_t folding_scope() {
  if (!folding.load(std::memory_order_relaxed) || c10::GradMode::is_enabled()) return 0;
  return scope.load(std::memory_order_acquire);
}
}  // namespace

void set_inference_folding(bool on) { folding.store(on); }
bool inference_folding() { return folding.load(); }

InferenceScope::InferenceScope() {
  std::lock_guard<std::mutex> lock(scope_mutex);
  if (open_scopes++ == 0) scope.store(++scopes_opened, std::memory_order_release);
}

InferenceScope::~InferenceScope() {
  std::lock_guard<std::mutex> lock(scope_mutex);
  if (--open_scopes == 0) scope.store(0, std::memory_order_release);
}

WNConv2dImpl::WNConv2dImpl(const WNConv2dOptions& opts) : options(opts) {
  if (opts.in_channels() < 1 || opts.out_channels() < 1)
    throw ConfigError("model", "WNConv2d needs positive channel counts");
  if (opts.kernel_size() < 1 || opts.kernel_size() % 2 == 0)
    throw ConfigError("model", "WNConv2d kernel_size must be odd, got " + std::to_string(opts.kernel_size()));
  const auto k = opts.kernel_size();
  const double bound = 1.0 / std::sqrt(static_cast<double>(opts.in_channels() * k * k));
  torch::NoGradGuard no_grad;
  auto v = torch::empty({opts.out_channels(), opts.in_channels(), k, k}).uniform_(-bound, bound);
  auto g = v.flatten(1).norm(2, 1).view({opts.out_channels(), 1, 1, 1}).clone();
  weight_v = register_parameter("weight_v", v);
  weight_g = register_parameter("weight_g", g);
  if (opts.bias()) bias = register_parameter("bias", torch::empty({opts.out_channels()}).uniform_(-bound, bound));
}

torch::Tensor WNConv2dImpl::weight() const { return at::_weight_norm(weight_v, weight_g, 0); }

torch::Tensor WNConv2dImpl::conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) const {
  flops::add_conv2d(x, weight_v);
  return torch::conv2d(conv_input(x), in_layout(w), b, /*stride=*/1, /*padding=*/options.kernel_size() / 2);
}

torch::Tensor WNConv2dImpl::forward(const torch::Tensor& x) {
  const auto now = folding_scope();
  if (now == 0) return conv(x, weight(), bias);
  if (cached_.scope != now) cached_ = {now, in_layout(weight()), bias};
  return conv(x, cached_.weight, cached_.bias);
}

torch::Tensor WNConv2dImpl::forward_norm(const torch::Tensor& x, torch::nn::BatchNorm2dImpl& norm) {
  const auto now = folding_scope();
  const auto& o = norm.options;
  if (now == 0 || norm.is_training() || !o.affine() || !o.track_running_stats()) return norm.forward(forward(x));
  if (folded_.scope != now) {
    const auto inv_std = norm.weight / torch::sqrt(norm.running_var + o.eps());
    const auto b = bias.defined() ? bias : torch::zeros_like(norm.running_mean);
    folded_ = {now, in_layout(weight() * inv_std.view({-1, 1, 1, 1})), (b - norm.running_mean) * inv_std + norm.bias};
  }
  return conv(x, folded_.weight, folded_.bias);
}

void WNConv2dImpl::pretty_print(std::ostream& stream) const {
  stream << "WNConv2d(" << options.in_channels() << ", " << options.out_channels() << ", kernel_size="
         << options.kernel_size() << ", bias=" << (options.bias() ? "true" : "false") << ")";
}

RescaleImpl::RescaleImpl(int64_t channels, int64_t trailing_dims) {
  std::vector<int64_t> shape{channels};
  for (int64_t i = 0; i < trailing_dims; ++i) shape.push_back(1);
  weight_v = register_parameter("weight_v", torch::ones(shape));
  weight_g = register_parameter("weight_g", torch::ones(shape));
}

torch::Tensor RescaleImpl::forward(const torch::Tensor& x) { return at::_weight_norm(weight_v, weight_g, 0) * x; }

}  // namespace flowood::flows
