// flowood run: the whole experiment — train (plus the background model and ensemble members the
// score methods need), score the test set and every OOD set with every method in `scores`, metrics
// with confidence intervals, ROC/PR curves, histogram — into one run directory. Finished stages
// are skipped on a second run.
#include <algorithm>
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
#include "evaluation.hpp"
#include "method_scores.hpp"
#include "tables.hpp"
#include "stages.hpp"

namespace fs = std::filesystem;

namespace flowood::app {
namespace {
struct RunOptions {
  std::string experiment;
  std::string run_dir;
  std::vector<std::string> overrides;
};

bool lists(const config::ExperimentConfig& cfg, const std::string& method) {
  return std::find(cfg.scores.begin(), cfg.scores.end(), method) != cfg.scores.end();
}

// Trains an auxiliary run (background model, ensemble member) inside the main run directory.
void train_auxiliary(const LoadedConfig& aux, const std::string& dir, const char* what) {
  log().info("training the {} in {}", what, dir);
  const auto trained = train_stage(aux, RunPaths{dir});
  if (trained.stopped) throw StoppedEarly(trained.steps);
}

void run_experiment(const RunOptions& o) {
  const auto loaded = load_config(o.experiment, o.overrides);
  const auto& cfg = loaded.config;
  const auto paths = run_paths(o.run_dir, cfg);

  // 1. train (each stage skips itself when its checkpoint is final)
  const auto trained = train_stage(loaded, paths);
  if (trained.stopped) throw StoppedEarly(trained.steps);
  MethodSources sources;
  sources.typicality_reference = cfg.score.typicality_reference;
  if (lists(cfg, "likelihood-ratio")) {
    sources.background_dir = paths.dir + "/background";
    train_auxiliary(background_config(loaded), sources.background_dir, "likelihood-ratio background model");
  }
  if (lists(cfg, "waic")) {
    for (int64_t k = 1; k < cfg.score.ensemble; ++k) {
      const auto member = ensemble_member_config(loaded, k);
      sources.ensemble_dirs.push_back(fmt::format("{}/ensemble/seed-{}", paths.dir, member.config.seed));
      train_auxiliary(member, sources.ensemble_dirs.back(), "WAIC ensemble member");
    }
  }
  if (const auto group = process_group(); group && !group->is_main()) return;  // rank 0 scores
  add_log_file(paths.log_file());

  // 2. score the in-distribution test set and every OOD set, with every method
  const auto device = resolve_device(cfg.device);
  const auto run = load_run(paths.dir, device);
  fs::create_directories(paths.scores_dir());
  ood::LoglikOptions options;
  options.batch_size = cfg.score.batch_size;
  options.samples = cfg.score.samples;
  options.seed = static_cast<uint64_t>(cfg.seed);
  MethodScorer scorer(run, paths.dir, options, cfg.data.test_limit, sources, paths.scores_dir());
  std::vector<std::string> specs{cfg.data.test};
  specs.insert(specs.end(), cfg.data.ood.begin(), cfg.data.ood.end());
  std::vector<io::CsvTable> loglik;  // every set's log-likelihoods: the histogram and datasets summary
  for (const auto& spec : specs) loglik.push_back(scorer.score("loglik", spec));
  std::vector<MethodResults> methods;
  for (const auto& method : cfg.scores) {
    MethodResults r{method, {}, {}};
    for (const auto& spec : specs) {
      const bool own_file = method != "loglik" && method != "bpd";
      const auto file = method_score_file(paths, spec, own_file ? method : "loglik");
      r.tables.push_back(method == "loglik" ? loglik[r.tables.size()] : scorer.score(method, spec, own_file ? file : ""));
      r.files.push_back(file);
    }
    methods.push_back(std::move(r));
  }

  // 3. metrics of every OOD set against the test set, for every method, and the curves
  const auto evaluation = evaluate_methods(methods, cfg.score.bootstrap, static_cast<uint64_t>(cfg.seed));
  write_curves(paths.dir + "/curves", methods);
  io::Json datasets = io::Json::array();
  for (size_t i = 0; i < loglik.size(); ++i) datasets.push_back(score_stats_json(loglik[i], paths.score_file(specs[i])));
  // The paper's score is always reported as "ood", whether or not `scores` lists it.
  auto loglik_eval = evaluation;
  if (lists(cfg, "loglik")) {
    loglik_eval.erase(std::remove_if(loglik_eval.begin(), loglik_eval.end(), [](const auto& e) { return e.method != "loglik"; }),
                      loglik_eval.end());
  } else {
    MethodResults ll{"loglik", loglik, {}};
    for (const auto& spec : specs) ll.files.push_back(paths.score_file(spec));
    loglik_eval = evaluate_methods({ll}, cfg.score.bootstrap, static_cast<uint64_t>(cfg.seed));
  }
  io::Json loglik_ood = io::Json::array();
  for (const auto& e : loglik_eval) loglik_ood.push_back(e.to_json());
  io::Json methods_json = io::Json::array();
  for (const auto& e : evaluation) methods_json.push_back(e.to_json());
  const auto metrics_path = paths.dir + "/metrics.json";
  io::write_json_file(metrics_path, io::Json::object()
                                        .set("experiment", cfg.name)
                                        .set("run_dir", paths.dir)
                                        .set("step", run.step)
                                        .set("score", "loglik")
                                        .set("in_distribution", loglik.front().meta.at("dataset"))
                                        .set("datasets", datasets)
                                        .set("ood", loglik_ood)
                                        .set("methods", methods_json));

  // 4. histogram of all log-likelihood distributions
  std::vector<viz::HistogramSeries> series;
  for (const auto& t : loglik) series.push_back({t.meta.at("dataset"), t.column(io::kScoreLoglikColumn)});
  viz::HistogramOptions hist;
  hist.title = fmt::format("{}: log-likelihood under a flow trained on {}", cfg.name, cfg.data.train);
  hist.bins = static_cast<int>(cfg.histogram.bins);
  hist.drop_lowest_fraction = cfg.histogram.clip_percent / 100.0;
  hist.csv_path = paths.dir + "/histogram.csv";
  const auto png = paths.dir + "/histogram.png";
  viz::write_histogram_png(png, series, hist);

  // 5. summary
  for (const auto& t : loglik) std::cout << score_summary(t) << "\n";
  std::cout << "\nin-distribution: " << loglik.front().meta.at("dataset") << " (positive class)\n"
            << format_evaluation_table(evaluation) << "\n";
  std::cout << "run directory: " << paths.dir << "\n"
            << "  metrics:   " << metrics_path << "\n"
            << "  histogram: " << png << "\n"
            << "  curves:    " << paths.dir << "/curves/\n"
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
