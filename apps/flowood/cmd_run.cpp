// flowood run: the whole experiment — train, score the test set and every OOD set, AUROC and
// friends, histogram — into one run directory. Finished stages are skipped on a second run.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/json.hpp"
#include "flowood/ood/metrics.hpp"
#include "flowood/viz/histogram.hpp"
#include "report.hpp"
#include "stages.hpp"

namespace fs = std::filesystem;

namespace flowood::app {
namespace {
struct RunOptions {
  std::string experiment;
  std::string run_dir;
  std::vector<std::string> overrides;
};

// A score file is current when it was written for this checkpoint step with the same settings
// (samples, seed, image limit).
bool score_is_current(const std::string& path, int64_t step, int64_t limit, const ood::LoglikOptions& o) {
  if (!fs::exists(path)) return false;
  try {
    const auto t = io::read_score_csv(path);
    return t.meta.count("step") && t.meta.at("step") == std::to_string(step) && t.meta.count("samples") &&
           t.meta.at("samples") == std::to_string(o.samples) && t.meta.count("seed") &&
           t.meta.at("seed") == std::to_string(o.seed) && t.meta.count("limit") &&
           t.meta.at("limit") == std::to_string(limit);
  } catch (const Error&) {
    return false;
  }
}

void run_experiment(const RunOptions& o) {
  const auto loaded = load_config(o.experiment, o.overrides);
  const auto& cfg = loaded.config;
  const auto paths = run_paths(o.run_dir, cfg);

  // 1. train (skips itself when the checkpoint is final)
  const auto trained = train_stage(loaded, paths);
  if (trained.stopped) throw StoppedEarly(trained.steps);

  // 2. score the in-distribution test set and every OOD set
  const auto device = resolve_device(cfg.device);
  const auto run = load_run(paths.dir, device);
  fs::create_directories(paths.scores_dir());
  ood::LoglikOptions options;
  options.batch_size = cfg.score.batch_size;
  options.samples = cfg.score.samples;
  options.seed = static_cast<uint64_t>(cfg.seed);
  std::vector<std::string> specs{cfg.data.test};
  specs.insert(specs.end(), cfg.data.ood.begin(), cfg.data.ood.end());
  std::vector<io::CsvTable> tables;
  for (const auto& spec : specs) {
    const auto csv = paths.score_file(spec);
    if (score_is_current(csv, run.step, cfg.data.test_limit, options)) {
      log().info("scores of {} are current: {}", spec, csv);
      tables.push_back(io::read_score_csv(csv));
    } else {
      tables.push_back(score_stage(run, paths.dir, spec, cfg.data.test_limit, options, csv, ""));
    }
  }

  // 3. metrics of every OOD set against the test set
  const auto& in = tables.front().column(io::kScoreLoglikColumn);
  std::vector<MetricsRow> rows;
  io::Json ood_json = io::Json::array();
  for (size_t i = 1; i < tables.size(); ++i) {
    const auto m = ood::compute_ood_metrics(in, tables[i].column(io::kScoreLoglikColumn), /*higher_is_in=*/true);
    rows.push_back({tables[i].meta.at("dataset"), m});
    auto entry = m.to_json();
    entry.set("dataset", tables[i].meta.at("dataset")).set("scores", paths.score_file(specs[i]));
    ood_json.push_back(entry);
  }
  io::Json datasets = io::Json::array();
  for (size_t i = 0; i < tables.size(); ++i) datasets.push_back(score_stats_json(tables[i], paths.score_file(specs[i])));
  const auto metrics_path = paths.dir + "/metrics.json";
  io::write_json_file(metrics_path, io::Json::object()
                                    .set("experiment", cfg.name)
                                    .set("run_dir", paths.dir)
                                    .set("step", run.step)
                                    .set("score", "loglik")
                                    .set("in_distribution", tables.front().meta.at("dataset"))
                                    .set("datasets", datasets)
                                    .set("ood", ood_json));

  // 4. histogram of all score distributions
  std::vector<viz::HistogramSeries> series;
  for (const auto& t : tables) series.push_back({t.meta.at("dataset"), t.column(io::kScoreLoglikColumn)});
  viz::HistogramOptions hist;
  hist.title = fmt::format("{}: log-likelihood under a flow trained on {}", cfg.name, cfg.data.train);
  hist.bins = static_cast<int>(cfg.histogram.bins);
  hist.drop_lowest_fraction = cfg.histogram.clip_percent / 100.0;
  hist.csv_path = paths.dir + "/histogram.csv";
  const auto png = paths.dir + "/histogram.png";
  viz::write_histogram_png(png, series, hist);

  // 5. report
  for (const auto& t : tables) std::cout << score_summary(t) << "\n";
  std::cout << "\nin-distribution: " << tables.front().meta.at("dataset")
            << " (positive class; higher log-likelihood = more in-distribution)\n"
            << format_metrics_table(rows) << "\n";
  std::cout << "run directory: " << paths.dir << "\n"
            << "  metrics:   " << metrics_path << "\n"
            << "  histogram: " << png << "\n"
            << "  scores:    " << paths.scores_dir() << "/\n"
            << "  training:  " << paths.metrics_log() << "\n";
}
}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run a whole experiment: train, score, AUROC, histogram (skips finished stages)");
  cmd->add_option("experiment", o->experiment, "Experiment YAML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (default: runs/<name>)");
  cmd->add_option("--set", o->overrides, "Override a config key: key.path=value (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->callback([o] { run_experiment(*o); });
}

}  // namespace flowood::app
