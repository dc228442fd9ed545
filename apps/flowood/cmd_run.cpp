// flowood run: the whole experiment — train (plus the background model and ensemble members the
// score methods need), score the test set and every OOD set with every method in `scores`, metrics
// with confidence intervals, ROC/PR curves, histogram — into one run directory. Finished stages
// are skipped on a second run.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/experiment/pipeline.hpp"
#include "flowood/experiment/stages.hpp"
#include "progress.hpp"

namespace flowood::app {
namespace {
struct RunOptions {
  std::string experiment;
  std::string run_dir;
  std::vector<std::string> overrides;
};

void run_experiment(const RunOptions& o) {
  const auto cfg = load_config(o.experiment, o.overrides).config;
  const auto paths = experiment::run_paths(o.run_dir, cfg);
  const auto trained = experiment::train_runs(cfg, paths, train_in_terminal);
  if (trained.stopped) throw StoppedEarly(trained.stopped_at);
  if (const auto group = experiment::process_group(); group && !group->is_main()) return;  // rank 0 scores

  const auto report = experiment::evaluate_run(cfg, paths, trained.sources, yaml_codec());
  for (const auto& t : report.loglik) std::cout << experiment::score_summary(t) << "\n";
  std::cout << "\nin-distribution: " << report.loglik.front().meta.at("dataset") << " (positive class)\n"
            << experiment::format_evaluation_table(report.evaluation) << "\n";
  std::cout << "run directory: " << paths.dir << "\n"
            << "  metrics:   " << report.metrics_json << "\n"
            << "  histogram: " << report.histogram_png << "\n"
            << "  curves:    " << report.curves_dir << "/\n"
            << "  scores:    " << paths.scores_dir() << "/\n"
            << "  training:  " << paths.metrics_log() << "\n";
}
}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand(
      "run", "Run a whole experiment: train, score with every method, metrics, curves, histogram (skips finished stages)");
  cmd->add_option("experiment", o->experiment, "Experiment YAML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (default: runs/<name>)");
  cmd->add_option("--set", o->overrides, "Override a config key: key.path=value (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->callback([o] { run_experiment(*o); });
}

}  // namespace flowood::app
