#include "flowood/ood/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"

namespace {

using flowood::ood::compute_ood_metrics;
using flowood::ood::OodMetrics;

// ---- Brute-force references (O(n²) / per-threshold), written straight from the definitions. ----

double brute_auroc(const std::vector<double>& pos, const std::vector<double>& neg) {
  double wins = 0;
  for (const double p : pos)
    for (const double n : neg) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  return wins / (static_cast<double>(pos.size()) * static_cast<double>(neg.size()));
}

// (tp, fp) at each distinct threshold, high to low.
std::vector<std::pair<double, double>> brute_counts(const std::vector<double>& pos, const std::vector<double>& neg) {
  std::set<double, std::greater<double>> thresholds(pos.begin(), pos.end());
  thresholds.insert(neg.begin(), neg.end());
  std::vector<std::pair<double, double>> out;
  for (const double t : thresholds) {
    const double tp = static_cast<double>(std::count_if(pos.begin(), pos.end(), [t](double s) { return s >= t; }));
    const double fp = static_cast<double>(std::count_if(neg.begin(), neg.end(), [t](double s) { return s >= t; }));
    out.emplace_back(tp, fp);
  }
  return out;
}

double brute_ap(const std::vector<double>& pos, const std::vector<double>& neg) {
  double ap = 0, prev_recall = 0;
  for (const auto& [tp, fp] : brute_counts(pos, neg)) {
    const double recall = tp / static_cast<double>(pos.size());
    ap += (recall - prev_recall) * tp / (tp + fp);
    prev_recall = recall;
  }
  return ap;
}

double brute_fpr95(const std::vector<double>& pos, const std::vector<double>& neg) {
  double best = 1.0;
  for (const auto& [tp, fp] : brute_counts(pos, neg))
    if (tp / static_cast<double>(pos.size()) >= 0.95) best = std::min(best, fp / static_cast<double>(neg.size()));
  return best;
}

std::vector<double> neg_of(std::vector<double> v) {
  for (auto& x : v) x = -x;
  return v;
}

// ---- Hand-computed cases ----

TEST(OodMetricsTest, SmallCaseWithTiesByHand) {
  // in = {1,2,3}, out = {2,0}; higher = in.
  // Pairs (in,out): (1,2)=0 (1,0)=1 (2,2)=½ (2,0)=1 (3,2)=1 (3,0)=1 -> 4.5/6 = 0.75.
  // ROC walk (score ≥ t): t=3: tp1 fp0; t=2: tp2 fp1; t=1: tp3 fp1; t=0: tp3 fp2.
  // AP-in = ⅓·1 + ⅓·⅔ + ⅓·¾ = 29/36.
  // FPR95 in-positive: first TPR ≥ .95 is t=1 (tp 3/3) with fp 1/2 -> 0.5.
  // OOD positive on −s: out' = {−2, 0}, in' = {−1,−2,−3}. t=0: tp1 fp0; t=−1: tp1 fp1;
  //   t=−2: tp2 fp2; t=−3: tp2 fp3. AUPR-out = ½·1 + ½·(2/4) = 0.75;
  //   FPR95 OOD-positive: tp 2/2 first at t=−2 with fp 2/3.
  // Detection error: ½(1−tpr)+½fpr over (0,0) (0,⅓) (½,⅔) (½,1) (1,1) = .5 ⅓ 5/12 ¼ .5 -> 0.25.
  const OodMetrics m = compute_ood_metrics({1, 2, 3}, {2, 0});
  EXPECT_DOUBLE_EQ(m.auroc, 0.75);
  EXPECT_DOUBLE_EQ(m.aupr_in, 29.0 / 36.0);
  EXPECT_DOUBLE_EQ(m.aupr_out, 0.75);
  EXPECT_DOUBLE_EQ(m.fpr95_in_positive, 0.5);
  EXPECT_DOUBLE_EQ(m.fpr95_ood_positive, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.detection_error, 0.25);
  EXPECT_EQ(m.n_in, 3);
  EXPECT_EQ(m.n_out, 2);
}

TEST(OodMetricsTest, SecondHandCase) {
  // in = {0.9, 0.4, 0.4, 0.1}, out = {0.4, 0.2, 0.05}.
  // AUROC pairs: 0.9 beats 3 -> 3; each 0.4: ½ + 1 + 1 = 2.5 (×2 = 5); 0.1: beats 0.05 -> 1.
  //   (3 + 5 + 1) / 12 = 0.75.
  // Walk: t=.9 tp1 fp0; t=.4 tp3 fp1; t=.2 tp3 fp2; t=.1 tp4 fp2; t=.05 tp4 fp3.
  // AP-in = ¼·1 + ½·¾ + ¼·(4/6) = 0.25 + 0.375 + 1/6 = 19/24.
  // FPR95 in-positive: tp 4/4 first at t=.1 -> fp 2/3.
  // OOD positive: out' = {−.4, −.2, −.05}, in' = {−.9, −.4, −.4, −.1}.
  //   t=−.05 tp1 fp0; t=−.1 tp1 fp1; t=−.2 tp2 fp1; t=−.4 tp3 fp3; t=−.9 tp3 fp4.
  //   AUPR-out = ⅓·1 + ⅓·(2/3) + ⅓·(3/6) = (1 + ⅔ + ½)/3 = 13/18. FPR95 OOD-positive: 3/4.
  // Detection error: (fpr,tpr) = (0,¼) .375; (⅓,¾) 7/24 ≈ .2917; (⅔,¾) .4583; (⅔,1) ⅓ -> 7/24.
  const OodMetrics m = compute_ood_metrics({0.9, 0.4, 0.4, 0.1}, {0.4, 0.2, 0.05});
  EXPECT_DOUBLE_EQ(m.auroc, 0.75);
  EXPECT_DOUBLE_EQ(m.aupr_in, 19.0 / 24.0);
  EXPECT_DOUBLE_EQ(m.aupr_out, 13.0 / 18.0);
  EXPECT_DOUBLE_EQ(m.fpr95_in_positive, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.fpr95_ood_positive, 0.75);
  EXPECT_DOUBLE_EQ(m.detection_error, 7.0 / 24.0);
}

TEST(OodMetricsTest, PerfectSeparation) {
  const OodMetrics m = compute_ood_metrics({3, 4, 5}, {1, 2});
  EXPECT_DOUBLE_EQ(m.auroc, 1.0);
  EXPECT_DOUBLE_EQ(m.aupr_in, 1.0);
  EXPECT_DOUBLE_EQ(m.aupr_out, 1.0);
  EXPECT_DOUBLE_EQ(m.fpr95_in_positive, 0.0);
  EXPECT_DOUBLE_EQ(m.fpr95_ood_positive, 0.0);
  EXPECT_DOUBLE_EQ(m.detection_error, 0.0);
}

TEST(OodMetricsTest, ReversedSeparation) {
  // in = {1,2}, out = {3,4}. Walk: t=4 fp1; t=3 fp2; t=2 tp1 (P=⅓); t=1 tp2 (P=½).
  // AP-in = ½·⅓ + ½·½ = 5/12. Every threshold reaching TPR .95 accepts all OOD -> FPR 1.
  const OodMetrics m = compute_ood_metrics({1, 2}, {3, 4});
  EXPECT_DOUBLE_EQ(m.auroc, 0.0);
  EXPECT_DOUBLE_EQ(m.aupr_in, 5.0 / 12.0);
  EXPECT_DOUBLE_EQ(m.aupr_out, 5.0 / 12.0);
  EXPECT_DOUBLE_EQ(m.fpr95_in_positive, 1.0);
  EXPECT_DOUBLE_EQ(m.fpr95_ood_positive, 1.0);
  EXPECT_DOUBLE_EQ(m.detection_error, 0.5);
}

TEST(OodMetricsTest, AllEqualScores) {
  // One threshold accepting everything: AUROC ½, AP = prevalence, FPR 1, detection error ½.
  const OodMetrics m = compute_ood_metrics({1, 1}, {1, 1, 1});
  EXPECT_DOUBLE_EQ(m.auroc, 0.5);
  EXPECT_DOUBLE_EQ(m.aupr_in, 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.aupr_out, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.fpr95_in_positive, 1.0);
  EXPECT_DOUBLE_EQ(m.fpr95_ood_positive, 1.0);
  EXPECT_DOUBLE_EQ(m.detection_error, 0.5);
}

TEST(OodMetricsTest, LowerIsInFlipsOrientation) {
  const OodMetrics m = compute_ood_metrics({1, 2}, {3, 4}, /*higher_is_in=*/false);
  EXPECT_DOUBLE_EQ(m.auroc, 1.0);
  EXPECT_DOUBLE_EQ(m.fpr95_in_positive, 0.0);
  EXPECT_FALSE(m.higher_is_in);
  const OodMetrics a = compute_ood_metrics({1, 2, 3}, {2, 0});
  const OodMetrics b = compute_ood_metrics(neg_of({1, 2, 3}), neg_of({2, 0}), false);
  EXPECT_DOUBLE_EQ(a.auroc, b.auroc);
  EXPECT_DOUBLE_EQ(a.aupr_in, b.aupr_in);
  EXPECT_DOUBLE_EQ(a.aupr_out, b.aupr_out);
  EXPECT_DOUBLE_EQ(a.fpr95_ood_positive, b.fpr95_ood_positive);
}

TEST(OodMetricsTest, Fpr95ThresholdIsExactAtTheBoundary) {
  // 20 in-dist scores 1..20: TPR ≥ .95 needs 19 accepted, i.e. threshold 2. OOD scores at 1.5
  // (rejected at threshold 2) and 2 (accepted, tie with in-dist counts as accepted).
  std::vector<double> in;
  for (int i = 1; i <= 20; ++i) in.push_back(i);
  EXPECT_DOUBLE_EQ(compute_ood_metrics(in, {1.5, 1.5, 2.0, 30.0}).fpr95_in_positive, 0.5);
  EXPECT_DOUBLE_EQ(flowood::ood::fpr_at_tpr(in, {1.5, 1.5, 2.0, 30.0}, 0.95), 0.5);
  EXPECT_DOUBLE_EQ(flowood::ood::fpr_at_tpr(in, {1.5, 1.5, 2.0, 30.0}, 1.0), 1.0);
}

TEST(OodMetricsTest, MatchesBruteForceOnRandomTiedData) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> coarse(0, 12);  // many ties
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<double> in(5 + trial % 17), out(3 + trial % 11);
    for (auto& v : in) v = coarse(rng) + 2;
    for (auto& v : out) v = coarse(rng);
    const OodMetrics m = compute_ood_metrics(in, out);
    EXPECT_NEAR(m.auroc, brute_auroc(in, out), 1e-12);
    EXPECT_NEAR(m.aupr_in, brute_ap(in, out), 1e-12);
    EXPECT_NEAR(m.aupr_out, brute_ap(neg_of(out), neg_of(in)), 1e-12);
    EXPECT_NEAR(m.fpr95_in_positive, brute_fpr95(in, out), 1e-12);
    EXPECT_NEAR(m.fpr95_ood_positive, brute_fpr95(neg_of(out), neg_of(in)), 1e-12);
    EXPECT_NEAR(flowood::ood::auroc(in, out), m.auroc, 1e-15);
    EXPECT_NEAR(flowood::ood::average_precision(in, out), m.aupr_in, 1e-15);
    EXPECT_NEAR(flowood::ood::detection_error(in, out), m.detection_error, 1e-15);
  }
}

