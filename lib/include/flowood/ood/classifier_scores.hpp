#pragma once
/// The classifier baselines a flow on embeddings must beat, computed from a classifier's logits or
/// features: maximum softmax probability (Hendrycks & Gimpel 2017), energy (Liu et al. 2020) and
/// the Mahalanobis distance to the nearest class mean under a shared covariance (Lee et al. 2018).
/// Every score is oriented higher = more in-distribution.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace flowood::ood {

/// max_k softmax(logits)_k per row; logits [N, K] (K >= 2).
std::vector<double> max_softmax_probability(const torch::Tensor& logits);

/// The negative free energy T · logsumexp_k(logits_k / T) per row (T = temperature > 0).
std::vector<double> negative_energy(const torch::Tensor& logits, double temperature = 1.0);

/// Class means and the inverse of the shared (pooled, maximum-likelihood) covariance of training
/// features, in float64.
struct MahalanobisModel {
  torch::Tensor means;      ///< [K, D]
  torch::Tensor precision;  ///< [D, D], inverse of Σ = (1/N) Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ (+ ridge)
  std::vector<int64_t> classes;  ///< the label of each row of `means`
  double ridge = 0;         ///< added to Σ's diagonal (relative to its mean variance) to keep it invertible
};

/// Fits the model on features [N, D] and labels [N] (int64); classes are the distinct labels.
/// A ridge of `ridge` × mean(diag Σ) is added to the diagonal. Throws DataError("") for fewer than
/// two examples, mismatched lengths or non-finite features.
MahalanobisModel fit_mahalanobis(const torch::Tensor& features, const torch::Tensor& labels, double ridge = 1e-6);

/// −min_k (f − μ_k)ᵀ Σ⁻¹ (f − μ_k) per row of features [N, D].
std::vector<double> mahalanobis_scores(const MahalanobisModel& model, const torch::Tensor& features);

}  // namespace flowood::ood
