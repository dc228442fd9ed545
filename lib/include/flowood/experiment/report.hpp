#pragma once
/// One or more run directories as a Markdown file and a self-contained HTML page: configuration,
/// training curve, every score method's metrics side by side (mean ± sd across runs when several
/// are given), histograms, ROC/PR curves and the visualisations present.
#include <optional>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/io/json_file.hpp"

namespace flowood::experiment {

/// What a report shows of one run directory.
struct ReportRun {
  std::string dir;
  config::ExperimentConfig config;
  std::optional<io::Json> metrics;   ///< metrics.json, when the run was scored
  std::optional<io::CsvTable> curve; ///< metrics.csv
  std::string label;                 ///< the run's name in tables: its directory name
};

/// Reads a run directory's config (with `codec`), metrics.json and metrics.csv.
ReportRun read_report_run(const std::string& dir, const ConfigCodec& codec);

struct ReportFiles {
  std::string markdown, html;
};

/// Writes report.md, report.html and training.png into `out` (default: RUN/report for one run,
/// ./report for several).
ReportFiles write_report(const std::vector<ReportRun>& runs, const std::string& out, const std::string& title);

}  // namespace flowood::experiment
