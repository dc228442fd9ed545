#include "flowood/ood/curves.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"
#include "flowood/io/csv.hpp"
#include "temp_dir.hpp"

namespace {

using flowood::ood::bootstrap_intervals;
using flowood::ood::Interval;
using flowood::ood::MetricIntervals;

constexpr double kInf = std::numeric_limits<double>::infinity();

// n draws each from N(0, 1) (OOD) and N(shift, 1) (in-distribution), from a fixed seed.
std::pair<std::vector<double>, std::vector<double>> normal_samples(std::size_t n, double shift, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> in(shift, 1.0), out(0.0, 1.0);
  std::vector<double> a(n), b(n);
  for (auto& v : a) v = in(rng);
  for (auto& v : b) v = out(rng);
  return {a, b};
}

std::vector<Interval> all_intervals(const MetricIntervals& m) {
  return {m.auroc, m.aupr_in, m.aupr_out, m.fpr95_in_positive, m.fpr95_ood_positive, m.detection_error};
}

std::vector<double> all_values(const flowood::ood::OodMetrics& m) {
  return {m.auroc, m.aupr_in, m.aupr_out, m.fpr95_in_positive, m.fpr95_ood_positive, m.detection_error};
}

double ap_from_points(const std::vector<flowood::ood::PrPoint>& pr) {
  double ap = 0.0, prev_recall = 0.0;
  for (const auto& p : pr) {
    ap += (p.recall - prev_recall) * p.precision;
    prev_recall = p.recall;
  }
  return ap;
}

// ---- Precision–recall curve ----

TEST(CurvesTest, PrCurveSmallCaseWithTiesByHand) {
  // positive = {1, 2, 3}, negative = {2, 0}. Walking thresholds down (score >= t):
  //   +inf: nothing accepted (recall 0, precision 1 by convention)
  //   3: tp 1 fp 0 -> R 1/3 P 1;  2: tp 2 fp 1 (the tied 2s enter together) -> R 2/3 P 2/3
  //   1: tp 3 fp 1 -> R 1 P 3/4;  0: tp 3 fp 2 -> R 1 P 3/5
  // AP = 1/3·1 + 1/3·2/3 + 1/3·3/4 = 29/36.
  const auto pr = flowood::ood::pr_curve({1, 2, 3}, {2, 0});
  ASSERT_EQ(pr.size(), 5u);
  const double thresholds[] = {kInf, 3, 2, 1, 0};
  const double recall[] = {0, 1.0 / 3, 2.0 / 3, 1, 1};
  const double precision[] = {1, 1, 2.0 / 3, 0.75, 0.6};
  for (std::size_t k = 0; k < pr.size(); ++k) {
    EXPECT_EQ(pr[k].threshold, thresholds[k]) << k;
    EXPECT_DOUBLE_EQ(pr[k].recall, recall[k]) << k;
    EXPECT_DOUBLE_EQ(pr[k].precision, precision[k]) << k;
  }
  EXPECT_DOUBLE_EQ(ap_from_points(pr), 29.0 / 36.0);
  EXPECT_DOUBLE_EQ(flowood::ood::average_precision({1, 2, 3}, {2, 0}), 29.0 / 36.0);

  // Ties across classes at the top: {0.5, 0.5, 0.2} vs {0.5, 0.1} -> one point for all three 0.5s.
  const auto tied = flowood::ood::pr_curve({0.5, 0.5, 0.2}, {0.5, 0.1});
  ASSERT_EQ(tied.size(), 4u);
  EXPECT_EQ(tied[1].threshold, 0.5);
  EXPECT_DOUBLE_EQ(tied[1].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(tied[1].precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(tied[3].precision, 0.6);
}

TEST(CurvesTest, PrCurveIsConsistentWithAveragePrecisionAndRoc) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> coarse(0, 40);  // many ties
  std::normal_distribution<double> fine(0.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> pos, neg;
    const bool tied = trial % 2 == 0;
    for (int i = 0; i < 50 + trial * 37; ++i) pos.push_back(tied ? coarse(rng) + 3 : fine(rng) + 0.7);
    for (int i = 0; i < 80 + trial * 11; ++i) neg.push_back(tied ? coarse(rng) : fine(rng));
    const auto pr = flowood::ood::pr_curve(pos, neg);
    const auto roc = flowood::ood::roc_curve(pos, neg);
    ASSERT_EQ(pr.size(), roc.size());
    for (std::size_t k = 0; k < pr.size(); ++k) {
      EXPECT_EQ(pr[k].threshold, roc[k].threshold);
      EXPECT_EQ(pr[k].recall, roc[k].tpr);
      if (k > 0) {
        EXPECT_LT(pr[k].threshold, pr[k - 1].threshold);
      }
    }
    EXPECT_NEAR(ap_from_points(pr), flowood::ood::average_precision(pos, neg), 1e-12) << "trial " << trial;
  }
}

TEST(CurvesTest, PrCurveRejectsEmptyAndNan) {
  EXPECT_THROW(flowood::ood::pr_curve({}, {1}), flowood::DataError);
  EXPECT_THROW(flowood::ood::pr_curve({1}, {}), flowood::DataError);
  EXPECT_THROW(flowood::ood::pr_curve({1, std::nan("")}, {0}), flowood::DataError);
}

// The table read back has exactly these columns, equal to the points' fields.
template <typename Point>
void expect_table(const flowood::io::CsvTable& table, const std::vector<Point>& points,
                  const std::vector<std::pair<std::string, double Point::*>>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.first);
  EXPECT_EQ(table.columns, names);
  ASSERT_EQ(table.num_rows(), points.size());
  for (const auto& [name, field] : fields)
    for (std::size_t k = 0; k < points.size(); ++k) EXPECT_EQ(table.column(name)[k], points[k].*field) << name << k;
}

TEST(CurvesTest, TablesRoundTripThroughCsvIncludingInfiniteThresholds) {
  using flowood::ood::PrPoint;
  using flowood::ood::RocPoint;
  flowood::testing::TempDir dir("curves");
  const std::vector<double> pos{1, 2, 3, -kInf}, neg{2, 0};
  const auto roc = flowood::ood::roc_curve(pos, neg);
  const auto pr = flowood::ood::pr_curve(pos, neg);
  flowood::io::write_csv(dir.file("roc.csv"), flowood::ood::roc_table(roc));
  flowood::io::write_csv(dir.file("pr.csv"), flowood::ood::pr_table(pr));

  const auto roc_back = flowood::io::read_csv(dir.file("roc.csv"));
  expect_table(roc_back, roc, {{"threshold", &RocPoint::threshold}, {"fpr", &RocPoint::fpr}, {"tpr", &RocPoint::tpr}});
  EXPECT_EQ(roc_back.column("threshold").front(), kInf);
  EXPECT_EQ(roc_back.column("threshold").back(), -kInf);
  expect_table(flowood::io::read_csv(dir.file("pr.csv")), pr,
               {{"threshold", &PrPoint::threshold}, {"recall", &PrPoint::recall}, {"precision", &PrPoint::precision}});
}

// ---- Bootstrap intervals ----

TEST(CurvesTest, BootstrapIntervalsContainThePointEstimate) {
  for (const bool higher_is_in : {true, false}) {
    auto [in, out] = normal_samples(500, 1.0, 5);
    if (!higher_is_in) {
      for (auto& v : in) v = -v;
      for (auto& v : out) v = -v;
    }
    const auto point = flowood::ood::compute_ood_metrics(in, out, higher_is_in);
    const auto ci = bootstrap_intervals(in, out, higher_is_in, 400, 1);
    EXPECT_EQ(ci.resamples, 400);
    EXPECT_DOUBLE_EQ(ci.level, 0.95);
    const auto intervals = all_intervals(ci);
    const auto values = all_values(point);
    for (std::size_t i = 0; i < intervals.size(); ++i) {
      EXPECT_LT(intervals[i].low, intervals[i].high) << i;
      EXPECT_LE(intervals[i].low, values[i]) << i;
      EXPECT_GE(intervals[i].high, values[i]) << i;
    }
    EXPECT_GT(point.auroc, 0.7);  // orientation honoured
  }
}

// The index draw the header documents: the first x < 2^64 - (2^64 mod n), reduced mod n.
std::uint64_t documented_index(std::mt19937_64& rng, std::uint64_t n) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (;;)
    if (const std::uint64_t x = rng(); x <= kMax - (kMax % n + 1) % n) return x % n;
}

