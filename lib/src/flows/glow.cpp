#include "flowood/flows/glow.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/core/flops.hpp"
#include "flowood/flows/coupling.hpp"
#include "flowood/flows/mask.hpp"
#include "flowood/flows/layout.hpp"
#include "flowood/flows/squeeze.hpp"

namespace flowood::flows {
namespace {

/// Matrix routines (QR, LU, slogdet, inverse) have no half-precision kernels; run them in float32.
torch::Tensor at_least_float32(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat64 ? t : t.to(torch::kFloat32);
}

/// Per-example log-det [N] from a log-det per spatial position (0-dim), for x [N, C, H, W].
torch::Tensor per_example(const torch::Tensor& per_position, const torch::Tensor& x) {
  return (per_position * static_cast<double>(x.size(2) * x.size(3))).expand({x.size(0)}).contiguous();
}

void check_layer_shape(const Shape& input, int64_t channels, const char* what) {
  if (input.size() != 3 || input[0] != channels)
    throw ConfigError("model", fmt::format("{} for {} channels cannot take input {}", what, channels,
                                           shape_string(input)));
}

void check_input(const torch::Tensor& x, int64_t channels, const char* what) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == channels, what, " expects [N, ", channels, ", H, W], got ", x.sizes());
}

}  // namespace

// ---- ActNorm -------------------------------------------------------------------------------

ActNormImpl::ActNormImpl(int64_t channels) : channels_(channels) {
  if (channels < 1) throw ConfigError("model", fmt::format("ActNorm needs >= 1 channel, got {}", channels));
  bias_ = register_parameter("bias", torch::zeros({1, channels, 1, 1}));
  logs_ = register_parameter("logs", torch::zeros({1, channels, 1, 1}));
  initialized_ = register_buffer("initialized", torch::zeros({}));
}

bool ActNormImpl::initialized() const {
  if (!initialized_cache_) initialized_cache_ = initialized_.item<double>() != 0.0;
  return initialized_cache_;
}

void ActNormImpl::mark_initialized() {
  torch::NoGradGuard no_grad;
  initialized_.fill_(1);
  initialized_cache_ = true;
}

void ActNormImpl::load(torch::serialize::InputArchive& archive) {
  torch::nn::Module::load(archive);
  // The loaded flag decides, including a checkpoint written before initialisation.
  initialized_cache_ = initialized_.item<double>() != 0.0;
}

void ActNormImpl::require_initialized() const {
  if (!initialized())
    throw Error("ActNorm is not initialised: train the model first (the first training batch "
                "initialises it) or load a checkpoint");
}

void ActNormImpl::initialize_from(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto data = at_least_float32(x.detach());
  const auto mean = data.mean({0, 2, 3}, /*keepdim=*/true);
  const auto std = (data - mean).pow(2).mean({0, 2, 3}, /*keepdim=*/true).sqrt();
  bias_.copy_(-mean);
  logs_.copy_(-torch::log(std + 1e-6));  // log(1 / (std + ε)), scale 1 (spec §2.9)
  mark_initialized();
}

FlowResult ActNormImpl::forward(const torch::Tensor& x) {
  check_input(x, channels_, "ActNorm");
  if (!initialized_cache_ && !ShapeProbe::active()) {
    if (is_training() && !initialized())
      initialize_from(x);
    else
      require_initialized();
  }
  auto y = (x + bias_) * torch::exp(logs_);
  return {y, per_example(logs_.sum(), x)};
}

torch::Tensor ActNormImpl::inverse(const torch::Tensor& y) {
  check_input(y, channels_, "ActNorm");
  require_initialized();
  return y * torch::exp(-logs_) - bias_;
}

Shape ActNormImpl::output_shape(const Shape& input) const {
  check_layer_shape(input, channels_, "ActNorm");
  return input;
}

std::string ActNormImpl::describe() const { return fmt::format("actnorm ({} channels)", channels_); }

// ---- InvConv1x1 ----------------------------------------------------------------------------

InvConv1x1Impl::InvConv1x1Impl(int64_t channels, bool lu) : channels_(channels), lu_(lu) {
  if (channels < 1) throw ConfigError("model", fmt::format("1×1 convolution needs >= 1 channel, got {}", channels));
  torch::Tensor w0;
  {
    torch::NoGradGuard no_grad;
    w0 = std::get<0>(at::linalg_qr(torch::randn({channels, channels})));
  }
  if (!lu) {
    weight_ = register_parameter("weight", w0);
    return;
  }
  torch::NoGradGuard no_grad;
  auto [p, l, u] = at::linalg_lu(w0);
  const auto idx = torch::tril_indices(channels, channels, -1);
  const auto rows = idx[0], cols = idx[1];
  const auto diag = u.diagonal();
  perm_ = register_buffer("perm", p);
  sign_s_ = register_buffer("sign_s", torch::sign(diag));
  lower_ = register_parameter("lower", l.index({rows, cols}).clone());
  upper_ = register_parameter("upper", u.index({cols, rows}).clone());
  log_s_ = register_parameter("log_s", torch::log(diag.abs()));
}

