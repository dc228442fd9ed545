#pragma once
/// Threshold-free and threshold-based OOD detection metrics from two score samples.
///
/// Conventions. By default a higher score means "more in-distribution" (log-likelihood); pass
/// higher_is_in = false for scores where the opposite holds (then every score is negated first).
/// Ties are handled exactly: all examples with equal scores enter or leave together, so the ROC
/// curve has one point per distinct score and AUROC counts tied in/OOD pairs as ½ (Mann–Whitney).
/// "Thresholds" are the distinct scores; an example is accepted (called positive) when
/// score >= threshold, as in sklearn's roc_curve / precision_recall_curve.
#include <cstdint>
#include <limits>
#include <vector>

#include "flowood/io/json_file.hpp"

namespace flowood::ood {

/// One ROC point: examples with score >= threshold are called positive.
struct RocPoint {
  double threshold;  ///< +inf for the first point (nothing accepted)
  double fpr;        ///< false-positive rate (fraction of negatives accepted)
  double tpr;        ///< true-positive rate (fraction of positives accepted)
};

/// The full ROC curve, one point per distinct score plus the (0,0) start, ordered by decreasing
/// threshold (sklearn roc_curve with drop_intermediate=False). Higher score = positive.
/// DataError when either sample is empty or holds NaN.
std::vector<RocPoint> roc_curve(const std::vector<double>& positive, const std::vector<double>& negative);

/// Area under the ROC curve = P(score_pos > score_neg) + ½ P(equal), O(n log n).
double auroc(const std::vector<double>& positive, const std::vector<double>& negative);

/// Average precision as sklearn's average_precision_score: Σ_k (R_k − R_{k−1}) P_k over distinct
/// thresholds in decreasing order (step-wise, no interpolation).
double average_precision(const std::vector<double>& positive, const std::vector<double>& negative);

/// The smallest FPR among ROC points with TPR >= tpr_level (no interpolation between points).
double fpr_at_tpr(const std::vector<double>& positive, const std::vector<double>& negative,
                  double tpr_level = 0.95);

/// min over ROC points of ½(1 − TPR) + ½ FPR (equal class priors); at most 0.5.
double detection_error(const std::vector<double>& positive, const std::vector<double>& negative);

/// The OOD metrics of one (in-distribution, OOD) pair. Rates are fractions in [0, 1].
struct OodMetrics {
  /// AUROC with in-distribution as the positive class (as the paper's roc_auc_score).
  double auroc = std::numeric_limits<double>::quiet_NaN();
  /// Average precision, in-distribution positive.
  double aupr_in = std::numeric_limits<double>::quiet_NaN();
  /// Average precision, OOD positive (scores negated).
  double aupr_out = std::numeric_limits<double>::quiet_NaN();
  /// Classic FPR@95%TPR (in-dist positive): at the threshold accepting >= 95 % of in-distribution
  /// examples, the fraction of OOD examples also accepted.
  double fpr95_in_positive = std::numeric_limits<double>::quiet_NaN();
  /// OpenOOD v1.5 / pytorch-ood FPR@95 (OOD positive, score −s): at the threshold flagging
  /// >= 95 % of OOD examples, the fraction of in-distribution examples also flagged.
  double fpr95_ood_positive = std::numeric_limits<double>::quiet_NaN();
  /// min over thresholds of ½(1 − TPR) + ½ FPR, in-distribution positive.
  double detection_error = std::numeric_limits<double>::quiet_NaN();
  /// Number of in-distribution scores.
  std::int64_t n_in = 0;
  /// Number of OOD scores.
  std::int64_t n_out = 0;
  /// The score orientation the metrics were computed with.
  bool higher_is_in = true;

  /// {"auroc": ..., "aupr_in": ..., "aupr_out": ..., "fpr95_in_positive": ...,
  ///  "fpr95_ood_positive": ..., "detection_error": ..., "n_in": ..., "n_out": ...,
  ///  "higher_is_in": ...}
  io::Json to_json() const;
  /// Reads the object written by to_json. DataError naming a missing key.
  static OodMetrics from_json(const io::Json& json);
};

/// Computes every metric. `in_scores` / `out_scores`: one score per example; higher_is_in says
/// which direction means in-distribution. DataError when a sample is empty or holds NaN (the
/// message says which sample and how many); ±inf scores are allowed.
OodMetrics compute_ood_metrics(const std::vector<double>& in_scores, const std::vector<double>& out_scores,
                               bool higher_is_in = true);

}  // namespace flowood::ood