TEST(CurvesTest, BootstrapResamplesAreTheDocumentedDrawsAndMatchComputeOodMetrics) {
  std::mt19937_64 gen(8);
  std::uniform_int_distribution<int> coarse(0, 12);  // many ties, within and across the samples
  for (int trial = 0; trial < 12; ++trial) {
    const bool higher_is_in = trial % 2 == 0;
    std::vector<double> in(static_cast<std::size_t>(25 + trial)), out(static_cast<std::size_t>(17 + 2 * trial));
    for (auto& v : in) v = coarse(gen) + (higher_is_in ? 3 : -3);
    for (auto& v : out) v = coarse(gen);
    const std::uint64_t seed = 100 + static_cast<std::uint64_t>(trial);
    const double sign = higher_is_in ? 1.0 : -1.0;
    auto oriented_sorted = [sign](std::vector<double> v) {
      for (auto& x : v) x *= sign;
      std::sort(v.begin(), v.end());
      return v;
    };
    const auto in_sorted = oriented_sorted(in), out_sorted = oriented_sorted(out);

    // Redraw 5 resamples by hand and score them with compute_ood_metrics.
    constexpr int kResamples = 5;
    std::mt19937_64 rng(seed);
    std::vector<std::vector<double>> per_metric(6);
    for (int r = 0; r < kResamples; ++r) {
      std::vector<double> a, b;
      for (std::size_t i = 0; i < in.size(); ++i) a.push_back(sign * in_sorted[documented_index(rng, in.size())]);
      for (std::size_t j = 0; j < out.size(); ++j) b.push_back(sign * out_sorted[documented_index(rng, out.size())]);
      const auto v = all_values(flowood::ood::compute_ood_metrics(a, b, higher_is_in));
      for (std::size_t k = 0; k < v.size(); ++k) per_metric[k].push_back(v[k]);
    }
    // One resample: the interval is that resample's value, bit for bit.
    const auto one = all_intervals(bootstrap_intervals(in, out, higher_is_in, 1, seed));
    // Five, level 0.9: type-7 quantiles at 0.05 and 0.95, h = 0.2 and 3.8.
    const auto five = all_intervals(bootstrap_intervals(in, out, higher_is_in, kResamples, seed, 0.9));
    for (std::size_t k = 0; k < per_metric.size(); ++k) {
      EXPECT_EQ(one[k].low, per_metric[k][0]) << "trial " << trial << " metric " << k;
      EXPECT_EQ(one[k].high, per_metric[k][0]) << "trial " << trial << " metric " << k;
      auto v = per_metric[k];
      std::sort(v.begin(), v.end());
      EXPECT_DOUBLE_EQ(five[k].low, v[0] + 0.2 * (v[1] - v[0])) << "trial " << trial << " metric " << k;
      EXPECT_DOUBLE_EQ(five[k].high, v[3] + 0.8 * (v[4] - v[3])) << "trial " << trial << " metric " << k;
    }
  }
}

