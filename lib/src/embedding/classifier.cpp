#include "flowood/embedding/classifier.hpp"

#include <fmt/format.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/activation.h>

#include "flowood/core/error.hpp"

namespace flowood::embedding {
namespace {
torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}
}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride) {
  conv1_ = register_module("conv1", conv3x3(in_channels, out_channels, stride));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out_channels));
  conv2_ = register_module("conv2", conv3x3(out_channels, out_channels, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out_channels));
  if (stride != 1 || in_channels != out_channels) {
    shortcut_ = register_module(
        "shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 1).stride(stride).bias(false)));
    shortcut_bn_ = register_module("shortcut_bn", torch::nn::BatchNorm2d(out_channels));
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1_(conv1_(x)));
  y = bn2_(conv2_(y));
  return torch::relu(y + (shortcut_ ? shortcut_bn_(shortcut_(x)) : x));
}

ClassifierNetImpl::ClassifierNetImpl(ClassifierNetOptions options) : options_(options) {
  const auto w = options_.width(), depth = options_.depth();
  if (w < 1 || w > 4096) throw ConfigError("embedding.width", fmt::format("must be in [1, 4096] (got {})", w));
  if (depth < 1 || depth > 64) throw ConfigError("embedding.depth", fmt::format("must be in [1, 64] (got {})", depth));
  if (options_.in_channels() < 1) throw ConfigError("model.in_shape", "the classifier needs at least one input channel");
  if (options_.num_classes() < 2)
    throw DataError("data.train", fmt::format("the classifier needs labels of at least 2 classes (got {})", options_.num_classes()));
  body_ = torch::nn::Sequential();
  body_->push_back("stem", conv3x3(options_.in_channels(), w, 1));
  body_->push_back("stem_bn", torch::nn::BatchNorm2d(w));
  body_->push_back("stem_relu", torch::nn::ReLU());
  int64_t channels = w;
  for (int64_t stage = 0; stage < 3; ++stage) {
    const int64_t out = w << stage;
    for (int64_t b = 0; b < depth; ++b) {
      body_->push_back(fmt::format("stage{}_block{}", stage + 1, b + 1),
                       ResidualBlock(channels, out, (stage > 0 && b == 0) ? 2 : 1));
      channels = out;
    }
  }
  register_module("body", body_);
  head_ = register_module("head", torch::nn::Linear(channels, options_.num_classes()));
}

torch::Tensor ClassifierNetImpl::features(const torch::Tensor& x) {
  return torch::adaptive_avg_pool2d(body_->forward(x), {1, 1}).flatten(1);
}

torch::Tensor ClassifierNetImpl::logits(const torch::Tensor& features) { return head_(features); }

void ClassifierNetImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("flowood::ClassifierNet(in_channels={}, classes={}, width={}, depth={}, features={})",
                        options_.in_channels(), options_.num_classes(), options_.width(), options_.depth(), feature_dim());
}

}  // namespace flowood::embedding