torch::Tensor InvConv1x1Impl::weight() const {
  if (!lu_) return weight_;
  const auto c = channels_;
  const auto options = log_s_.options();
  const auto idx = torch::tril_indices(c, c, -1, torch::TensorOptions().dtype(torch::kLong).device(options.device()));
  const auto rows = idx[0], cols = idx[1];
  auto l = torch::eye(c, options);
  l.index_put_({rows, cols}, lower_);
  auto u = torch::diag(sign_s_ * torch::exp(log_s_));
  u.index_put_({cols, rows}, upper_);
  return perm_.matmul(l).matmul(u);
}

torch::Tensor InvConv1x1Impl::log_abs_det() const {
  if (lu_) return at_least_float32(log_s_).sum();
  return std::get<1>(at::linalg_slogdet(at_least_float32(weight_)));
}

FlowResult InvConv1x1Impl::forward(const torch::Tensor& x) {
  check_input(x, channels_, "1×1 convolution");
  const auto w = weight();
  flops::add_conv2d(x, w);
  auto y = torch::conv2d(conv_input(x), in_layout(w.view({channels_, channels_, 1, 1})));
  return {y, per_example(log_abs_det(), x)};
}

torch::Tensor InvConv1x1Impl::inverse(const torch::Tensor& y) {
  check_input(y, channels_, "1×1 convolution");
  const auto w = weight();
  const auto w_inv = at::linalg_inv(at_least_float32(w)).to(w.scalar_type());
  flops::add_conv2d(y, w_inv);
  return torch::conv2d(conv_input(y), in_layout(w_inv.view({channels_, channels_, 1, 1})));
}

Shape InvConv1x1Impl::output_shape(const Shape& input) const {
  check_layer_shape(input, channels_, "1×1 convolution");
  return input;
}

std::string InvConv1x1Impl::describe() const {
  return fmt::format("invertible 1×1 conv ({} channels, {})", channels_, lu_ ? "LU" : "plain");
}

// ---- Glow ----------------------------------------------------------------------------------

FlowModel build_glow(const GlowOptions& o) {
  if (o.in_shape.size() != 3 || o.in_shape[0] < 1 || o.in_shape[1] < 1 || o.in_shape[2] < 1)
    throw ConfigError("model.in_shape", "Glow needs [C, H, W], got " + shape_string(o.in_shape));
  if (o.num_scales < 1) throw ConfigError("model.num_scales", fmt::format("must be >= 1 (got {})", o.num_scales));
  if (o.num_steps < 1) throw ConfigError("model.num_steps", fmt::format("must be >= 1 (got {})", o.num_steps));
  for (int64_t s = 0, h = o.in_shape[1], w = o.in_shape[2]; s < o.num_scales; ++s, h /= 2, w /= 2)
    if (h % 2 != 0 || w % 2 != 0)
      throw ConfigError("model.num_scales",
                        fmt::format("Glow squeezes {} times, so height and width must be divisible by {} (got {})",
                                    o.num_scales, int64_t{1} << std::min<int64_t>(o.num_scales, 62),
                                    shape_string(o.in_shape)));

  auto body = std::make_shared<MultiScaleFlowImpl>(o.in_shape);
  for (int64_t scale = 0; scale < o.num_scales; ++scale) {
    body->add(std::make_shared<SqueezeImpl>());
    const auto channels = body->current_shape()[0];
    for (int64_t step = 0; step < o.num_steps; ++step) {
      body->add(std::make_shared<ActNormImpl>(channels));
      body->add(std::make_shared<InvConv1x1Impl>(channels, o.lu));
      // Always the unreversed channel mask: the 1×1 convolution does the mixing (spec §4.2).
      body->add(std::make_shared<AffineCouplingImpl>(make_mask("channel", false), o.st, body->current_shape()));
    }
    if (o.multi_scale && scale < o.num_scales - 1) body->factor_out(channels / 2);
  }
  return FlowModel(body, Preprocessing::kLogit,
                   fmt::format("glow ({} scales × {} steps, mid {}{}{})", o.num_scales, o.num_steps,
                               o.st.mid_channels, o.lu ? ", LU" : "", o.multi_scale ? "" : ", single-scale"),
                   "glow");
}

}  // namespace flowood::flows
