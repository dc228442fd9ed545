#pragma once
/// The interface every invertible layer implements.
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace flowood::flows {

/// Per-example shape without the batch dimension, e.g. {C, H, W} or {D}.
using Shape = std::vector<int64_t>;

/// Result of a layer in the data → latent direction.
struct FlowResult {
  torch::Tensor y;       ///< [N, ...] output
  torch::Tensor logdet;  ///< [N] log|det ∂y/∂x| per example, nats
};

/// An invertible layer. `forward` maps data → latent (the paper's f⁻¹, the reference's
/// `forward`); `inverse` maps latent → data.
class FlowLayerImpl : public torch::nn::Module {
 public:
  /// x [N, ...] → (y [N, ...], logdet [N]).
  virtual FlowResult forward(const torch::Tensor& x) = 0;
  /// y [N, ...] → x [N, ...]; exact inverse of forward (same module mode).
  virtual torch::Tensor inverse(const torch::Tensor& y) = 0;
  /// Per-example output shape for a per-example input shape.
  virtual Shape output_shape(const Shape& input) const { return input; }
  /// Short description used by model summaries.
  virtual std::string describe() const = 0;
  /// True for layers that only move values around (squeeze): the structural inverse that maps a
  /// latent back to image layout (spec §7) applies these and treats every other layer as identity.
  virtual bool rearranges() const { return false; }
};
using FlowLayer = std::shared_ptr<FlowLayerImpl>;

/// Number of elements of a per-example shape.
int64_t numel(const Shape& shape);
/// "1×28×28"
std::string shape_string(const Shape& shape);

}  // namespace flowood::flows
