#include "flowood/flows/st_net.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/init.h>

#include "flowood/core/error.hpp"
#include "flowood/core/flops.hpp"
#include "flowood/flows/layout.hpp"
#include "flowood/flows/precision.hpp"

namespace flowood::flows {
namespace {
torch::nn::BatchNorm2d make_norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-5).momentum(0.1));
}

// Plain convolution with "same" padding; weights N(0, std²) (std 0 = all zero), zero bias.
torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t kernel, double std) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2).bias(true));
  torch::NoGradGuard no_grad;
  if (std > 0)
    conv->weight.normal_(0.0, std);
  else
    conv->weight.zero_();
  conv->bias.zero_();
  return conv;
}

void check_widths(const StNetOptions& o) {
  if (o.mid_channels < 1) throw ConfigError("model.mid_channels", fmt::format("must be >= 1 (got {})", o.mid_channels));
  if (o.num_blocks < 1) throw ConfigError("model.num_blocks", fmt::format("must be >= 1 (got {})", o.num_blocks));
}
}  // namespace

// ---- resnet, resnet-bottleneck -------------------------------------------------------------

ResidualBlockImpl::ResidualBlockImpl(int64_t channels, bool batch_norm) {
  if (batch_norm) {
    in_norm_ = register_module("in_norm", make_norm(channels));
    out_norm_ = register_module("out_norm", make_norm(channels));
  }
  in_conv_ = register_module("in_conv", WNConv2d(WNConv2dOptions(channels, channels, 3).bias(false)));
  out_conv_ = register_module("out_conv", WNConv2d(WNConv2dOptions(channels, channels, 3).bias(true)));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto h = torch::relu(in_norm_ ? in_norm_->forward(x) : x);
  h = out_norm_ ? in_conv_->forward_norm(h, *out_norm_) : in_conv_->forward(h);  // eval: one folded conv
  h = out_conv_->forward(torch::relu(h));
  return h + x;
}

ResNetStImpl::ResNetStImpl(const StNetOptions& o) : options_(o), bottleneck_(o.type == "resnet-bottleneck") {
  check_widths(o);
  const auto m = o.mid_channels;
  if (bottleneck_) {
    options_.skip = false;  // the reference's ResNetAE has no skip path
    if (o.bottleneck_dim < 1)
      throw ConfigError("model.bottleneck_dim", fmt::format("must be >= 1 (got {})", o.bottleneck_dim));
    if (o.height < 1 || o.width < 1)
      throw ConfigError("model.st_net", "resnet-bottleneck needs the image size (internal: height/width unset)");
  }
  if (o.batch_norm) in_norm_ = register_module("in_norm", make_norm(o.in_channels));
  in_conv_ = register_module("in_conv", WNConv2d(WNConv2dOptions(2 * o.in_channels, m, 3)));
  if (options_.skip) in_skip_ = register_module("in_skip", WNConv2d(WNConv2dOptions(m, m, 1)));
  for (int64_t b = 0; b < o.num_blocks; ++b) {
    blocks_->push_back(ResidualBlock(m, o.batch_norm));
    if (options_.skip) skips_->push_back(WNConv2d(WNConv2dOptions(m, m, 1)));
  }
  register_module("blocks", blocks_);
  if (options_.skip) register_module("skips", skips_);
  if (bottleneck_) {
    const auto flat = m * o.height * o.width;
    encode_ = register_module("encode", torch::nn::Linear(flat, o.bottleneck_dim));
    decode_ = register_module("decode", torch::nn::Linear(o.bottleneck_dim, flat));
  }
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
  const auto middle = static_cast<size_t>(options_.num_blocks / 2);
  for (size_t b = 0; b < blocks_->size(); ++b) {
    if (bottleneck_ && b == middle) {
      const auto sizes = h.sizes().vec();
      flops::add_linear(h, encode_->weight);  // [N, M·H·W] → [N, l]
      flops::add_linear(h, decode_->weight);  // [N, l] → [N, M·H·W]
      h = decode_->forward(encode_->forward(h.flatten(1))).view(sizes);
    }
    h = blocks_->ptr<ResidualBlockImpl>(b)->forward(h);
    if (options_.skip) skip = skip + skips_->ptr<WNConv2dImpl>(b)->forward(h);
  }
  if (options_.skip) h = skip;
  Float32Region float32;  // bf16 option: the output (s, t) convolution and its norm stay float32
  if (h.scalar_type() == torch::kBFloat16) h = h.to(torch::kFloat32);
  if (out_norm_) h = out_norm_->forward(h);
  return out_conv_->forward(torch::relu(h));
}

// ---- highway -------------------------------------------------------------------------------

HighwayStImpl::HighwayStImpl(const StNetOptions& o) {
  check_widths(o);
  const auto m = o.mid_channels;
  in_conv_ = register_module("in_conv", make_conv(o.in_channels, m, 3, 0.05));
  for (int64_t i = 0; i < o.num_blocks; ++i) {
    gates_->push_back(make_conv(m, m, 3, 0.05));
    transforms_->push_back(make_conv(m, m, 3, 0.05));
  }
  register_module("gates", gates_);
  register_module("transforms", transforms_);
  out_conv_ = register_module("out_conv", make_conv(m, o.out_channels, 1, 0.0));
}

