#pragma once
/// The scores built on per-example statistics of a flow, fitted on in-distribution examples:
/// the per-level likelihood ratio (after Schirrmeister et al. 2020 and Havtorn et al. 2021), DoSE's
/// kernel density estimates of summary statistics (Morningstar et al. 2021) and Fisher's
/// combination of standardised statistics' p-values (Bergamin et al. 2022). docs/scores.md defines
/// each with its orientation.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/ood/score.hpp"

namespace flowood::ood {

/// A named per-example statistic.
struct Statistic {
  std::string name;
  std::vector<double> values;
};

// ---- per-level likelihood -------------------------------------------------------------------

/// c_last / d_last − c_first / d_first: the last level's log-likelihood contribution per dimension
/// against the first level's (nats/dim; higher = in-distribution). ConfigError(scores) for fewer
/// than two levels.
std::vector<double> level_ratio(const LoglikScores& terms);

// ---- DoSE -----------------------------------------------------------------------------------

/// DoSE's summary statistics of each example: loglik (log p(x)), logdet (log|det J| of the whole
/// map, preprocessing included), sqnorm (‖z‖²), and with two or more levels, for each level l,
/// sqnorm_level<l> and logdet_level<l>. (log p(z) is −½‖z‖² − D/2·log 2π, an affine function of
/// sqnorm: its density estimate would count sqnorm twice, so it is left out.)
std::vector<Statistic> dose_statistics(const LoglikScores& terms);

/// A one-dimensional Gaussian kernel density estimate: p̂(s) = 1/n Σ_i N(s; s_i, h²).
struct Kde {
  std::vector<double> points;
  double bandwidth = 0;
};

/// Silverman's rule of thumb, h = 0.9 · min(sd, IQR / 1.34) · n^(−1/5) (sd with divisor n − 1,
/// IQR between the 25 % and 75 % quantiles, linear interpolation); when that is 0 (a constant
/// statistic, or over half the values equal) sd alone, and 1e-6 · max(1, |mean|) when sd is 0 too.
double silverman_bandwidth(const std::vector<double>& values);
/// The estimate on `values` with Silverman's bandwidth. DataError(source) when empty or not finite.
Kde fit_kde(std::vector<double> values, const std::string& source);
/// log p̂(x) for each x (log-sum-exp over the points, exact in the tails).
std::vector<double> kde_log_density(const Kde& kde, const std::vector<double>& x);

/// DoSE's score: Σ_j log p̂_j(s_j(x)) over the statistics, each estimate fitted on the same
/// statistic of in-distribution examples (higher = in-distribution). `fits` and `stats` must name
/// the same statistics in the same order (ConfigError otherwise).
std::vector<double> dose_scores(const std::vector<Kde>& fits, const std::vector<std::string>& fit_names,
                                const std::vector<Statistic>& stats);

// ---- Fisher's method ------------------------------------------------------------------------

/// A statistic's in-distribution reference for empirical p-values: its mean and sd over the
/// reference examples, and their sorted test values t = |s − mean| / sd (two-sided) or
/// (s − mean) / sd (one-sided: only large values are extreme).
struct StandardizedReference {
  std::string name;
  double mean = 0;
  double sd = 1;
  bool two_sided = true;
  std::vector<double> sorted;  ///< the reference examples' t, ascending
};

/// The reference of one statistic (DataError(source) for fewer than 2 values or non-finite ones; sd
/// 0 is replaced by 1e-12 · max(1, |mean|)).
StandardizedReference standardize_reference(const Statistic& s, const std::string& source, bool two_sided = true);

/// Σ_l (s_l − mean_l) / sd_l over the statistics, each standardised with its reference (same
/// names in the same order; ConfigError otherwise).
Statistic standardized_sum(const std::vector<Statistic>& stats, const std::vector<StandardizedReference>& refs,
                           const std::string& name);

/// Fisher's method over empirical p-values: for each statistic j,
/// p_j(x) = (1 + #{reference t ≥ t_j(x)}) / (n + 1), and the score is −2 Σ_j log p_j(x)
/// (χ² with 2J degrees of freedom under independence; higher = OOD).
std::vector<double> fisher_scores(const std::vector<StandardizedReference>& refs, const std::vector<Statistic>& stats);

}  // namespace flowood::ood
