#pragma once
/// A complete flow: optional dequantisation + logit preprocessing, a multi-scale body of
/// invertible layers with factor-out, and a standard Gaussian prior (reference-spec §0, §1.3).
#include <functional>
#include <optional>
#include <variant>

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "flowood/flows/flow_layer.hpp"

namespace flowood::flows {

/// One level of a multi-scale flow's likelihood: the latent block set aside at a factor-out (or the
/// final block) and the log-dets of the layers run since the previous factor-out.
struct Level {
  torch::Tensor z;       ///< [N, d] the block, flattened
  torch::Tensor logdet;  ///< [N] nats
};

/// A sequence of invertible layers on (x, factored-out latents). `factor_out(k)` keeps
/// channels [0, k) as the running x and sets channels [k, C) aside. The latent is the
/// concatenation, in order of factoring out, of the flattened set-aside blocks and the final x.
class MultiScaleFlowImpl : public FlowLayerImpl {
 public:
  /// `input` is the per-example shape entering the body, e.g. [1, 28, 28].
  explicit MultiScaleFlowImpl(Shape input);
  /// Appends a layer; returns it. Checks and tracks the running shape.
  FlowLayer add(FlowLayer layer);
  /// Factors out channels [keep, C) of the running x.
  void factor_out(int64_t keep);

  /// x [N, ...input] → (z [N, D], logdet [N]).
  FlowResult forward(const torch::Tensor& x) override;
  /// forward, also filling `levels` (when not null) with one Level per factor-out and one for the
  /// final block, in the order of z; their logdets sum to the result's.
  FlowResult forward_levels(const torch::Tensor& x, std::vector<Level>* levels);
  /// z [N, D] → x [N, ...input].
  torch::Tensor inverse(const torch::Tensor& z) override;
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;

  const Shape& input_shape() const { return input_; }
  /// Running per-example shape after the last added step.
  const Shape& current_shape() const { return shapes_.back(); }
  /// The layers in order (factor-outs are not layers).
  std::vector<FlowLayer> layers() const;
  /// One line per step: "  3  affine coupling, checkerboard …   1×28×28".
  std::vector<std::string> summary_lines() const;

  // ---- layout (spec §7's "reshape model": only squeezes and factor-outs, every other layer as
  // identity), for visualisations.
  /// Number of steps (layers and factor-outs).
  size_t num_steps() const { return steps_.size(); }
  /// The layer of step i (null for a factor-out).
  FlowLayer step_layer(size_t i) const { return steps_.at(i).layer; }
  /// Per-example shape entering step i (i = num_steps(): the final running shape).
  const Shape& shape_before(size_t i) const { return shapes_.at(i); }
  /// Input layout [N, ...input] → flat latent layout [N, D], applying only rearrangements and
  /// factor-outs: latent coordinate k holds the input position it "came from".
  torch::Tensor to_latent_layout(const torch::Tensor& x);
  /// Exact inverse of to_latent_layout: a flat latent [N, D] placed back in the input layout.
  torch::Tensor to_input_layout(const torch::Tensor& z);
  /// Lifts v [N, ...shape_before(step)] to the input layout: undoes the squeezes before `step`
  /// and puts back the channels factored out before it — `aside[k]` for the k-th earlier
  /// factor-out when given (the values set aside in a forward pass), else filled with `fill`.
  torch::Tensor lift(size_t step, torch::Tensor v, const std::vector<torch::Tensor>& aside = {}, double fill = 0.0);
  /// Calls `visit(i, h)` with the running tensor h entering every step i during a forward pass
  /// (null to remove). For tracing; forward's result is unchanged.
  void set_step_observer(std::function<void(size_t, const torch::Tensor&)> visit) { step_observer_ = std::move(visit); }

 private:
  struct Step {
    FlowLayer layer;   ///< null for a factor-out step
    int64_t keep = 0;  ///< channels kept by a factor-out step
  };
  /// Splits a flat latent into the set-aside blocks (in order) and the final running tensor.
  std::pair<std::vector<torch::Tensor>, torch::Tensor> split_latent(const torch::Tensor& z) const;

  Shape input_;
  std::vector<Step> steps_;
  std::vector<Shape> shapes_;  ///< shapes_[i] = running shape before step i; back() = after all
  std::function<void(size_t, const torch::Tensor&)> step_observer_;
};
using MultiScaleFlow = std::shared_ptr<MultiScaleFlowImpl>;

/// What the data look like to the model.
enum class Preprocessing { kLogit, kNone };

/// The model every verb uses.
class FlowModelImpl : public torch::nn::Module {
 public:
  /// `family` is the model.flow name that built it (realnvp, coupling, glow, tabular).
  FlowModelImpl(MultiScaleFlow body, Preprocessing preprocessing, std::string name, std::string family = "realnvp");

  /// x [N, C, H, W] in [0, 1] (k/255) → (z [N, D], sldj [N]) where sldj includes the
  /// preprocessing log-det. Dequantisation noise is drawn from `generator` (global RNG if
  /// absent), on the generator's device, then moved to x's device.
  FlowResult forward(const torch::Tensor& x, std::optional<at::Generator> generator = std::nullopt);
  /// Same with explicit noise u [N, C, H, W] in [0, 1).
  FlowResult forward_with_noise(const torch::Tensor& x, const torch::Tensor& u);
  /// The terms of the log-likelihood of x under noise u: log_prob_from(result) = Σ_l (log N(z_l) +
  /// levels[l].logdet) + outside.
  struct Terms {
    FlowResult result;
    std::vector<Level> levels;  ///< the body's levels (MultiScaleFlowImpl::forward_levels)
    torch::Tensor outside;      ///< [N] the preprocessing log-det − D·log 256 for image models; 0 otherwise
  };
  Terms likelihood_terms(const torch::Tensor& x, const torch::Tensor& u);
  /// Per-example log-likelihood in nats (spec §1.3, including −D·log 256 for image models). [N]
  torch::Tensor log_prob(const torch::Tensor& x, std::optional<at::Generator> generator = std::nullopt);
  /// Log-likelihood [N] from a forward result.
  torch::Tensor log_prob_from(const FlowResult& result) const;
  /// z [N, D] → data [N, C, H, W] (image models: dequantised pixels / 256 in [0, 1]).
  torch::Tensor inverse(const torch::Tensor& z);

  int64_t dim() const { return numel(body_->input_shape()); }
  const Shape& input_shape() const { return body_->input_shape(); }
  Preprocessing preprocessing() const { return preprocessing_; }
  const std::string& name() const { return name_; }
  const std::string& family() const { return family_; }
  MultiScaleFlowImpl& body() { return *body_; }
  /// Number of trainable parameters.
  int64_t num_parameters() const;
  /// Human-readable summary ending with "parameters: N".
  std::string summary() const;

 private:
  MultiScaleFlow body_;
  Preprocessing preprocessing_;
  std::string name_;
  std::string family_;
};
TORCH_MODULE(FlowModel);

/// Uniform noise in [0, 1) shaped like x, drawn from `generator` on its own device (so CPU and
/// CUDA runs see the same noise for the same seed), returned on x's device and dtype.
torch::Tensor uniform_noise_like(const torch::Tensor& x, std::optional<at::Generator> generator);

}  // namespace flowood::flows
