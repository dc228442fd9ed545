#pragma once
/// Dequantisation and the logit transform (reference-spec §1.2), and the likelihood (§1.3).
#include <torch/types.h>

#include "flowood/flows/flow_layer.hpp"

namespace flowood::flows {

/// The constant c of the logit squeeze y = (1−c)/2 + c·z0 (spec §1.2: 0.9).
inline constexpr double kLogitC = 0.9;

/// Dequantise and logit-transform pixels.
/// x [N, ...] in [0, 1] (value k/255), u [N, ...] uniform noise in [0, 1) of the same shape.
/// Returns l = logit(0.05 + 0.9·(255x + u)/256) and the per-example log-det [N] of l w.r.t. x:
/// Σ[log c − log y − log(1−y)] + D·log(255/256), nats.
FlowResult dequantize_logit(const torch::Tensor& x, const torch::Tensor& u, double c = kLogitC);

/// Approximate inverse used for sampling and visualisation: l → (sigmoid(l) − (1−c)/2)/c, the
/// dequantised pixel / 256, clamped to [0, 1]. (The reference returns sigmoid(l) without undoing
/// the affine squeeze; see docs/architecture.md.)
torch::Tensor logit_inverse(const torch::Tensor& l, double c = kLogitC);

/// log N(z; 0, I) per example. z [N, D] → [N], nats.
torch::Tensor standard_normal_log_prob(const torch::Tensor& z);

/// Converts a per-example log-likelihood in nats of a D-dimensional example to bits/dim:
/// −loglik / (D·ln 2).
torch::Tensor nats_to_bits_per_dim(const torch::Tensor& loglik, int64_t dim);

}  // namespace flowood::flows
