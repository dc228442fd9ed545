#include "flowood/experiment/tables.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace flowood::experiment {
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

std::string format_metrics_table(const std::vector<MetricsRow>& rows) {
  auto fixed = [](double v) { return std::isnan(v) ? std::string("nan") : fmt::format("{:.4f}", v); };
  const bool with_ci = std::any_of(rows.begin(), rows.end(), [](const MetricsRow& r) { return r.ci.has_value(); });
  std::vector<std::string> head = {"ood", "n_in", "n_out", "AUROC", "AUPR-in", "AUPR-out",
                                   "FPR95(in+)", "FPR95(ood+)", "DetErr"};
  const bool with_method = std::any_of(rows.begin(), rows.end(), [](const MetricsRow& r) { return !r.method.empty(); });
  if (with_ci) head.insert(head.begin() + 4, "95% CI");
  if (with_method) head.insert(head.begin() + 1, "method");
  std::vector<std::vector<std::string>> cells{head};
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    cells.push_back({r.dataset, std::to_string(m.n_in), std::to_string(m.n_out), fixed(m.auroc), fixed(m.aupr_in),
                     fixed(m.aupr_out), fixed(m.fpr95_in_positive), fixed(m.fpr95_ood_positive),
                     fixed(m.detection_error)});
    if (with_ci)
      cells.back().insert(cells.back().begin() + 4,
                          r.ci ? fmt::format("[{:.4f}, {:.4f}]", r.ci->auroc.low, r.ci->auroc.high) : "-");
    if (with_method) cells.back().insert(cells.back().begin() + 1, r.method);
  }
  return align_columns(cells, with_method ? 2 : 1);
}

std::string align_columns(const std::vector<std::vector<std::string>>& cells, std::size_t left) {
  std::vector<std::size_t> width;
  for (const auto& r : cells) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : cells) {
    for (std::size_t c = 0; c < r.size(); ++c) {
      const std::string pad(width[c] - r[c].size(), ' ');
      out += (c == 0 ? "" : "  ") + (c < left ? r[c] + pad : pad + r[c]);  // names left, numbers right
    }
    out += "\n";
  }
  return out;
}

io::Json score_stats_json(const io::CsvTable& table, const std::string& file) {
  const auto& ll = table.column(io::kScoreLoglikColumn);
  const auto& bpd = table.column(io::kScoreBpdColumn);
  return io::Json{
             {"dataset", table.meta.count("dataset") ? table.meta.at("dataset") : file},
             {"file", file},
             {"n", static_cast<int64_t>(ll.size())},
             {"loglik_mean", mean(ll)},
             {"loglik_sd", sd(ll)},
             {"bpd_mean", mean(bpd)}};
}

}  // namespace flowood::experiment