torch::Tensor HighwayStImpl::forward(const torch::Tensor& x) {
  flops::add_conv2d(x, in_conv_->weight);
  auto h = in_conv_->forward(conv_input(x));
  for (size_t i = 0; i < gates_->size(); ++i) {
    flops::add_conv2d(h, gates_->ptr<torch::nn::Conv2dImpl>(i)->weight);
    flops::add_conv2d(h, transforms_->ptr<torch::nn::Conv2dImpl>(i)->weight);
    const auto g = torch::sigmoid(gates_->ptr<torch::nn::Conv2dImpl>(i)->forward(conv_input(h)));
    h = transforms_->ptr<torch::nn::Conv2dImpl>(i)->forward(h) * g + h * (1.0 - g);
  }
  flops::add_conv2d(h, out_conv_->weight);
  return out_conv_->forward(h);
}

// ---- convnet, glow-convnet -----------------------------------------------------------------

ConvNetStImpl::ConvNetStImpl(const StNetOptions& o) {
  check_widths(o);
  layers_->push_back(WNConv2d(WNConv2dOptions(o.in_channels, o.mid_channels, 3)));
  for (int64_t i = 0; i < o.num_blocks; ++i)
    layers_->push_back(WNConv2d(WNConv2dOptions(o.mid_channels, o.mid_channels, 3)));
  layers_->push_back(WNConv2d(WNConv2dOptions(o.mid_channels, o.out_channels, 1)));
  register_module("layers", layers_);
}

torch::Tensor ConvNetStImpl::forward(const torch::Tensor& x) {
  auto h = x;
  for (size_t i = 0; i < layers_->size(); ++i) h = layers_->ptr<WNConv2dImpl>(i)->forward(h);
  return h;
}

GlowConvNetStImpl::GlowConvNetStImpl(const StNetOptions& o) {
  if (o.mid_channels < 1) throw ConfigError("model.mid_channels", fmt::format("must be >= 1 (got {})", o.mid_channels));
  in_conv_ = register_module("in_conv", make_conv(o.in_channels, o.mid_channels, 3, 0.05));
  mid_conv_ = register_module("mid_conv", make_conv(o.mid_channels, o.mid_channels, 1, 0.05));
  out_conv_ = register_module("out_conv", make_conv(o.mid_channels, o.out_channels, 3, 0.0));
}

torch::Tensor GlowConvNetStImpl::forward(const torch::Tensor& x) {
  flops::add_conv2d(x, in_conv_->weight);
  auto h = torch::relu(in_conv_->forward(conv_input(x)));
  flops::add_conv2d(h, mid_conv_->weight);
  h = torch::relu(mid_conv_->forward(conv_input(h)));
  flops::add_conv2d(h, out_conv_->weight);
  return out_conv_->forward(conv_input(h));
}

// ---- mlp -----------------------------------------------------------------------------------

MlpStImpl::MlpStImpl(const StNetOptions& o) : dropout_(o.dropout) {
  if (o.mid_channels < 1) throw ConfigError("model.mid_channels", fmt::format("must be >= 1 (got {})", o.mid_channels));
  if (o.num_blocks < 0) throw ConfigError("model.num_blocks", fmt::format("must be >= 0 (got {})", o.num_blocks));
  if (!(o.dropout >= 0.0 && o.dropout < 1.0))
    throw ConfigError("model.dropout", fmt::format("must be in [0, 1) (got {})", o.dropout));
  layers_->push_back(torch::nn::Linear(o.in_channels, o.mid_channels));
  for (int64_t i = 0; i < o.num_blocks; ++i) layers_->push_back(torch::nn::Linear(o.mid_channels, o.mid_channels));
  layers_->push_back(torch::nn::Linear(o.mid_channels, o.out_channels));
  register_module("layers", layers_);
  // The reference's init_zeros (spec §4.4): the last layer starts at zero, so every coupling starts
  // as the identity.
  torch::NoGradGuard no_grad;
  auto last = layers_->ptr<torch::nn::LinearImpl>(layers_->size() - 1);
  last->weight.zero_();
  last->bias.zero_();
}

torch::Tensor MlpStImpl::forward(const torch::Tensor& x) {
  auto h = x;
  const auto last = layers_->size() - 1;
  for (size_t i = 0; i < last; ++i) {
    flops::add_linear(h, layers_->ptr<torch::nn::LinearImpl>(i)->weight);
    h = torch::relu(layers_->ptr<torch::nn::LinearImpl>(i)->forward(h));
    if (i == 0 && dropout_ > 0) h = torch::dropout(h, dropout_, is_training());
  }
  flops::add_linear(h, layers_->ptr<torch::nn::LinearImpl>(last)->weight);
  return layers_->ptr<torch::nn::LinearImpl>(last)->forward(h);
}

// ---- factory -------------------------------------------------------------------------------

std::vector<std::string> st_net_names() {
  return {"resnet", "resnet-bottleneck", "highway", "convnet", "glow-convnet", "mlp"};
}

bool st_net_is_tabular(const std::string& type) { return type == "mlp"; }

StNet make_st_net(const StNetOptions& options) {
  const auto& t = options.type;
  if (t == "resnet" || t == "resnet-bottleneck") return std::make_shared<ResNetStImpl>(options);
  if (t == "highway") return std::make_shared<HighwayStImpl>(options);
  if (t == "convnet") return std::make_shared<ConvNetStImpl>(options);
  if (t == "glow-convnet") return std::make_shared<GlowConvNetStImpl>(options);
  if (t == "mlp") return std::make_shared<MlpStImpl>(options);
  throw ConfigError("model.st_net",
                    fmt::format("unknown st-network '{}' (valid: {})", t, fmt::join(st_net_names(), ", ")));
}

}  // namespace flowood::flows
