// The classifier baselines against values computed by hand on a 3-class toy.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/ood/classifier_scores.hpp"

namespace ood = flowood::ood;

TEST(ClassifierScores, MaxSoftmaxAndEnergyByHand) {
  // Row 0: softmax ∝ (1, 2, 5) → max 5/8, logsumexp = ln 8. Row 1: equal logits → 1/3, 1 + ln 3.
  const auto logits = torch::tensor({0.0, std::log(2.0), std::log(5.0), 1.0, 1.0, 1.0}, torch::kFloat64).view({2, 3});
  const auto msp = ood::max_softmax_probability(logits);
  EXPECT_NEAR(msp[0], 5.0 / 8.0, 1e-12);
  EXPECT_NEAR(msp[1], 1.0 / 3.0, 1e-12);
  const auto energy = ood::negative_energy(logits);
  EXPECT_NEAR(energy[0], std::log(8.0), 1e-12);
  EXPECT_NEAR(energy[1], 1.0 + std::log(3.0), 1e-12);
  // Temperature T: T · logsumexp(l / T).
  EXPECT_NEAR(ood::negative_energy(logits, 2.0)[1], 2.0 * (0.5 + std::log(3.0)), 1e-12);
  EXPECT_THROW(ood::max_softmax_probability(torch::zeros({3})), flowood::Error);
}

TEST(ClassifierScores, MahalanobisByHand) {
  // Class means (0, 0), (5, 0), (0, 6); centred points give Σ = [[2/3, −1/3], [−1/3, 2/3]],
  // Σ⁻¹ = [[2, 1], [1, 2]].
  const auto f = torch::tensor({-1.0, 0.0, 1.0, 0.0, 4.0, 1.0, 6.0, -1.0, 0.0, 5.0, 0.0, 7.0}, torch::kFloat64).view({6, 2});
  const auto y = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kInt64);
  const auto model = ood::fit_mahalanobis(f, y, /*ridge=*/0.0);
  EXPECT_TRUE(torch::allclose(model.precision, torch::tensor({2.0, 1.0, 1.0, 2.0}, torch::kFloat64).view({2, 2}), 1e-9, 1e-9));
  EXPECT_EQ(model.classes, (std::vector<int64_t>{0, 1, 2}));
  // (1, 1): distances² 6 (class 0), 26 (class 1), 42 (class 2) → −6. (5, 1): 2 to class 1 → −2.
  const auto s = ood::mahalanobis_scores(model, torch::tensor({1.0, 1.0, 5.0, 1.0}, torch::kFloat64).view({2, 2}));
  EXPECT_NEAR(s[0], -6.0, 1e-9);
  EXPECT_NEAR(s[1], -2.0, 1e-9);
  // Farther from every class mean = lower score.
  EXPECT_LT(ood::mahalanobis_scores(model, torch::tensor({30.0, -30.0}, torch::kFloat64).view({1, 2}))[0], s[0]);
  EXPECT_THROW(ood::mahalanobis_scores(model, torch::zeros({1, 3})), flowood::DataError);
  EXPECT_THROW(ood::fit_mahalanobis(f, y.narrow(0, 0, 5)), flowood::DataError);
}

TEST(ClassifierScores, MahalanobisSurvivesASingularCovariance) {
  // A constant feature: Σ is singular; the ridge keeps the scores finite and ordered.
  auto f = torch::randn({40, 3}, torch::kFloat64);
  f.select(1, 2).fill_(1.0);
  const auto y = torch::arange(40, torch::kInt64).remainder(2);
  const auto model = ood::fit_mahalanobis(f, y);
  const auto s = ood::mahalanobis_scores(model, f);
  for (double v : s) EXPECT_TRUE(std::isfinite(v));
}
