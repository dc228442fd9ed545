#pragma once
/// Affine coupling layer (reference-spec §2.2) with the tanh + weight-normed scale (§2.3).
#include <functional>

#include "flowood/flows/flow_layer.hpp"
#include "flowood/flows/mask.hpp"
#include "flowood/flows/st_net.hpp"
#include "flowood/flows/weight_norm.hpp"

namespace flowood::flows {

/// Intermediate values of one coupling call, for visualisation. Tensors are the layer's own
/// (s and t restricted by the mask, in the st-network's channel layout).
struct CouplingTrace {
  const class AffineCouplingImpl* layer = nullptr;
  torch::Tensor x;        ///< [N, C, H, W] layer input
  torch::Tensor x_id;     ///< conditioning part the st-network saw
  torch::Tensor x_change; ///< part that is transformed
  torch::Tensor s;        ///< log-scale after tanh, rescale and masking, [N, C', H, W]
  torch::Tensor t;        ///< shift after masking
  torch::Tensor y;        ///< [N, C, H, W] layer output
};
using CouplingObserver = std::function<void(const CouplingTrace&)>;

/// y_change = (x_change + t) ⊙ exp(s), s = w ⊙ tanh(s_raw); log-det Σ s.
class AffineCouplingImpl : public FlowLayerImpl {
 public:
  /// `st` gives the st-network type and widths; its channel counts and double_after_norm are
  /// derived from `mask` and `input` (per-example shape [C, H, W]).
  AffineCouplingImpl(MaskPtr mask, StNetOptions st, const Shape& input);
  FlowResult forward(const torch::Tensor& x) override;
  torch::Tensor inverse(const torch::Tensor& y) override;
  std::string describe() const override;

  /// Called after every forward with the intermediate values (nullptr to remove).
  void set_observer(CouplingObserver observer) { observer_ = std::move(observer); }
  const Mask& mask() const { return *mask_; }

 private:
  /// (s, t) for the conditioning part.
  std::pair<torch::Tensor, torch::Tensor> scale_shift(const torch::Tensor& x_id);

  MaskPtr mask_;
  StNetOptions st_options_;
  StNet st_net_;
  Rescale rescale_{nullptr};
  CouplingObserver observer_;
};

}  // namespace flowood::flows
