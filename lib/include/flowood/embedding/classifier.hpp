#pragma once
/// The feature extractor flowood trains itself (paper §8 uses a supervised network's features): a
/// small ResNet classifier. Three stages of residual blocks with w, 2w and 4w channels (the last
/// two halve the resolution), global average pooling, a linear head. Features are the pooled
/// penultimate layer [N, 4w].
#include <cstdint>
#include <ostream>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace flowood::embedding {

struct ClassifierNetOptions {
  ClassifierNetOptions(int64_t in_channels, int64_t num_classes) : in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, width) = 32;  ///< channels of the first stage
  TORCH_ARG(int64_t, depth) = 1;   ///< residual blocks per stage
};

class ClassifierNetImpl : public torch::nn::Module {
 public:
  /// Throws ConfigError naming embedding.width / embedding.depth, DataError for fewer than 2 classes.
  explicit ClassifierNetImpl(ClassifierNetOptions options);
  /// x [N, C, H, W] float (pixels in [0, 1]) → features [N, 4w].
  torch::Tensor features(const torch::Tensor& x);
  /// features [N, 4w] → logits [N, K].
  torch::Tensor logits(const torch::Tensor& features);
  /// x → logits.
  torch::Tensor forward(const torch::Tensor& x) { return logits(features(x)); }
  int64_t feature_dim() const { return 4 * options_.width(); }
  const ClassifierNetOptions& options() const { return options_; }
  void pretty_print(std::ostream& stream) const override;

 private:
  ClassifierNetOptions options_;
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(ClassifierNet);

/// Basic residual block: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus the input (through a 1×1
/// convolution and BN when the shape changes), then ReLU.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, shortcut_bn_{nullptr};
};
TORCH_MODULE(ResidualBlock);

}  // namespace flowood::embedding
