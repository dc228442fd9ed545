#include "flowood/ood/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "flowood/core/error.hpp"

namespace flowood::ood {
namespace {

void check_sample(const std::vector<double>& scores, const char* what) {
  if (scores.empty()) throw DataError(what, "no scores (need at least one example)");
  const auto nans = std::count_if(scores.begin(), scores.end(), [](double v) { return std::isnan(v); });
  if (nans > 0)
    throw DataError(what, std::to_string(nans) + " of " + std::to_string(scores.size()) +
                              " scores are NaN (the model produced non-finite log-likelihoods?)");
}

// Cumulative (TP, FP) counts after each group of equal scores, walking thresholds from high to
// low; the first entry is the empty (0, 0) point at threshold +inf.
struct Step {
  double threshold;
  double tp;
  double fp;
};

std::vector<Step> walk(const std::vector<double>& positive, const std::vector<double>& negative,
                       const char* pos_name, const char* neg_name) {
  check_sample(positive, pos_name);
  check_sample(negative, neg_name);
  std::vector<std::pair<double, bool>> all;
  all.reserve(positive.size() + negative.size());
  for (const double s : positive) all.emplace_back(s, true);
  for (const double s : negative) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

  std::vector<Step> steps;
  steps.push_back({std::numeric_limits<double>::infinity(), 0.0, 0.0});
  double tp = 0.0, fp = 0.0;
  for (std::size_t i = 0; i < all.size();) {
    const double s = all[i].first;
    for (; i < all.size() && all[i].first == s; ++i) (all[i].second ? tp : fp) += 1.0;
    steps.push_back({s, tp, fp});
  }
  return steps;
}

double auroc_of(const std::vector<Step>& steps) {
  const double n_pos = steps.back().tp, n_neg = steps.back().fp;
  // Trapezoids over count space: a tied group contributes Δfp·(tp_prev + tp)/2, i.e. ½ per tied
  // (positive, negative) pair — exactly the Mann–Whitney statistic.
  double area = 0.0;
  for (std::size_t k = 1; k < steps.size(); ++k)
    area += (steps[k].fp - steps[k - 1].fp) * (steps[k].tp + steps[k - 1].tp) * 0.5;
  return area / (n_pos * n_neg);
}

double average_precision_of(const std::vector<Step>& steps) {
  const double n_pos = steps.back().tp;
  double ap = 0.0;
  for (std::size_t k = 1; k < steps.size(); ++k) {
    const double d_tp = steps[k].tp - steps[k - 1].tp;
    if (d_tp > 0) ap += (d_tp / n_pos) * (steps[k].tp / (steps[k].tp + steps[k].fp));
  }
  return ap;
}

double fpr_at_tpr_of(const std::vector<Step>& steps, double level) {
  const double n_pos = steps.back().tp, n_neg = steps.back().fp;
  // fp never decreases along the walk, so the first point reaching the level has the smallest FPR.
  for (const auto& s : steps)
    if (s.tp / n_pos >= level) return s.fp / n_neg;
  return 1.0;  // unreachable for level <= 1: the last point has TPR = 1
}

double detection_error_of(const std::vector<Step>& steps) {
  const double n_pos = steps.back().tp, n_neg = steps.back().fp;
  double best = 0.5;
  for (const auto& s : steps) best = std::min(best, 0.5 * (1.0 - s.tp / n_pos) + 0.5 * (s.fp / n_neg));
  return best;
}

std::vector<double> negated(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](double x) { return -x; });
  return out;
}

}  // namespace

std::vector<RocPoint> roc_curve(const std::vector<double>& positive, const std::vector<double>& negative) {
  const auto steps = walk(positive, negative, "positive scores", "negative scores");
  const double n_pos = steps.back().tp, n_neg = steps.back().fp;
  std::vector<RocPoint> points;
  points.reserve(steps.size());
  for (const auto& s : steps) points.push_back({s.threshold, s.fp / n_neg, s.tp / n_pos});
  return points;
}

double auroc(const std::vector<double>& positive, const std::vector<double>& negative) {
  return auroc_of(walk(positive, negative, "positive scores", "negative scores"));
}

double average_precision(const std::vector<double>& positive, const std::vector<double>& negative) {
  return average_precision_of(walk(positive, negative, "positive scores", "negative scores"));
}

double fpr_at_tpr(const std::vector<double>& positive, const std::vector<double>& negative, double tpr_level) {
  if (!(tpr_level > 0.0 && tpr_level <= 1.0))
    throw ConfigError("tpr_level", "must be in (0, 1] (got " + std::to_string(tpr_level) + ")");
  return fpr_at_tpr_of(walk(positive, negative, "positive scores", "negative scores"), tpr_level);
}

double detection_error(const std::vector<double>& positive, const std::vector<double>& negative) {
  return detection_error_of(walk(positive, negative, "positive scores", "negative scores"));
}

OodMetrics compute_ood_metrics(const std::vector<double>& in_scores, const std::vector<double>& out_scores,
                               bool higher_is_in) {
  // Orient so that higher = in-distribution; the OOD-positive view negates that.
  const std::vector<double> in_up = higher_is_in ? in_scores : negated(in_scores);
  const std::vector<double> out_up = higher_is_in ? out_scores : negated(out_scores);
  const auto in_pos = walk(in_up, out_up, "in-distribution scores", "OOD scores");
  const auto out_pos = walk(negated(out_up), negated(in_up), "OOD scores", "in-distribution scores");

  OodMetrics m;
  m.auroc = auroc_of(in_pos);
  m.aupr_in = average_precision_of(in_pos);
  m.aupr_out = average_precision_of(out_pos);
  m.fpr95_in_positive = fpr_at_tpr_of(in_pos, 0.95);
  m.fpr95_ood_positive = fpr_at_tpr_of(out_pos, 0.95);
  m.detection_error = detection_error_of(in_pos);
  m.n_in = static_cast<std::int64_t>(in_scores.size());
  m.n_out = static_cast<std::int64_t>(out_scores.size());
  m.higher_is_in = higher_is_in;
  return m;
}

io::Json OodMetrics::to_json() const {
  io::Json j = io::Json::object();
  j["auroc"] = auroc;
  j["aupr_in"] = aupr_in;
  j["aupr_out"] = aupr_out;
  j["fpr95_in_positive"] = fpr95_in_positive;
  j["fpr95_ood_positive"] = fpr95_ood_positive;
  j["detection_error"] = detection_error;
  j["n_in"] = n_in;
  j["n_out"] = n_out;
  j["higher_is_in"] = higher_is_in;
  return j;
}

OodMetrics OodMetrics::from_json(const io::Json& json) {
  OodMetrics m;
  m.auroc = io::json_number(io::json_at(json, "auroc"));
  m.aupr_in = io::json_number(io::json_at(json, "aupr_in"));
  m.aupr_out = io::json_number(io::json_at(json, "aupr_out"));
  m.fpr95_in_positive = io::json_number(io::json_at(json, "fpr95_in_positive"));
  m.fpr95_ood_positive = io::json_number(io::json_at(json, "fpr95_ood_positive"));
  m.detection_error = io::json_number(io::json_at(json, "detection_error"));
  m.n_in = io::json_int(io::json_at(json, "n_in"));
  m.n_out = io::json_int(io::json_at(json, "n_out"));
  m.higher_is_in = json.contains("higher_is_in") ? io::json_bool(io::json_at(json, "higher_is_in")) : true;
  return m;
}

}  // namespace flowood::ood