TEST(CurvesTest, BootstrapIntervalsShrinkWithMoreData) {
  const auto [in_small, out_small] = normal_samples(100, 1.0, 21);
  const auto [in_large, out_large] = normal_samples(4000, 1.0, 22);
  const auto small = all_intervals(bootstrap_intervals(in_small, out_small, true, 300, 3));
  const auto large = all_intervals(bootstrap_intervals(in_large, out_large, true, 300, 3));
  for (std::size_t i = 0; i < small.size(); ++i) {
    const double w_small = small[i].high - small[i].low, w_large = large[i].high - large[i].low;
    // Widths scale like 1/sqrt(n): a factor of about sqrt(40) ≈ 6.3 here.
    EXPECT_LT(w_large, 0.4 * w_small) << "metric " << i << ": " << w_large << " vs " << w_small;
  }
  // A narrower level gives a narrower interval from the same resamples.
  const auto ci95 = bootstrap_intervals(in_small, out_small, true, 300, 3, 0.95);
  const auto ci50 = bootstrap_intervals(in_small, out_small, true, 300, 3, 0.5);
  EXPECT_LT(ci50.auroc.high - ci50.auroc.low, ci95.auroc.high - ci95.auroc.low);
  EXPECT_GE(ci50.auroc.low, ci95.auroc.low);
  EXPECT_LE(ci50.auroc.high, ci95.auroc.high);
}

TEST(CurvesTest, BootstrapIsDeterministicPerSeed) {
  const auto [in, out] = normal_samples(300, 0.8, 9);
  const auto a = bootstrap_intervals(in, out, true, 200, 42);
  const auto b = bootstrap_intervals(in, out, true, 200, 42);
  const auto c = bootstrap_intervals(in, out, true, 200, 43);
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_EQ(a.to_json().dump(), b.to_json().dump());
  EXPECT_NE(a.to_json(), c.to_json());
  EXPECT_TRUE(a.auroc.low != c.auroc.low || a.auroc.high != c.auroc.high);
}

