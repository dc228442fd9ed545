#include "flowood/ood/curves.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "flowood/core/error.hpp"

namespace flowood::ood {
namespace {

// Uniform index in [0, n) from raw 64-bit engine output: values in the incomplete top block of
// 2^64 (2^64 mod n of them) are rejected, the rest reduced mod n. Unlike
// std::uniform_int_distribution, whose algorithm each standard library picks, this gives the same
// sequence everywhere.
std::uint64_t draw_index(std::mt19937_64& rng, std::uint64_t n) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t rest = (kMax % n + 1) % n;  // 2^64 mod n
  std::uint64_t x = rng();
  while (x > kMax - rest) x = rng();
  return x % n;
}

// A resample as weights on the distinct pooled scores (ascending, oriented so that higher = in):
// in[l] / out[l] count the in-distribution / OOD examples of the resample whose score is level l.
struct Weights {
  std::vector<double> in, out;
};

// The pooled distinct scores of two ascending samples, and the level of each sample element.
struct Levels {
  std::size_t count = 0;
  std::vector<std::size_t> of_in, of_out;
};

Levels make_levels(const std::vector<double>& in_sorted, const std::vector<double>& out_sorted) {
  Levels lv;
  lv.of_in.resize(in_sorted.size());
  lv.of_out.resize(out_sorted.size());
  std::size_t i = 0, j = 0;
  while (i < in_sorted.size() || j < out_sorted.size()) {
    const double v = j == out_sorted.size() || (i < in_sorted.size() && in_sorted[i] < out_sorted[j])
                         ? in_sorted[i]
                         : out_sorted[j];
    for (; i < in_sorted.size() && in_sorted[i] == v; ++i) lv.of_in[i] = lv.count;
    for (; j < out_sorted.size() && out_sorted[j] == v; ++j) lv.of_out[j] = lv.count;
    ++lv.count;
  }
  return lv;
}

// Every metric of compute_ood_metrics from the weights of one resample, in one walk per
// direction instead of two sorts. Each step is metrics.cpp's, with the same floating-point
// operations in the same order (counts are exact integers either way), so the values equal
// compute_ood_metrics on the expanded resample bit for bit; a unit test checks that.
OodMetrics weighted_metrics(const Weights& w, double n_in, double n_out) {
  OodMetrics m;
  m.fpr95_in_positive = m.fpr95_ood_positive = 1.0;
  // In-distribution positive: thresholds from the highest score down.
  double tp = 0.0, fp = 0.0, area = 0.0, ap = 0.0, de = 0.5;  // de: the (0, 0) point's value
  bool reached = false;
  for (std::size_t l = w.in.size(); l-- > 0;) {
    if (w.in[l] == 0.0 && w.out[l] == 0.0) continue;
    const double tp0 = tp, fp0 = fp;
    tp += w.in[l];
    fp += w.out[l];
    area += (fp - fp0) * (tp + tp0) * 0.5;
    if (tp > tp0) ap += ((tp - tp0) / n_in) * (tp / (tp + fp));
    if (!reached && tp / n_in >= 0.95) {
      m.fpr95_in_positive = fp / n_out;
      reached = true;
    }
    de = std::min(de, 0.5 * (1.0 - tp / n_in) + 0.5 * (fp / n_out));
  }
  m.auroc = area / (n_in * n_out);
  m.aupr_in = ap;
  m.detection_error = de;
  // OOD positive (scores negated): thresholds from the lowest score up.
  tp = fp = ap = 0.0;
  reached = false;
  for (std::size_t l = 0; l < w.in.size(); ++l) {
    if (w.in[l] == 0.0 && w.out[l] == 0.0) continue;
    const double tp0 = tp;
    tp += w.out[l];
    fp += w.in[l];
    if (tp > tp0) ap += ((tp - tp0) / n_out) * (tp / (tp + fp));
    if (!reached && tp / n_out >= 0.95) {
      m.fpr95_ood_positive = fp / n_in;
      reached = true;
    }
  }
  m.aupr_out = ap;
  return m;
}

// Type-7 quantile (linear interpolation between order statistics) of `values`, which it sorts.
double quantile(std::vector<double>& values, double p) {
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= values.size()) return values.back();
  return values[lo] + (h - static_cast<double>(lo)) * (values[lo + 1] - values[lo]);
}

// One row per point, one column per named field.
template <typename Point>
io::CsvTable point_table(const std::vector<Point>& points,
                         const std::array<std::pair<const char*, double Point::*>, 3>& fields) {
  io::CsvTable t;
  for (const auto& [name, field] : fields) {
    std::vector<double> column;
    column.reserve(points.size());
    for (const Point& p : points) column.push_back(p.*field);
    t.add_column(name, std::move(column));
  }
  return t;
}

io::Json interval_json(const Interval& i) {
  io::Json j = io::Json::object();
  j["low"] = i.low;
  j["high"] = i.high;
  return j;
}

}  // namespace

