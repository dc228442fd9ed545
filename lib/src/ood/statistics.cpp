#include "flowood/ood/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "flowood/core/error.hpp"

namespace flowood::ood {
namespace {

const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);

/// Linear-interpolation quantile of sorted values (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

void check_finite(const std::vector<double>& values, const std::string& source, const std::string& what) {
  if (values.empty()) throw DataError(source, fmt::format("{}: no examples to fit on", what));
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw DataError(source, fmt::format("{}: example {} has a non-finite value ({})", what, i, values[i]));
}

}  // namespace

std::vector<double> level_ratio(const LoglikScores& t) {
  if (t.level.size() < 2 || t.level_dims.size() != t.level.size())
    throw ConfigError("scores", fmt::format("level-ratio needs a flow with two or more levels (factor-outs); this one "
                                            "has {}", t.level.size()));
  const auto& first = t.level.front();
  const auto& last = t.level.back();
  const double d0 = static_cast<double>(t.level_dims.front()), dl = static_cast<double>(t.level_dims.back());
  std::vector<double> out(first.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = last[i] / dl - first[i] / d0;
  return out;
}

std::vector<Statistic> dose_statistics(const LoglikScores& t) {
  const size_t n = t.loglik.size();
  std::vector<double> sqnorm(n, 0.0), log_prior(n, 0.0);
  for (size_t l = 0; l < t.level.size(); ++l)
    for (size_t i = 0; i < n; ++i) {
      sqnorm[i] += t.sqnorm[l][i];
      log_prior[i] += -0.5 * t.sqnorm[l][i] - static_cast<double>(t.level_dims[l]) * kHalfLog2Pi;
    }
  std::vector<double> logdet(n);
  for (size_t i = 0; i < n; ++i) logdet[i] = t.loglik[i] - log_prior[i];
  std::vector<Statistic> out = {{"loglik", t.loglik}, {"logdet", logdet}, {"sqnorm", sqnorm}};
  if (t.level.size() >= 2) {
    for (size_t l = 0; l < t.level.size(); ++l) {
      std::vector<double> ld(n);
      const double d = static_cast<double>(t.level_dims[l]);
      for (size_t i = 0; i < n; ++i) ld[i] = t.level[l][i] + 0.5 * t.sqnorm[l][i] + d * kHalfLog2Pi;
      out.push_back({fmt::format("sqnorm_level{}", l), t.sqnorm[l]});
      out.push_back({fmt::format("logdet_level{}", l), std::move(ld)});
    }
  }
  return out;
}

double silverman_bandwidth(const std::vector<double>& values) {
  const auto n = static_cast<double>(values.size());
  double mean = 0;
  for (double v : values) mean += v / n;
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = values.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
  auto sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
  double spread = std::min(sd, iqr / 1.34);
  if (!(spread > 0)) spread = sd;
  if (!(spread > 0)) return 1e-6 * std::max(1.0, std::abs(mean));
  return 0.9 * spread * std::pow(n, -0.2);
}

Kde fit_kde(std::vector<double> values, const std::string& source) {
  check_finite(values, source, "kernel density estimate");
  Kde k;
  k.bandwidth = silverman_bandwidth(values);
  k.points = std::move(values);
  return k;
}

std::vector<double> kde_log_density(const Kde& kde, const std::vector<double>& x) {
  const double h = kde.bandwidth;
  const double norm = std::log(static_cast<double>(kde.points.size())) + std::log(h) + kHalfLog2Pi;
  std::vector<double> out(x.size());
  std::vector<double> e(kde.points.size());
  for (size_t j = 0; j < x.size(); ++j) {
    double top = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < e.size(); ++i) {
      const double u = (x[j] - kde.points[i]) / h;
      e[i] = -0.5 * u * u;
      top = std::max(top, e[i]);
    }
    double sum = 0;
    for (double v : e) sum += std::exp(v - top);
    out[j] = std::isfinite(top) ? top + std::log(sum) - norm : -std::numeric_limits<double>::infinity();
  }
  return out;
}

