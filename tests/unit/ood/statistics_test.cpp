// The statistics-based scores against hand-computed values: kernel density estimates and
// Silverman's bandwidth, DoSE's statistics, the level ratio, Fisher's combination, and the
// typicality threshold from held-out data.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"
#include "flowood/ood/methods.hpp"
#include "flowood/ood/statistics.hpp"

namespace flowood::ood {
namespace {

double log_normal(double x, double mean, double sd) {
  const double u = (x - mean) / sd;
  return -0.5 * u * u - std::log(sd) - 0.5 * std::log(2 * M_PI);
}

TEST(Kde, SilvermanBandwidthByHand) {
  // sd = sqrt(2.5), IQR = 4 − 2 = 2 → min(1.5811, 2 / 1.34) = 1.4925; h = 0.9 · 1.4925 · 5^(−1/5).
  EXPECT_NEAR(silverman_bandwidth({5, 1, 4, 2, 3}), 0.9 * (2.0 / 1.34) * std::pow(5.0, -0.2), 1e-12);
  // Over half the values equal: IQR 0, so the sd is used: values {0, 0, 0, 0, 10}, sd = sqrt(20).
  EXPECT_NEAR(silverman_bandwidth({0, 0, 0, 0, 10}), 0.9 * std::sqrt(20.0) * std::pow(5.0, -0.2), 1e-12);
  // A constant statistic still gets a positive bandwidth.
  EXPECT_GT(silverman_bandwidth({3, 3, 3}), 0.0);
}

TEST(Kde, MatchesTheClosedFormMixture) {
  const Kde kde{{-1.0, 2.0}, 0.7};
  for (double x : {-3.0, -1.0, 0.3, 2.0, 5.0}) {
    const double expected = std::log(0.5 * std::exp(log_normal(x, -1.0, 0.7)) + 0.5 * std::exp(log_normal(x, 2.0, 0.7)));
    EXPECT_NEAR(kde_log_density(kde, {x})[0], expected, 1e-12) << x;
  }
  // Far in the tail the log-sum-exp keeps the exact value where exp() would underflow.
  EXPECT_NEAR(kde_log_density(Kde{{0.0}, 1.0}, {100.0})[0], log_normal(100.0, 0.0, 1.0), 1e-9);
}

TEST(Kde, IntegratesToOne) {
  const auto kde = fit_kde({0.1, 0.4, 0.45, 1.3, 2.2, 2.25, 3.0}, "test");
  double sum = 0, step = 1e-3;
  for (double x = -10; x < 13; x += step) sum += std::exp(kde_log_density(kde, {x})[0]) * step;
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(Kde, RefusesEmptyAndNonFiniteValues) {
  EXPECT_THROW(fit_kde({}, "fit"), DataError);
  try {
    fit_kde({1.0, std::nan("")}, "fashion-mnist:train (loglik)");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fashion-mnist:train (loglik)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("example 1"), std::string::npos) << e.what();
  }
}

/// Two examples, two levels of 3 and 5 dimensions.
LoglikScores two_levels() {
  LoglikScores t;
  t.level = {{-6.0, -9.0}, {-8.0, -4.0}};
  t.sqnorm = {{2.0, 4.0}, {1.0, 3.0}};
  t.level_dims = {3, 5};
  t.outside = {-100.0, -101.0};
  t.loglik = {-6.0 - 8.0 - 100.0, -9.0 - 4.0 - 101.0};
  t.bpd = {0, 0};
  return t;
}

TEST(LevelRatio, LastLevelPerDimensionMinusTheFirst) {
  const auto r = level_ratio(two_levels());
  EXPECT_DOUBLE_EQ(r[0], -8.0 / 5 - (-6.0 / 3));
  EXPECT_DOUBLE_EQ(r[1], -4.0 / 5 - (-9.0 / 3));
  auto one = two_levels();
  one.level.pop_back();
  one.sqnorm.pop_back();
  one.level_dims.pop_back();
  EXPECT_THROW(level_ratio(one), ConfigError);
}

TEST(Dose, StatisticsByHand) {
  const auto stats = dose_statistics(two_levels());
  ASSERT_EQ(stats.size(), 7u);
  const double c = 0.5 * std::log(2 * M_PI);
  EXPECT_EQ(stats[0].name, "loglik");
  EXPECT_DOUBLE_EQ(stats[0].values[0], -114.0);
  // log|det J| = log p(x) − log N(z), log N(z) = −½‖z‖² − 8·½ log 2π.
  EXPECT_EQ(stats[1].name, "logdet");
  EXPECT_NEAR(stats[1].values[0], -114.0 - (-0.5 * 3.0 - 8 * c), 1e-12);
  EXPECT_EQ(stats[2].name, "sqnorm");
  EXPECT_DOUBLE_EQ(stats[2].values[1], 7.0);
  EXPECT_EQ(stats[3].name, "sqnorm_level0");
  EXPECT_DOUBLE_EQ(stats[3].values[1], 4.0);
  // A level's log-det: its contribution − log N(z_l).
  EXPECT_EQ(stats[6].name, "logdet_level1");
  EXPECT_NEAR(stats[6].values[0], -8.0 - (-0.5 * 1.0 - 5 * c), 1e-12);
  // One level: no per-level statistics.
  auto one = two_levels();
  one.level = {{-14.0, -13.0}};
  one.sqnorm = {{3.0, 7.0}};
  one.level_dims = {8};
  EXPECT_EQ(dose_statistics(one).size(), 3u);
}

TEST(Dose, ScoreIsTheSumOfTheLogDensities) {
  const std::vector<Kde> fits = {{{0.0, 1.0}, 0.5}, {{10.0}, 2.0}};
  const std::vector<Statistic> stats = {{"a", {0.2, 3.0}}, {"b", {9.0, 10.0}}};
  const auto s = dose_scores(fits, {"a", "b"}, stats);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_NEAR(s[i], kde_log_density(fits[0], {stats[0].values[i]})[0] + kde_log_density(fits[1], {stats[1].values[i]})[0], 1e-12);
  EXPECT_GT(s[0], s[1]);  // the typical example scores higher
  EXPECT_THROW(dose_scores(fits, {"a", "c"}, stats), ConfigError);
}

TEST(Fisher, EmpiricalPValuesByHand) {
  const auto ref = standardize_reference({"s", {1, 2, 3, 4, 5}}, "test");
  EXPECT_DOUBLE_EQ(ref.mean, 3.0);
  EXPECT_NEAR(ref.sd, std::sqrt(2.5), 1e-12);
  const auto f = fisher_scores({ref}, {{"s", {3.0, 4.0, 1.5, 100.0, -100.0}}});
  EXPECT_NEAR(f[0], 0.0, 1e-12);                        // |z| = 0: all 5 at least as extreme, p = 6/6
  EXPECT_NEAR(f[1], -2 * std::log(5.0 / 6), 1e-12);     // |z| of 4: 2, 4, 5 and 1 tie or exceed → p = 5/6
  EXPECT_NEAR(f[2], -2 * std::log(3.0 / 6), 1e-12);     // |z| of 1.5: only 1 and 5 exceed → p = 3/6
  EXPECT_NEAR(f[3], -2 * std::log(1.0 / 6), 1e-12);     // beyond every reference value: p = 1/(n+1)
  EXPECT_NEAR(f[4], f[3], 1e-12);                       // two-sided
  // One-sided: only large values are extreme.
  const auto up = standardize_reference({"s", {1, 2, 3, 4, 5}}, "test", /*two_sided=*/false);
  const auto g = fisher_scores({up}, {{"s", {-100.0, 4.0, 100.0}}});
  EXPECT_NEAR(g[0], 0.0, 1e-12);                        // p = 6/6
  EXPECT_NEAR(g[1], -2 * std::log(3.0 / 6), 1e-12);     // 4 and 5 tie or exceed
  EXPECT_NEAR(g[2], -2 * std::log(1.0 / 6), 1e-12);
  // Two statistics add.
  const auto ref2 = standardize_reference({"t", {0, 10}}, "test");
  const auto h = fisher_scores({ref, ref2}, {{"s", {100.0}}, {"t", {5.0}}});
  EXPECT_NEAR(h[0], -2 * std::log(1.0 / 6) - 2 * std::log(3.0 / 3), 1e-12);
  EXPECT_THROW(fisher_scores({ref}, {{"other", {1.0}}}), ConfigError);
  EXPECT_THROW(standardize_reference({"s", {1.0}}, "test"), DataError);
}

TEST(Fisher, StandardizedSumOfLayers) {
  const auto a = standardize_reference({"a", {0, 2}}, "test", false);   // mean 1, sd √2
  const auto b = standardize_reference({"b", {10, 20}}, "test", false); // mean 15, sd √50
  const auto sum = standardized_sum({{"a", {1.0, 3.0}}, {"b", {15.0, 5.0}}}, {a, b}, "gradient_sum");
  EXPECT_EQ(sum.name, "gradient_sum");
  EXPECT_NEAR(sum.values[0], 0.0, 1e-12);
  EXPECT_NEAR(sum.values[1], 2 / std::sqrt(2.0) - 10 / std::sqrt(50.0), 1e-12);
  EXPECT_THROW(standardized_sum({{"b", {1.0}}, {"a", {1.0}}}, {a, b}, "gradient_sum"), ConfigError);
}

/// The fraction of in-distribution test batches the typicality test accepts.
double acceptance(const TypicalityReference& ref, const std::vector<double>& test, int64_t m) {
  const auto batches = typicality_batches(test, ref.entropy, m);
  int64_t accepted = 0;
  for (const auto& b : batches) accepted += b.epsilon <= ref.threshold;
  return static_cast<double>(accepted) / static_cast<double>(batches.size());
}

TEST(Typicality, HeldOutThresholdAcceptsTheNominalShareOfInDistributionBatches) {
  // Training examples have higher log-likelihood than unseen ones (1 nat here, about one batch sd).
  std::mt19937_64 rng(5);
  std::normal_distribution<double> train(-100.0, 3.0), unseen(-101.0, 3.0);
  std::vector<double> tr(5000), held(5000), test(20000);
  for (auto& v : tr) v = train(rng);
  for (auto& v : held) v = unseen(rng);
  for (auto& v : test) v = unseen(rng);
  TypicalityOptions o;
  o.batch = 10;
  o.alpha = 0.01;
  o.bootstrap = 4000;
  const auto fixed = typicality_reference(tr, held, o);
  EXPECT_EQ(fixed.n, 5000);
  EXPECT_EQ(fixed.n_heldout, 5000);
  // 2,000 test batches; the threshold is itself a bootstrap estimate: the binomial sd of the test
  // batches (0.0022) and of the 4,000 bootstrap batches (0.0016) together, ±4 sd.
  const double sd = std::sqrt(0.99 * 0.01 / 2000 + 0.99 * 0.01 / 4000);
  EXPECT_NEAR(acceptance(fixed, test, 10), 0.99, 4 * sd);
  // The threshold from the training set alone misses the training/unseen gap: well below 99 %.
  EXPECT_LT(acceptance(typicality_reference(tr, o), test, 10), 0.99 - 4 * sd);
  EXPECT_THROW(typicality_reference(tr, std::vector<double>(5, -100.0), o), ConfigError);
}

}  // namespace
}  // namespace flowood::ood
