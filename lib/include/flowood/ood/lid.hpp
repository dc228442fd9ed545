#pragma once
/// Local intrinsic dimension (LID) of a flow at each example, and the dual-threshold score of
/// likelihood and LID (after Kamkari et al. 2024). docs/scores.md derives the estimator.
///
/// The flow is linearised at a data point x0 with latent z0 = f(x0): around x0 the model is a
/// Gaussian whose covariance is J Jᵀ, J = (∂f/∂x)⁻¹ the generator's Jacobian. Convolving it with
/// N(0, σ² I), σ = e^δ, gives a density ρ_δ, and LID_δ(x0) = D + ∂ log ρ_δ(x0) / ∂δ. With
/// A = ∂f/∂x (the flow's Jacobian) and N = A Aᵀ this is
///   LID_δ = tr((I + σ² N)⁻¹) + σ² z0ᵀ N (I + σ² N)⁻² z0,
/// about the number of directions in which the model spreads the data by more than σ.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/ood/statistics.hpp"

namespace flowood::ood {

struct LidOptions {
  double delta = -3.0;  ///< log σ, σ in the model's data units (image models: pixels / 256, in [0, 1])
  int64_t probes = 2;   ///< Hutchinson probes (Rademacher) of the trace term; 0 = the exact Jacobian (D backward passes)
  int64_t steps = 32;   ///< Lanczos steps per quadratic form
};

/// LID_δ from the flow's Jacobian A [D, D] and the latent z0 [D] (by an SVD of A; float64). The
/// closed form the estimators are tested against, and the exact mode.
struct LidTerms {
  double trace = 0;      ///< tr((I + σ² N)⁻¹)
  double quadratic = 0;  ///< σ² z0ᵀ N (I + σ² N)⁻² z0
  double lid() const { return trace + quadratic; }
};
LidTerms lid_exact(const torch::Tensor& jacobian, const torch::Tensor& z, double delta);

/// The Gauss quadrature rule k Lanczos steps give for each row's quadratic form vᵀ h(N) v, N
/// symmetric positive semi-definite given by `matvec` ([R, D] → [R, D], row-wise): vᵀ h(N) v ≈
/// Σ_m weights[r, m] · h(nodes[r, m]). Full reorthogonalisation, float64; a row whose Krylov
/// space is exhausted early gets zero weight on its spare nodes.
struct GaussRule {
  torch::Tensor nodes;    ///< [R, k] eigenvalues of the Lanczos tridiagonal (≥ 0)
  torch::Tensor weights;  ///< [R, k] ‖v‖² × squared first components of its eigenvectors
};
GaussRule lanczos_rule(const std::function<torch::Tensor(const torch::Tensor&)>& matvec, const torch::Tensor& v,
                       int64_t steps);

/// The data point of pixels x [N, C, H, W] (k/255) under dequantisation noise u: (255 x + u) / 256
/// for image models (the space the flow's density is on), x itself for feature models.
torch::Tensor data_point(const flows::FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u);
/// The flow's latent z [N, D] of data points d (preprocessing included).
torch::Tensor latent_of(flows::FlowModelImpl& model, const torch::Tensor& d);
/// The flow's Jacobian ∂z/∂d [D, D] at one data point d [1, ...] (D backward passes, batched).
torch::Tensor latent_jacobian(flows::FlowModelImpl& model, const torch::Tensor& d);

/// For each example of `data` (first `options.limit`; 0 = all), at the data point of the noise
/// score_loglik uses for its first sample: "lid" (the estimate), "lid_trace" and "lid_quadratic"
/// (its two terms). Estimated: `probes` Rademacher vectors and z0 each start `steps` Lanczos steps
/// on M = JᵀJ = N⁻¹ through the generator (the flow's inverse): products with Jᵀ are backward
/// passes, products with J double-backward passes (exact up to rounding; the estimate's error is
/// the trace's sampling error and the quadrature's). Exact (probes = 0): the full Jacobian A.
/// Eval mode; the model's mode is restored. ConfigError for delta not finite, probes < 0, steps < 1.
std::vector<Statistic> lid_statistics(flows::FlowModelImpl& model, const data::ImageDataset& data,
                                      const LoglikOptions& options, const LidOptions& lid);

/// The dual-threshold score: an example is in-distribution at level q when its log-likelihood and
/// its LID are both at least their q-quantiles over in-distribution reference examples, i.e. when
/// min(F_L(loglik), F_LID(lid)) ≥ q, F the references' empirical CDFs (#{reference ≤ s} / n).
/// Returns that minimum (higher = in-distribution). DataError(source) for an empty or non-finite
/// reference, ConfigError for lengths that differ.
std::vector<double> dual_threshold_scores(std::vector<double> reference_loglik, std::vector<double> reference_lid,
                                          const std::vector<double>& loglik, const std::vector<double>& lid,
                                          const std::string& source);

}  // namespace flowood::ood
