// flowood report: one or more run directories as a Markdown file and a self-contained HTML page —
// configuration, training curve, every score method's metrics side by side (mean ± sd across runs
// when several are given), histograms, ROC/PR curves and the visualisations present.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/experiment/report.hpp"

namespace flowood::app {
namespace {

struct ReportOptions {
  std::vector<std::string> runs;
  std::string out;
  std::string title;
};

void run_report(const ReportOptions& o) {
  std::vector<experiment::ReportRun> runs;
  for (const auto& dir : o.runs) runs.push_back(experiment::read_report_run(dir, yaml_codec()));
  const auto files = experiment::write_report(runs, o.out, o.title);
  std::cout << files.markdown << "\n" << files.html << "\n";
}
}  // namespace

void register_report(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "Markdown and self-contained HTML report of one or more run directories");
  cmd->add_option("runs", o->runs, "Run directories (several: metrics as mean ± sd across them)")->required();
  cmd->add_option("--out", o->out, "Directory for report.md, report.html and training.png (default: RUN/report, "
                                   "or ./report for several runs)");
  cmd->add_option("--title", o->title, "Title (default: the experiment's name)");
  cmd->callback([o] { run_report(*o); });
}

}  // namespace flowood::app
