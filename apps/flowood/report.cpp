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

std::string format_metrics_table(const std::vector<MetricsRow>& rows) {
  auto fixed = [](double v) { return std::isnan(v) ? std::string("nan") : fmt::format("{:.4f}", v); };
  const std::vector<std::string> head = {"ood", "n_in", "n_out", "AUROC", "AUPR-in", "AUPR-out",
                                         "FPR95(in+)", "FPR95(ood+)", "DetErr"};
  std::vector<std::vector<std::string>> cells{head};
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    cells.push_back({r.dataset, std::to_string(m.n_in), std::to_string(m.n_out), fixed(m.auroc), fixed(m.aupr_in),
                     fixed(m.aupr_out), fixed(m.fpr95_in_positive), fixed(m.fpr95_ood_positive),
                     fixed(m.detection_error)});
  }
  std::vector<std::size_t> width(head.size(), 0);
  for (const auto& r : cells)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : cells) {
    for (std::size_t c = 0; c < r.size(); ++c) {
      const std::string pad(width[c] - r[c].size(), ' ');
      out += c == 0 ? r[c] + pad : "  " + pad + r[c];  // names left-aligned, numbers right-aligned
    }
    out += "\n";
  }
  return out;
}

io::Json score_stats_json(const io::CsvTable& table, const std::string& file) {
  const auto& ll = table.column(io::kScoreLoglikColumn);
  const auto& bpd = table.column(io::kScoreBpdColumn);
  return io::Json::object()
      .set("dataset", table.meta.count("dataset") ? table.meta.at("dataset") : file)
      .set("file", file)
      .set("n", static_cast<int64_t>(ll.size()))
      .set("loglik_mean", mean(ll))
      .set("loglik_sd", sd(ll))
      .set("bpd_mean", mean(bpd));
}

}  // namespace flowood::app
