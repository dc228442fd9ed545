#include "flowood/experiment/evaluation.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/ood/methods.hpp"
#include "flowood/viz/lines.hpp"
#include "flowood/experiment/tables.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {

const std::string& dataset_of(const io::CsvTable& t) {
  return t.meta.count("dataset") ? t.meta.at("dataset") : t.meta_at("spec");
}

/// Scores oriented so that higher = in-distribution.
std::vector<double> oriented(const std::vector<double>& scores, bool higher_is_in) {
  if (higher_is_in) return scores;
  std::vector<double> out(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) out[i] = -scores[i];
  return out;
}

GroupDecisions decide(const io::CsvTable& in, const io::CsvTable& out) {
  GroupDecisions g;
  const auto& threshold = in.meta_at("threshold");
  char* end = nullptr;
  g.threshold = std::strtod(threshold.c_str(), &end);
  if (threshold.empty() || *end != '\0' || !std::isfinite(g.threshold))
    throw IoError(in.source, "typicality threshold \"" + threshold + "\" is not a finite number");
  const auto& ein = in.column("typicality");
  const auto& eout = out.column("typicality");
  double accepted = 0, rejected = 0;
  for (double e : ein) accepted += e <= g.threshold;
  for (double e : eout) rejected += e > g.threshold;
  g.accepted_in = accepted / static_cast<double>(ein.size());
  g.rejected_out = rejected / static_cast<double>(eout.size());
  g.accuracy = (accepted + rejected) / static_cast<double>(ein.size() + eout.size());
  return g;
}

}  // namespace

io::Json Evaluation::to_json() const {
  auto j = metrics.to_json();
  j["method"] = method;
  j["dataset"] = dataset;
  j["scores"] = file;
  j["per_batch"] = per_batch;
  if (ci) j["ci"] = ci->to_json();
  if (groups)
    j["typicality"] = io::Json{
                            {"threshold", groups->threshold},
                            {"accepted_in", groups->accepted_in},
                            {"rejected_out", groups->rejected_out},
                            {"accuracy", groups->accuracy}};
  return j;
}

std::vector<Evaluation> evaluate_methods(const std::vector<MethodResults>& methods, int64_t bootstrap, uint64_t seed) {
  std::vector<Evaluation> out;
  for (const auto& m : methods) {
    const auto& info = ood::score_method(m.method, "scores");
    const auto& in = m.tables.front().column(m.method);
    for (size_t i = 1; i < m.tables.size(); ++i) {
      Evaluation e;
      e.method = m.method;
      e.dataset = dataset_of(m.tables[i]);
      e.file = i < m.files.size() ? m.files[i] : std::string();
      e.per_batch = !info.per_example;
      const auto& scores = m.tables[i].column(m.method);
      e.metrics = ood::compute_ood_metrics(in, scores, info.higher_is_in);
      if (bootstrap > 0) e.ci = ood::bootstrap_intervals(in, scores, info.higher_is_in, bootstrap, seed + i);
      if (m.method == "typicality") e.groups = decide(m.tables.front(), m.tables[i]);
      out.push_back(std::move(e));
    }
  }
  return out;
}

void write_curves(const std::string& dir, const std::vector<MethodResults>& methods) {
  if (methods.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir, "cannot create the curves directory: " + ec.message());
  const size_t sets = methods.front().tables.size();
  for (size_t i = 1; i < sets; ++i) {
    const auto& dataset = dataset_of(methods.front().tables[i]);
    const auto safe = safe_file_name(dataset);
    std::vector<viz::LineSeries> roc_series, pr_series;
    for (const auto& m : methods) {
      const auto& info = ood::score_method(m.method, "scores");
      const auto in = oriented(m.tables.front().column(m.method), info.higher_is_in);
      const auto oodv = oriented(m.tables[i].column(m.method), info.higher_is_in);
      const auto roc = ood::roc_curve(in, oodv);
      const auto pr = ood::pr_curve(in, oodv);
      io::write_csv(fmt::format("{}/{}.{}.roc.csv", dir, m.method, safe), ood::roc_table(roc));
      io::write_csv(fmt::format("{}/{}.{}.pr.csv", dir, m.method, safe), ood::pr_table(pr));
      const auto auc = ood::auroc(in, oodv);
      const std::string label = fmt::format("{}{} (AUROC {:.3f})", m.method, info.per_example ? "" : ", per batch", auc);
      viz::LineSeries r{label, {}, {}, !info.per_example}, p{label, {}, {}, !info.per_example};
      for (const auto& pt : roc) {
        r.x.push_back(pt.fpr);
        r.y.push_back(pt.tpr);
      }
      for (const auto& pt : pr) {
        p.x.push_back(pt.recall);
        p.y.push_back(pt.precision);
      }
      roc_series.push_back(std::move(r));
      pr_series.push_back(std::move(p));
    }
    viz::LinePlotOptions ro;
    ro.title = fmt::format("ROC: {} (positive) vs {}", dataset_of(methods.front().tables.front()), dataset);
    ro.x_label = "false-positive rate (OOD accepted)";
    ro.y_label = "true-positive rate (in-distribution accepted)";
    ro.x_range = std::make_pair(0.0, 1.0);
    ro.y_range = std::make_pair(0.0, 1.0);
    ro.diagonal = true;
    viz::write_line_plot_png(fmt::format("{}/roc.{}.png", dir, safe), roc_series, ro);
    viz::LinePlotOptions po = ro;
    po.title = fmt::format("precision-recall: {} (positive) vs {}", dataset_of(methods.front().tables.front()), dataset);
    po.x_label = "recall (in-distribution)";
    po.y_label = "precision";
    po.diagonal = false;
    viz::write_line_plot_png(fmt::format("{}/pr.{}.png", dir, safe), pr_series, po);
  }
}

std::string format_evaluation_table(const std::vector<Evaluation>& evaluations) {
  std::vector<MetricsRow> rows;
  for (const auto& e : evaluations) rows.push_back({e.dataset, e.method + (e.per_batch ? " (batches)" : ""), e.metrics, e.ci});
  std::string out = format_metrics_table(rows);
  for (const auto& e : evaluations)
    if (e.groups)
      out += fmt::format("typicality vs {}: threshold {:.3f} nats; in-distribution batches accepted {:.3f}, OOD batches "
                         "rejected {:.3f}, group accuracy {:.3f}\n",
                         e.dataset, e.groups->threshold, e.groups->accepted_in, e.groups->rejected_out,
                         e.groups->accuracy);
  return out;
}

}  // namespace flowood::experiment
