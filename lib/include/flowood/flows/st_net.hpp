#pragma once
/// st-networks: the networks inside a coupling that predict scale s and shift t from the
/// conditioning part (reference-spec §2.5–2.7, §4.2, §4.4).
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "flowood/flows/weight_norm.hpp"

namespace flowood::flows {

/// Base of every st-network: x_id [N, C', H, W] (or [N, D]) → [N, 2C', H, W] (or [N, 2D]);
/// the first half of the output channels is s_raw, the second t.
class StNetImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};
using StNet = std::shared_ptr<StNetImpl>;

/// What every st-network needs to know. The coupling fills in the channel counts, the spatial
/// size and double_after_norm from its mask and input shape.
struct StNetOptions {
  std::string type = "resnet";    ///< one of st_net_names()
  int64_t in_channels = 1;        ///< C' (D for the mlp)
  int64_t out_channels = 2;       ///< 2C' (2D for the mlp)
  int64_t height = 0;             ///< spatial size the network sees (resnet-bottleneck needs it)
  int64_t width = 0;
  int64_t mid_channels = 64;      ///< M (hidden units H for the mlp)
  int64_t num_blocks = 6;         ///< residual blocks / highway layers / hidden conv or Linear layers
  bool batch_norm = true;         ///< BN layers inside the resnet st-networks
  bool double_after_norm = false; ///< ×2 after the input BN (checkerboard masks only)
  bool skip = true;               ///< 1×1 skip-path convolutions (resnet)
  int64_t bottleneck_dim = 100;   ///< l of resnet-bottleneck (spec §2.6)
  double dropout = 0.0;           ///< dropout probability after the mlp's first layer (0 = none)
};

/// ResidualBlock of spec §2.5: h + conv(ReLU(BN(conv(ReLU(BN(h)))))).
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t channels, bool batch_norm);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm2d in_norm_{nullptr}, out_norm_{nullptr};
  WNConv2d in_conv_{nullptr}, out_conv_{nullptr};
};
TORCH_MODULE(ResidualBlock);

/// The RealNVP ResNet st-network of spec §2.5 ("resnet") and its bottleneck variant of spec
/// §2.6 ("resnet-bottleneck": no skip path; after the first ⌊B/2⌋ blocks the activation
/// [N, M, H, W] goes through Linear(M·H·W → l) and Linear(l → M·H·W), no nonlinearity between).
class ResNetStImpl : public StNetImpl {
 public:
  explicit ResNetStImpl(const StNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  StNetOptions options_;
  bool bottleneck_;
  torch::nn::BatchNorm2d in_norm_{nullptr}, out_norm_{nullptr};
  WNConv2d in_conv_{nullptr}, in_skip_{nullptr}, out_conv_{nullptr};
  torch::nn::ModuleList blocks_, skips_;
  torch::nn::Linear encode_{nullptr}, decode_{nullptr};
};

/// Glow's highway st-network (spec §4.2): conv3×3 to M, then num_blocks highway layers
/// h ← conv_h(h)·g + h·(1 − g), g = σ(conv_t(h)), then a zero-initialised conv1×1 to 2C'.
/// Plain convolutions, N(0, 0.05²) weights, zero biases; no BN, no ReLU.
class HighwayStImpl : public StNetImpl {
 public:
  explicit HighwayStImpl(const StNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  torch::nn::Conv2d in_conv_{nullptr}, out_conv_{nullptr};
  torch::nn::ModuleList gates_, transforms_;
};

/// "convnet" (spec §2.7): weight-normalised conv3×3 C'→M, num_blocks conv3×3 M→M, conv1×1 M→2C',
/// all with bias and no nonlinearity (as the reference).
class ConvNetStImpl : public StNetImpl {
 public:
  explicit ConvNetStImpl(const StNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  torch::nn::ModuleList layers_;
};

/// "glow-convnet" (spec §2.7): conv3×3 C'→M, ReLU, conv1×1 M→M, ReLU, zero-initialised conv3×3
/// M→2C'. The first two have N(0, 0.05²) weights and zero biases.
class GlowConvNetStImpl : public StNetImpl {
 public:
  explicit GlowConvNetStImpl(const StNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  torch::nn::Conv2d in_conv_{nullptr}, mid_conv_{nullptr}, out_conv_{nullptr};
};

/// "mlp" for tabular flows (spec §4.4): Linear(D→H), ReLU, [Dropout], num_blocks ×
/// (Linear(H→H), ReLU), Linear(H→2D). x [N, D] → [N, 2D].
class MlpStImpl : public StNetImpl {
 public:
  explicit MlpStImpl(const StNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  double dropout_;
  torch::nn::ModuleList layers_;
};

/// The one factory for st-networks; throws ConfigError listing the valid names.
StNet make_st_net(const StNetOptions& options);
/// Names make_st_net accepts.
std::vector<std::string> st_net_names();
/// Whether the st-network takes flat vectors [N, D] (mlp) rather than images.
bool st_net_is_tabular(const std::string& type);

}  // namespace flowood::flows
