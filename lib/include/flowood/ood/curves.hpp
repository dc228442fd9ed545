#pragma once
/// Curves behind the OOD metrics (precision–recall, as CSV tables), bootstrap confidence
/// intervals for the metrics, and mean ± sd across runs.
///
/// Conventions are those of metrics.hpp: higher score = positive, an example is accepted when
/// score >= threshold, and all examples with equal scores enter together.
#include <cstdint>
#include <vector>

#include "flowood/io/csv.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/metrics.hpp"

namespace flowood::ood {

/// One precision–recall point: examples with score >= threshold are called positive.
struct PrPoint {
  double threshold;  ///< +inf for the first point (nothing accepted)
  double recall;     ///< fraction of positives accepted (= TPR)
  double precision;  ///< fraction of accepted examples that are positive; 1 at the +inf point
};

/// The precision–recall curve, one point per distinct score plus the (recall 0, precision 1)
/// start at threshold +inf, ordered by decreasing threshold — the points of roc_curve seen as
/// precision and recall. Σ_k (R_k − R_{k−1}) P_k over the points equals average_precision (the
/// start point adds nothing). DataError when either sample is empty or holds NaN.
std::vector<PrPoint> pr_curve(const std::vector<double>& positive, const std::vector<double>& negative);

/// The ROC curve as a table with columns threshold, fpr, tpr (one row per point, in order).
/// The +inf threshold of the first point is written as "inf" by io::write_csv and read back as
/// +inf by io::read_csv.
io::CsvTable roc_table(const std::vector<RocPoint>& roc);

/// The precision–recall curve as a table with columns threshold, recall, precision (one row per
/// point, in order; the first threshold is +inf, written as "inf").
io::CsvTable pr_table(const std::vector<PrPoint>& pr);

/// A closed interval [low, high].
struct Interval {
  double low;   ///< lower end
  double high;  ///< upper end
};

/// Percentile-bootstrap confidence intervals for each field of OodMetrics.
struct MetricIntervals {
  Interval auroc;               ///< for OodMetrics::auroc
  Interval aupr_in;             ///< for OodMetrics::aupr_in
  Interval aupr_out;            ///< for OodMetrics::aupr_out
  Interval fpr95_in_positive;   ///< for OodMetrics::fpr95_in_positive
  Interval fpr95_ood_positive;  ///< for OodMetrics::fpr95_ood_positive
  Interval detection_error;     ///< for OodMetrics::detection_error
  std::int64_t resamples;       ///< number of bootstrap resamples
  double level;                 ///< coverage, e.g. 0.95

  /// {"auroc": {"low": ..., "high": ...}, "aupr_in": {...}, "aupr_out": {...},
  ///  "fpr95_in_positive": {...}, "fpr95_ood_positive": {...}, "detection_error": {...},
  ///  "resamples": ..., "level": ...}
  io::Json to_json() const;
};

/// Stratified percentile bootstrap of compute_ood_metrics. Each resample draws n_in
/// in-distribution and, independently, n_out OOD scores with replacement and computes every
/// metric; each interval runs from the (1 − level)/2 to the (1 + level)/2 quantile of the
/// `resamples` values, quantiles taken with linear interpolation between order statistics
/// (Hyndman & Fan type 7, the default of R and NumPy: q(p) = v[⌊h⌋] + (h − ⌊h⌋)(v[⌊h⌋+1] − v[⌊h⌋]),
/// h = (resamples − 1)·p over the sorted values v).
/// Draws are fixed so that the same seed gives the same intervals on every platform and standard
/// library: one std::mt19937_64 seeded with `seed`; resample after resample, n_in indices into the
/// in-distribution scores, then n_out into the OOD scores, each sample oriented (negated when
/// higher_is_in is false) and sorted ascending; an index into n values is the first engine output
/// x < 2^64 − (2^64 mod n), reduced mod n. Metrics come from draw counts on the pooled distinct
/// scores (no sorting per resample) and equal compute_ood_metrics on the drawn scores exactly.
/// ConfigError("resamples") when resamples < 1, ConfigError("level") unless 0 < level < 1;
/// DataError as compute_ood_metrics.
MetricIntervals bootstrap_intervals(const std::vector<double>& in_scores, const std::vector<double>& out_scores,
                                    bool higher_is_in, std::int64_t resamples = 1000, std::uint64_t seed = 0,
                                    double level = 0.95);

/// Mean and sample standard deviation of a metric over runs.
struct MeanSd {
  double mean;     ///< arithmetic mean; NaN when n = 0
  double sd;       ///< sample standard deviation (divisor n − 1); 0 when n = 1, NaN when n = 0
  std::int64_t n;  ///< number of values
};

/// Mean and sample sd of `values` (NaN values propagate into both).
MeanSd mean_sd(const std::vector<double>& values);

}  // namespace flowood::ood
