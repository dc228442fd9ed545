#pragma once
/// st-networks: the networks inside a coupling that predict scale s and shift t from the
/// conditioning part (reference-spec §2.5–2.7).
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include "flowood/flows/weight_norm.hpp"

namespace flowood::flows {

/// Base of every st-network: x_id [N, C', H, W] → [N, 2C', H, W] (first half s_raw, second t).
class StNetImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};
using StNet = std::shared_ptr<StNetImpl>;

/// What every st-network needs to know; the coupling fills in the channel counts.
struct StNetOptions {
  std::string type = "resnet";   ///< one of st_net_names()
  int64_t in_channels = 1;       ///< C'
  int64_t out_channels = 2;      ///< 2C'
  int64_t mid_channels = 64;     ///< M
  int64_t num_blocks = 6;        ///< B
  bool batch_norm = true;        ///< BN layers inside the st-network
  bool double_after_norm = false;///< ×2 after the input BN (checkerboard masks only)
  bool skip = true;              ///< 1×1 skip-path convolutions (resnet)
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

/// The RealNVP ResNet st-network of spec §2.5.
class ResNetStImpl : public StNetImpl {
 public:
  explicit ResNetStImpl(const StNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  StNetOptions options_;
  torch::nn::BatchNorm2d in_norm_{nullptr}, out_norm_{nullptr};
  WNConv2d in_conv_{nullptr}, in_skip_{nullptr}, out_conv_{nullptr};
  torch::nn::ModuleList blocks_, skips_;
};

/// The one factory for st-networks; throws ConfigError listing the valid names.
StNet make_st_net(const StNetOptions& options);
/// Names make_st_net accepts.
std::vector<std::string> st_net_names();

}  // namespace flowood::flows
