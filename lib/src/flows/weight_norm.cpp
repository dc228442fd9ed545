#include "flowood/flows/weight_norm.hpp"

#include <cmath>

#include <torch/nn/functional/conv.h>
#include <torch/nn/init.h>

#include "flowood/core/error.hpp"
#include "flowood/core/flops.hpp"

namespace flowood::flows {

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

torch::Tensor WNConv2dImpl::forward(const torch::Tensor& x) {
  const auto pad = options.kernel_size() / 2;
  flops::add_conv2d(x, weight_v);
  return torch::conv2d(x, weight(), bias, /*stride=*/1, /*padding=*/pad);
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
