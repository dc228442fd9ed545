#pragma once
/// Weight-normalised layers (reference-spec §2.3, §2.4). Parameters are named `weight_g` (the
/// gains, which get weight decay) and `weight_v` (the directions), as in the reference.
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace flowood::flows {

/// Inference folding. Inside an InferenceScope (one scoring pass, during which the model does
/// not change) and with autograd off, a WNConv2d computes g·v/‖v‖ once and reuses it, and
/// forward_norm folds an eval-mode batch norm into the convolution's weight and bias. Outside a
/// scope — training, evaluation between steps — every layer computes as written, so nothing can
/// go stale. set_inference_folding(false) turns it off everywhere (the plain path, for
/// `bench --plain` and the tests that compare both). Process-wide.
void set_inference_folding(bool on);
bool inference_folding();

class InferenceScope {
 public:
  InferenceScope();
  ~InferenceScope();
  InferenceScope(const InferenceScope&) = delete;
  InferenceScope& operator=(const InferenceScope&) = delete;
};

struct WNConv2dOptions {
  WNConv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);  ///< odd; padding keeps the spatial size
  TORCH_ARG(bool, bias) = true;
};

/// Conv2d with weight = g · v / ‖v‖ (norm per output channel). Initialised like PyTorch's
/// Conv2d (v ~ U(±1/√fan_in), bias ~ U(±1/√fan_in)) with g = ‖v‖, so the effective weight equals
/// the default init. x [N, in, H, W] → [N, out, H, W].
class WNConv2dImpl : public torch::nn::Module {
 public:
  explicit WNConv2dImpl(const WNConv2dOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  /// norm(conv(x)). Inside an InferenceScope with autograd off and `norm` in eval mode this is one
  /// convolution with weight w·γ/√(σ²+ε) and bias (b − μ)·γ/√(σ²+ε) + β, computed once per
  /// scope; otherwise the two layers as written.
  torch::Tensor forward_norm(const torch::Tensor& x, torch::nn::BatchNorm2dImpl& norm);
  /// The effective convolution weight [out, in, k, k].
  torch::Tensor weight() const;
  void pretty_print(std::ostream& stream) const override;

  WNConv2dOptions options;
  torch::Tensor weight_g, weight_v, bias;

 private:
  /// Weight and bias computed in the InferenceScope numbered `scope` (0 = none).
  struct Folded {
    uint64_t scope = 0;
    torch::Tensor weight, bias;
  };
  torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) const;
  Folded cached_, folded_;
};
TORCH_MODULE(WNConv2d);

/// Per-channel scale w = g · v/|v| (= g·sign v), initialised to 1: the `Rescale` of spec §2.3.
/// x [N, C, ...] → w ⊙ x.
class RescaleImpl : public torch::nn::Module {
 public:
  explicit RescaleImpl(int64_t channels, int64_t trailing_dims = 2);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight_g, weight_v;
};
TORCH_MODULE(Rescale);

}  // namespace flowood::flows
