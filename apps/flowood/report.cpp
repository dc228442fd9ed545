#include "report.hpp"

#include <cmath>

#include <fmt/format.h>

namespace flowood::app {
namespace {
double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}
double sd(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0.0;
}
}  // namespace

std::string format_metrics_table(const std::string& in_dataset, const std::vector<MetricsRow>& rows) {
  std::string out = fmt::format("in-distribution: {} (positive class; higher score = more in-distribution)\n", in_dataset);
  out += fmt::format("{:<24} {:>7} {:>8} {:>9} {:>10} {:>11} {:>9} {:>6} {:>6}\n", "ood", "AUROC", "AUPR-in",
                     "AUPR-out", "FPR95(in+)", "FPR95(ood+)", "det.err", "n_in", "n_out");
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    out += fmt::format("{:<24} {:>7.4f} {:>8.4f} {:>9.4f} {:>10.4f} {:>11.4f} {:>9.4f} {:>6} {:>6}\n", r.dataset, m.auroc,
                       m.aupr_in, m.aupr_out, m.fpr95_in_positive, m.fpr95_ood_positive, m.detection_error, m.n_in,
                       m.n_out);
  }
  return out;
}

Json score_stats_json(const CsvTable& table, const std::string& file) {
  const auto& ll = table.column(kScoreLoglikColumn);
  const auto& bpd = table.column(kScoreBpdColumn);
  return Json::object()
      .set("dataset", table.meta.count("dataset") ? table.meta.at("dataset") : file)
      .set("file", file)
      .set("n", static_cast<int64_t>(ll.size()))
      .set("loglik_mean", mean(ll))
      .set("loglik_sd", sd(ll))
      .set("bpd_mean", mean(bpd));
}

}  // namespace flowood::app
