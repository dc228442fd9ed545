#include "flowood/flows/st_net.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/functional/activation.h>

#include "flowood/core/error.hpp"

namespace flowood::flows {
namespace {
torch::nn::BatchNorm2d make_norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-5).momentum(0.1));
}
}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int64_t channels, bool batch_norm) {
  if (batch_norm) {
    in_norm_ = register_module("in_norm", make_norm(channels));
    out_norm_ = register_module("out_norm", make_norm(channels));
  }
  in_conv_ = register_module("in_conv", WNConv2d(WNConv2dOptions(channels, channels, 3).bias(false)));
  out_conv_ = register_module("out_conv", WNConv2d(WNConv2dOptions(channels, channels, 3).bias(true)));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto h = in_norm_ ? in_norm_->forward(x) : x;
  h = in_conv_->forward(torch::relu(h));
  if (out_norm_) h = out_norm_->forward(h);
  h = out_conv_->forward(torch::relu(h));
  return h + x;
}

ResNetStImpl::ResNetStImpl(const StNetOptions& o) : options_(o) {
  if (o.num_blocks < 1) throw ConfigError("model.num_blocks", "must be >= 1 (got " + std::to_string(o.num_blocks) + ")");
  if (o.mid_channels < 1)
    throw ConfigError("model.mid_channels", "must be >= 1 (got " + std::to_string(o.mid_channels) + ")");
  const auto m = o.mid_channels;
  if (o.batch_norm) in_norm_ = register_module("in_norm", make_norm(o.in_channels));
  in_conv_ = register_module("in_conv", WNConv2d(WNConv2dOptions(2 * o.in_channels, m, 3)));
  if (o.skip) in_skip_ = register_module("in_skip", WNConv2d(WNConv2dOptions(m, m, 1)));
  for (int64_t b = 0; b < o.num_blocks; ++b) {
    blocks_->push_back(ResidualBlock(m, o.batch_norm));
    if (o.skip) skips_->push_back(WNConv2d(WNConv2dOptions(m, m, 1)));
  }
  register_module("blocks", blocks_);
  if (o.skip) register_module("skips", skips_);
  if (o.batch_norm) out_norm_ = register_module("out_norm", make_norm(m));
  out_conv_ = register_module("out_conv", WNConv2d(WNConv2dOptions(m, o.out_channels, 1)));
}

torch::Tensor ResNetStImpl::forward(const torch::Tensor& x) {
  auto h = x;
  if (in_norm_) {
    h = in_norm_->forward(h);
    if (options_.double_after_norm) h = h * 2.0;
  }
  h = torch::relu(torch::cat({h, -h}, 1));
  h = in_conv_->forward(h);
  torch::Tensor skip = options_.skip ? in_skip_->forward(h) : torch::Tensor();
  for (size_t b = 0; b < blocks_->size(); ++b) {
    h = blocks_->ptr<ResidualBlockImpl>(b)->forward(h);
    if (options_.skip) skip = skip + skips_->ptr<WNConv2dImpl>(b)->forward(h);
  }
  if (options_.skip) h = skip;
  if (out_norm_) h = out_norm_->forward(h);
  return out_conv_->forward(torch::relu(h));
}

std::vector<std::string> st_net_names() { return {"resnet"}; }

StNet make_st_net(const StNetOptions& options) {
  if (options.type == "resnet") return std::make_shared<ResNetStImpl>(options);
  throw ConfigError("model.st_net",
                    fmt::format("unknown st-network '{}' (valid: {})", options.type, fmt::join(st_net_names(), ", ")));
}

}  // namespace flowood::flows
