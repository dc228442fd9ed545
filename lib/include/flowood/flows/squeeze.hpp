#pragma once
/// Space-to-channel squeeze (reference-spec §2.1) and its inverse.
#include "flowood/flows/flow_layer.hpp"

namespace flowood::flows {

/// [N, C, H, W] → [N, 4C, H/2, W/2]; output channel = c·4 + 2·dy + dx.
torch::Tensor squeeze2x2(const torch::Tensor& x);
/// Exact inverse of squeeze2x2: [N, 4C, H, W] → [N, C, 2H, 2W].
torch::Tensor unsqueeze2x2(const torch::Tensor& x);

/// Squeeze as a flow layer (log-det 0).
class SqueezeImpl : public FlowLayerImpl {
 public:
  FlowResult forward(const torch::Tensor& x) override;
  torch::Tensor inverse(const torch::Tensor& y) override;
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override { return "squeeze 2×2"; }
  bool rearranges() const override { return true; }
};

}  // namespace flowood::flows
