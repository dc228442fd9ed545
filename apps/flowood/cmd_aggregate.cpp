// flowood aggregate: every run of a sweep into one CSV and one Markdown table — the metrics of
// each run, and mean ± sd over seeds for every other combination of the axes; missing and failed
// runs listed.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "flowood/experiment/aggregate.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::app {
namespace {

struct AggregateOptions {
  std::string dir;
  std::string metric = "auroc";
};

void run_aggregate(const AggregateOptions& o) {
  const auto result = experiment::aggregate_sweep(o.dir, o.metric);
  io::write_file_atomic(o.dir + "/aggregate.csv", result.csv);
  io::write_file_atomic(o.dir + "/aggregate.md", result.markdown);
  std::cout << result.markdown << "\n" << o.dir << "/aggregate.csv\n" << o.dir << "/aggregate.md\n";
}
}  // namespace

void register_aggregate(CLI::App& app) {
  auto o = std::make_shared<AggregateOptions>();
  auto* cmd = app.add_subcommand("aggregate", "Every run of a sweep in one CSV and Markdown table, mean ± sd over seeds");
  cmd->add_option("sweep_dir", o->dir, "Sweep directory (holds sweep.json)")->required();
  cmd->add_option("--metric", o->metric, "Metric to tabulate: auroc (default), aupr_in, aupr_out, fpr95_in_positive, "
                                         "fpr95_ood_positive, detection_error");
  cmd->callback([o] { run_aggregate(*o); });
}

}  // namespace flowood::app