std::vector<double> dose_scores(const std::vector<Kde>& fits, const std::vector<std::string>& names,
                                const std::vector<Statistic>& stats) {
  if (fits.size() != stats.size() || names.size() != stats.size())
    throw ConfigError("dose", fmt::format("the fit has {} statistics, the scored examples {}", fits.size(), stats.size()));
  const size_t n = stats.empty() ? 0 : stats.front().values.size();
  std::vector<double> out(n, 0.0);
  for (size_t j = 0; j < stats.size(); ++j) {
    if (names[j] != stats[j].name)
      throw ConfigError("dose", fmt::format("statistic {} of the fit is {}, of the scored examples {}", j, names[j],
                                            stats[j].name));
    const auto lp = kde_log_density(fits[j], stats[j].values);
    for (size_t i = 0; i < n; ++i) out[i] += lp[i];
  }
  return out;
}

namespace {

/// The test value of v against a reference: NaN (a broken statistic) counts as the most extreme.
double test_value(const StandardizedReference& r, double v) {
  if (std::isnan(v)) return std::numeric_limits<double>::infinity();
  const double z = (v - r.mean) / r.sd;
  return r.two_sided ? std::abs(z) : z;
}

}  // namespace

StandardizedReference standardize_reference(const Statistic& s, const std::string& source, bool two_sided) {
  check_finite(s.values, source, s.name);
  if (s.values.size() < 2) throw DataError(source, fmt::format("{}: needs at least 2 examples to standardise", s.name));
  StandardizedReference r;
  r.name = s.name;
  r.two_sided = two_sided;
  const auto n = static_cast<double>(s.values.size());
  for (double v : s.values) r.mean += v / n;
  double ss = 0;
  for (double v : s.values) ss += (v - r.mean) * (v - r.mean);
  r.sd = std::sqrt(ss / (n - 1));
  if (!(r.sd > 0)) r.sd = 1e-12 * std::max(1.0, std::abs(r.mean));
  r.sorted.reserve(s.values.size());
  for (double v : s.values) r.sorted.push_back(test_value(r, v));
  std::sort(r.sorted.begin(), r.sorted.end());
  return r;
}

Statistic standardized_sum(const std::vector<Statistic>& stats, const std::vector<StandardizedReference>& refs,
                           const std::string& name) {
  if (stats.size() != refs.size())
    throw ConfigError(name, fmt::format("the fit has {} statistics, the scored examples {}", refs.size(), stats.size()));
  Statistic out{name, std::vector<double>(stats.empty() ? 0 : stats.front().values.size(), 0.0)};
  for (size_t j = 0; j < stats.size(); ++j) {
    if (refs[j].name != stats[j].name)
      throw ConfigError(name, fmt::format("statistic {} of the fit is {}, of the scored examples {}", j, refs[j].name,
                                          stats[j].name));
    for (size_t i = 0; i < out.values.size(); ++i) out.values[i] += (stats[j].values[i] - refs[j].mean) / refs[j].sd;
  }
  return out;
}

std::vector<double> fisher_scores(const std::vector<StandardizedReference>& refs, const std::vector<Statistic>& stats) {
  if (refs.size() != stats.size())
    throw ConfigError("gradient", fmt::format("the fit has {} statistics, the scored examples {}", refs.size(), stats.size()));
  const size_t n = stats.empty() ? 0 : stats.front().values.size();
  std::vector<double> out(n, 0.0);
  for (size_t j = 0; j < refs.size(); ++j) {
    const auto& r = refs[j];
    if (r.name != stats[j].name)
      throw ConfigError("gradient", fmt::format("statistic {} of the fit is {}, of the scored examples {}", j, r.name,
                                                stats[j].name));
    const double m = static_cast<double>(r.sorted.size());
    for (size_t i = 0; i < n; ++i) {
      const double t = test_value(r, stats[j].values[i]);
      const auto at_least = static_cast<double>(r.sorted.end() - std::lower_bound(r.sorted.begin(), r.sorted.end(), t));
      out[i] += -2.0 * std::log((1.0 + at_least) / (m + 1.0));
    }
  }
  return out;
}

}  // namespace flowood::ood