TEST(CurvesTest, BootstrapPerfectSeparationAndSingleResample) {
  const auto ci = bootstrap_intervals({5, 6, 7, 8}, {1, 2, 3}, true, 100, 0);
  EXPECT_EQ(ci.auroc.low, 1.0);
  EXPECT_EQ(ci.auroc.high, 1.0);
  EXPECT_EQ(ci.aupr_in.low, 1.0);
  EXPECT_EQ(ci.fpr95_in_positive.high, 0.0);
  EXPECT_EQ(ci.detection_error.high, 0.0);
  // The same separation seen with lower = in-distribution.
  const auto flipped = bootstrap_intervals({1, 2, 3}, {5, 6, 7, 8}, false, 100, 0);
  EXPECT_EQ(flipped.auroc.low, 1.0);

  const auto one = bootstrap_intervals({1, 2, 3}, {0, 2}, true, 1, 0);
  EXPECT_EQ(one.auroc.low, one.auroc.high);
}

TEST(CurvesTest, BootstrapJsonAndErrors) {
  const auto ci = bootstrap_intervals({1, 2, 3}, {0, 2}, true, 10, 0, 0.9);
  const auto j = ci.to_json();
  EXPECT_EQ(flowood::io::json_keys(j), (std::vector<std::string>{"auroc", "aupr_in", "aupr_out", "fpr95_in_positive",
                                                 "fpr95_ood_positive", "detection_error", "resamples", "level"}));
  EXPECT_EQ(j.at("auroc").at("low").get<double>(), ci.auroc.low);
  EXPECT_EQ(j.at("detection_error").at("high").get<double>(), ci.detection_error.high);
  EXPECT_EQ(flowood::io::json_int(flowood::io::json_at(j, "resamples")), 10);
  EXPECT_EQ(flowood::io::json_number(flowood::io::json_at(j, "level")), 0.9);

  try {
    bootstrap_intervals({1}, {0}, true, 0);
    FAIL() << "expected ConfigError";
  } catch (const flowood::ConfigError& e) {
    EXPECT_EQ(e.key(), "resamples");
  }
  for (const double level : {0.0, 1.0, -0.5, std::nan("")}) {
    try {
      bootstrap_intervals({1}, {0}, true, 10, 0, level);
      FAIL() << "expected ConfigError for level " << level;
    } catch (const flowood::ConfigError& e) {
      EXPECT_EQ(e.key(), "level");
    }
  }
  EXPECT_THROW(bootstrap_intervals({}, {0}, true), flowood::DataError);
  EXPECT_THROW(bootstrap_intervals({1}, {std::nan("")}, true), flowood::DataError);
}

TEST(CurvesTest, BootstrapTimingFor2000Plus2000) {
  const auto [in, out] = normal_samples(2000, 1.0, 77);
  const auto start = std::chrono::steady_clock::now();
  const auto ci = bootstrap_intervals(in, out, true, 1000, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "bootstrap_intervals, 1000 resamples of 2000+2000 scores: " << seconds << " s\n";
  RecordProperty("bootstrap_seconds", std::to_string(seconds));
  EXPECT_LT(ci.auroc.low, ci.auroc.high);
  EXPECT_LT(seconds, 30.0);  // loose: catches a pathological slowdown, not a busy machine
}

// ---- Mean and standard deviation ----

TEST(CurvesTest, MeanSdByHand) {
  // {2, 4, 4, 4, 5, 5, 7, 9}: mean 5, squared deviations sum to 32, sample variance 32/7.
  const auto m = flowood::ood::mean_sd({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(m.mean, 5.0);
  EXPECT_DOUBLE_EQ(m.sd, std::sqrt(32.0 / 7.0));
  EXPECT_EQ(m.n, 8);

  const auto one = flowood::ood::mean_sd({0.93});
  EXPECT_DOUBLE_EQ(one.mean, 0.93);
  EXPECT_EQ(one.sd, 0.0);
  EXPECT_EQ(one.n, 1);

  const auto none = flowood::ood::mean_sd({});
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_TRUE(std::isnan(none.sd));
  EXPECT_EQ(none.n, 0);

  // Small spread on a large mean: no cancellation.
  const auto close = flowood::ood::mean_sd({1e9 + 1, 1e9 + 2, 1e9 + 3});
  EXPECT_DOUBLE_EQ(close.sd, 1.0);

  EXPECT_TRUE(std::isnan(flowood::ood::mean_sd({1, std::nan(""), 3}).mean));
}

}  // namespace
