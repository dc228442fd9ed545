#pragma once
/// Text and JSON summaries shared by the verbs that report OOD metrics.
#include <optional>
#include <string>
#include <vector>

#include "flowood/io/csv.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/ood/metrics.hpp"

namespace flowood::experiment {

struct MetricsRow {
  std::string dataset;
  std::string method;  ///< shown as a column when any row sets it
  ood::OodMetrics metrics;
  std::optional<ood::MetricIntervals> ci = std::nullopt;  ///< shown as an AUROC interval column when set
};

/// An aligned table, one row per OOD set: n_in, n_out, AUROC, AUPR-in, AUPR-out, FPR95 in both
/// conventions (in+ = in-distribution positive, ood+ = OOD positive), detection error.
std::string format_metrics_table(const std::vector<MetricsRow>& rows);

/// Rows of cells as aligned text: the first `left` columns left-aligned, the rest right-aligned,
/// two spaces between columns.
std::string align_columns(const std::vector<std::vector<std::string>>& cells, std::size_t left);

/// {"dataset", "file", "n", "loglik_mean", "loglik_sd", "bpd_mean"} of a loglik score table.
io::Json score_stats_json(const io::CsvTable& table, const std::string& file);

}  // namespace flowood::experiment