TEST(OodMetricsTest, LargeSampleIsFastAndSymmetric) {
  std::mt19937 rng(7);
  std::normal_distribution<double> a(0.0, 1.0), b(1.0, 1.0);
  std::vector<double> in(50000), out(50000);
  for (auto& v : in) v = b(rng);
  for (auto& v : out) v = a(rng);
  const OodMetrics m = compute_ood_metrics(in, out);
  // AUROC of N(1,1) vs N(0,1) = Φ(1/√2) ≈ 0.7602.
  EXPECT_NEAR(m.auroc, 0.7602, 0.01);
  EXPECT_NEAR(compute_ood_metrics(out, in).auroc, 1.0 - m.auroc, 1e-12);
}

TEST(OodMetricsTest, InfinitiesAreAllowed) {
  const double inf = std::numeric_limits<double>::infinity();
  const OodMetrics m = compute_ood_metrics({1, 2}, {-inf, 0});
  EXPECT_DOUBLE_EQ(m.auroc, 1.0);
}

TEST(OodMetricsTest, RocCurvePoints) {
  const auto roc = flowood::ood::roc_curve({1, 2, 3}, {2, 0});
  ASSERT_EQ(roc.size(), 5u);
  EXPECT_TRUE(std::isinf(roc[0].threshold));
  EXPECT_DOUBLE_EQ(roc[2].threshold, 2.0);
  EXPECT_DOUBLE_EQ(roc[2].fpr, 0.5);
  EXPECT_DOUBLE_EQ(roc[2].tpr, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(roc.back().fpr, 1.0);
  EXPECT_DOUBLE_EQ(roc.back().tpr, 1.0);
}

TEST(OodMetricsTest, NanAndEmptyInputsAreDataErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  try {
    compute_ood_metrics({1, nan, nan}, {0});
    FAIL();
  } catch (const flowood::DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("in-distribution"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 of 3"), std::string::npos) << msg;
  }
  try {
    compute_ood_metrics({1}, {nan});
    FAIL();
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("OOD"), std::string::npos) << e.what();
  }
  EXPECT_THROW(compute_ood_metrics({}, {1}), flowood::DataError);
  EXPECT_THROW(compute_ood_metrics({1}, {}), flowood::DataError);
  EXPECT_THROW(flowood::ood::fpr_at_tpr({1}, {0}, 0.0), flowood::ConfigError);
}

TEST(OodMetricsTest, JsonRoundTrip) {
  const OodMetrics m = compute_ood_metrics({1, 2, 3}, {2, 0});
  const flowood::io::Json j = m.to_json();
  EXPECT_EQ(flowood::io::json_keys(j), (std::vector<std::string>{"auroc", "aupr_in", "aupr_out", "fpr95_in_positive",
                                                "fpr95_ood_positive", "detection_error", "n_in", "n_out",
                                                "higher_is_in"}));
  EXPECT_EQ(j.at("n_in").dump(), "3");
  const OodMetrics back = OodMetrics::from_json(flowood::io::parse_json(j.dump(2)));
  EXPECT_EQ(back.auroc, m.auroc);
  EXPECT_EQ(back.aupr_in, m.aupr_in);
  EXPECT_EQ(back.fpr95_ood_positive, m.fpr95_ood_positive);
  EXPECT_EQ(back.n_out, 2);
  EXPECT_TRUE(back.higher_is_in);
  EXPECT_THROW(OodMetrics::from_json(flowood::io::parse_json("{\"auroc\": 0.5}")), flowood::DataError);
}

}  // namespace
