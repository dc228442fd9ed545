#pragma once
/// Glow building blocks — ActNorm (reference-spec §2.9) and the invertible 1×1 convolution
/// (§2.8), plain or LU-decomposed — and the multi-scale Glow of §4.2.
#include <string>

#include <torch/nn/pimpl.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include "flowood/flows/flow_layer.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/flows/st_net.hpp"

namespace flowood::flows {

/// Per-channel affine normalisation y = (x + bias)·exp(logs), bias and logs [1, C, 1, 1].
/// The first forward in train mode sets them from the batch so every channel of the output has
/// zero mean and unit variance. Whether that has happened is the buffer `initialized` (0-dim,
/// 1 after initialisation), so it travels with checkpoints: a loaded model is never
/// re-initialised (unlike the reference, spec §10.8).
class ActNormImpl : public FlowLayerImpl {
 public:
  explicit ActNormImpl(int64_t channels);

  /// x [N, C, H, W] → (y [N, C, H, W], logdet [N] = H·W·Σ_c logs). Initialises from x on the
  /// first call in train mode; throws flowood::Error in eval mode before initialisation.
  FlowResult forward(const torch::Tensor& x) override;
  /// y [N, C, H, W] → x = y·exp(−logs) − bias. Throws flowood::Error before initialisation.
  torch::Tensor inverse(const torch::Tensor& y) override;
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;

  /// True once data-dependent initialisation has happened (here, in a loaded checkpoint, or by
  /// mark_initialized()).
  bool initialized() const;
  /// Declares bias and logs final without looking at data (e.g. after copying them from a
  /// replica that was initialised, or from another model).
  void mark_initialized();
  /// Also refreshes the cached initialisation state from the loaded buffer.
  void load(torch::serialize::InputArchive& archive) override;

  int64_t channels() const { return channels_; }
  const torch::Tensor& bias() const { return bias_; }  ///< [1, C, 1, 1]
  const torch::Tensor& logs() const { return logs_; }  ///< [1, C, 1, 1]

 private:
  void initialize_from(const torch::Tensor& x);
  void require_initialized() const;

  int64_t channels_;
  torch::Tensor bias_, logs_;
  torch::Tensor initialized_;  ///< buffer, 0-dim, 0 or 1
  /// Mirrors the buffer once it is known to be 1, so forward does not read the device every call.
  mutable bool initialized_cache_ = false;
};
TORCH_MODULE(ActNorm);

/// Invertible 1×1 convolution y = W·x at every pixel, W [C, C] initialised to the Q factor of
/// QR(randn(C, C)) from the global LibTorch RNG (orthogonal, so log|det W| = 0 at first).
/// Plain: W is the parameter `weight`, C² parameters (as in the reference). LU (Kingma &
/// Dhariwal 2018): W = P·L·(U + diag(sign_s·exp(log_s))) with the permutation P and sign_s
/// fixed buffers and the strictly lower part of L (`lower`), the strictly upper part of U
/// (`upper`) and `log_s` trainable — C(C−1)/2 + C(C−1)/2 + C = C² parameters too.
class InvConv1x1Impl : public FlowLayerImpl {
 public:
  InvConv1x1Impl(int64_t channels, bool lu);

  /// x [N, C, H, W] → (y [N, C, H, W], logdet [N] = H·W·log|det W|).
  FlowResult forward(const torch::Tensor& x) override;
  /// y [N, C, H, W] → W⁻¹·y per pixel.
  torch::Tensor inverse(const torch::Tensor& y) override;
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;

  /// The current matrix W [C, C] (assembled from the factors in the LU parameterisation).
  torch::Tensor weight() const;
  /// log|det W| as a 0-dim tensor (Σ log_s for LU, slogdet otherwise), at least float32.
  torch::Tensor log_abs_det() const;
  bool lu() const { return lu_; }
  int64_t channels() const { return channels_; }

 private:
  int64_t channels_;
  bool lu_;
  torch::Tensor weight_;                 ///< plain: [C, C]
  torch::Tensor perm_, sign_s_;          ///< LU buffers: [C, C] permutation, [C] signs of diag(U)
  torch::Tensor lower_, upper_, log_s_;  ///< LU parameters: [C(C−1)/2], [C(C−1)/2], [C]
};
TORCH_MODULE(InvConv1x1);

struct GlowOptions {
  Shape in_shape = {1, 28, 28};  ///< [C, H, W]
  int64_t num_scales = 2;        ///< S
  int64_t num_steps = 16;        ///< K, steps of flow per scale
  bool multi_scale = true;       ///< factor out half the channels after every scale but the last
  bool lu = false;               ///< LU-decomposed 1×1 convolutions (not in the reference)
  StNetOptions st;               ///< type ("highway" in the paper), mid_channels (all scales), num_blocks
};

/// Per scale: squeeze (C → 4C), then K steps of [ActNorm, InvConv1x1, affine coupling with a
/// channel-wise mask (first half transformed)]; after every scale but the last (multi_scale
/// only) factor out half the channels. The st-network width is the same at every scale
/// (spec §4.2, §10.13). Throws ConfigError naming model.in_shape, model.num_scales or
/// model.num_steps.
FlowModel build_glow(const GlowOptions& options);

}  // namespace flowood::flows