std::vector<PrPoint> pr_curve(const std::vector<double>& positive, const std::vector<double>& negative) {
  const auto roc = roc_curve(positive, negative);  // checks both samples
  const auto n_pos = static_cast<double>(positive.size()), n_neg = static_cast<double>(negative.size());
  std::vector<PrPoint> points;
  points.reserve(roc.size());
  for (const auto& r : roc) {
    // Back to exact counts, so precision is the same ratio average_precision uses.
    const double tp = std::round(r.tpr * n_pos), fp = std::round(r.fpr * n_neg);
    points.push_back({r.threshold, r.tpr, tp + fp > 0 ? tp / (tp + fp) : 1.0});
  }
  return points;
}

io::CsvTable roc_table(const std::vector<RocPoint>& roc) {
  return point_table(roc, {{{"threshold", &RocPoint::threshold}, {"fpr", &RocPoint::fpr}, {"tpr", &RocPoint::tpr}}});
}

io::CsvTable pr_table(const std::vector<PrPoint>& pr) {
  return point_table(
      pr, {{{"threshold", &PrPoint::threshold}, {"recall", &PrPoint::recall}, {"precision", &PrPoint::precision}}});
}

io::Json MetricIntervals::to_json() const {
  io::Json j = io::Json::object();
  j["auroc"] = interval_json(auroc);
  j["aupr_in"] = interval_json(aupr_in);
  j["aupr_out"] = interval_json(aupr_out);
  j["fpr95_in_positive"] = interval_json(fpr95_in_positive);
  j["fpr95_ood_positive"] = interval_json(fpr95_ood_positive);
  j["detection_error"] = interval_json(detection_error);
  j["resamples"] = resamples;
  j["level"] = level;
  return j;
}

MetricIntervals bootstrap_intervals(const std::vector<double>& in_scores, const std::vector<double>& out_scores,
                                    bool higher_is_in, std::int64_t resamples, std::uint64_t seed, double level) {
  if (resamples < 1) throw ConfigError("resamples", "must be >= 1 (got " + std::to_string(resamples) + ")");
  if (!(level > 0.0 && level < 1.0)) throw ConfigError("level", "must be in (0, 1) (got " + std::to_string(level) + ")");
  compute_ood_metrics(in_scores, out_scores, higher_is_in);  // the sample checks, before any work

  // Orient (negation is exact, so no metric changes), sort once and pool the distinct scores;
  // a resample is then just draw counts per distinct score.
  const double sign = higher_is_in ? 1.0 : -1.0;
  auto oriented_sorted = [sign](const std::vector<double>& v) {
    std::vector<double> out(v.size());
    std::transform(v.begin(), v.end(), out.begin(), [sign](double x) { return sign * x; });
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::vector<double> in_sorted = oriented_sorted(in_scores), out_sorted = oriented_sorted(out_scores);
  const Levels levels = make_levels(in_sorted, out_sorted);
  const auto n_in = static_cast<std::uint64_t>(in_sorted.size()), n_out = static_cast<std::uint64_t>(out_sorted.size());

  const auto m = static_cast<std::size_t>(resamples);
  std::vector<std::vector<double>> values(6, std::vector<double>(m));
  std::mt19937_64 rng(seed);
  Weights w;
  for (std::size_t r = 0; r < m; ++r) {
    w.in.assign(levels.count, 0.0);
    w.out.assign(levels.count, 0.0);
    for (std::uint64_t i = 0; i < n_in; ++i) w.in[levels.of_in[draw_index(rng, n_in)]] += 1.0;
    for (std::uint64_t j = 0; j < n_out; ++j) w.out[levels.of_out[draw_index(rng, n_out)]] += 1.0;
    const OodMetrics x = weighted_metrics(w, static_cast<double>(n_in), static_cast<double>(n_out));
    values[0][r] = x.auroc;
    values[1][r] = x.aupr_in;
    values[2][r] = x.aupr_out;
    values[3][r] = x.fpr95_in_positive;
    values[4][r] = x.fpr95_ood_positive;
    values[5][r] = x.detection_error;
  }

  const double p_lo = (1.0 - level) / 2.0, p_hi = (1.0 + level) / 2.0;
  auto interval = [&](std::vector<double>& v) { return Interval{quantile(v, p_lo), quantile(v, p_hi)}; };
  MetricIntervals out;
  out.auroc = interval(values[0]);
  out.aupr_in = interval(values[1]);
  out.aupr_out = interval(values[2]);
  out.fpr95_in_positive = interval(values[3]);
  out.fpr95_ood_positive = interval(values[4]);
  out.detection_error = interval(values[5]);
  out.resamples = resamples;
  out.level = level;
  return out;
}

MeanSd mean_sd(const std::vector<double>& values) {
  const auto n = static_cast<std::int64_t>(values.size());
  if (n == 0) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(), 0};
  double sum = 0.0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(n);
  if (n == 1) return {mean, std::isnan(mean) ? mean : 0.0, 1};
  double ss = 0.0;  // two passes: no cancellation when the spread is small next to the mean
  for (const double v : values) ss += (v - mean) * (v - mean);
  return {mean, std::sqrt(ss / static_cast<double>(n - 1)), n};
}

}  // namespace flowood::ood
