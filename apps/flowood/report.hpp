#pragma once
// Text and JSON summaries shared by the verbs that report OOD metrics.
#include <string>
#include <vector>

#include "flowood/io/csv.hpp"
#include "flowood/io/json.hpp"
#include "flowood/ood/metrics.hpp"

namespace flowood::app {

struct MetricsRow {
  std::string dataset;
  ood::OodMetrics metrics;
};

/// An aligned table, one row per OOD set: n_in, n_out, AUROC, AUPR-in, AUPR-out, FPR95 in both
/// conventions (in+ = in-distribution positive, ood+ = OOD positive), detection error.
std::string format_metrics_table(const std::vector<MetricsRow>& rows);

/// {"dataset", "file", "n", "loglik_mean", "loglik_sd", "bpd_mean"} of a loglik score table.
io::Json score_stats_json(const io::CsvTable& table, const std::string& file);

}  // namespace flowood::app
