#include "flowood/experiment/pipeline.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "flowood/core/device.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/experiment/stages.hpp"
#include "flowood/experiment/tables.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/viz/histogram.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {

bool lists(const config::ExperimentConfig& cfg, const std::string& method) {
  return std::find(cfg.scores.begin(), cfg.scores.end(), method) != cfg.scores.end();
}

}  // namespace

TrainedRuns train_runs(const config::ExperimentConfig& cfg, const RunPaths& paths, const TrainFn& train_one) {
  // Every dataset the run will read is checked before any training: a typo in data.ood or a
  // missing file must not wait for the end of training to be reported.
  std::vector<std::string> specs = {cfg.data.train, cfg.data.test};
  specs.insert(specs.end(), cfg.data.ood.begin(), cfg.data.ood.end());
  for (const auto* spec : {&cfg.score.typicality_reference, &cfg.score.typicality_heldout, &cfg.score.fit_data})
    if (!spec->empty()) specs.push_back(*spec);
  if (!cfg.train.negative.data.empty()) specs.push_back(cfg.train.negative.data);
  for (const auto& spec : specs) data::check_dataset_available(spec, roots_of(cfg));
  TrainedRuns out;
  out.sources.typicality_reference = cfg.score.typicality_reference;
  out.sources.typicality_heldout = cfg.score.typicality_heldout;
  const auto stage = [&](const config::ExperimentConfig& c, const std::string& dir, const char* what) {
    if (what) log().info("training the {} in {}", what, dir);
    const auto trained = train_one(c, RunPaths{dir});
    out.stopped = trained.stopped;
    out.stopped_at = trained.steps;
    return !trained.stopped;
  };
  if (!stage(cfg, paths.dir, nullptr)) return out;
  if (lists(cfg, "likelihood-ratio")) {
    out.sources.background_dir = paths.dir + "/background";
    if (!stage(background_config(cfg), out.sources.background_dir, "likelihood-ratio background model")) return out;
  }
  if (lists(cfg, "waic")) {
    for (int64_t k = 1; k < cfg.score.ensemble; ++k) {
      const auto member = ensemble_member_config(cfg, k);
      out.sources.ensemble_dirs.push_back(fmt::format("{}/ensemble/seed-{}", paths.dir, member.seed));
      if (!stage(member, out.sources.ensemble_dirs.back(), "WAIC ensemble member")) return out;
    }
  }
  return out;
}

RunReport evaluate_run(const config::ExperimentConfig& cfg, const RunPaths& paths, const MethodSources& sources,
                       const ConfigCodec& codec) {
  add_log_file(paths.log_file());
  RunReport report;

  // 1. score the in-distribution test set and every OOD set, with every method
  const auto device = resolve_device(cfg.device);
  const auto run = load_run(paths.dir, device, codec);
  report.step = run.step;
  fs::create_directories(paths.scores_dir());
  ood::LoglikOptions options;
  options.batch_size = cfg.score.batch_size;
  options.samples = cfg.score.samples;
  options.seed = static_cast<uint64_t>(cfg.seed);
  MethodScorer scorer(run, paths.dir, options, cfg.data.test_limit, sources, codec, paths.scores_dir());
  std::vector<std::string> specs{cfg.data.test};
  specs.insert(specs.end(), cfg.data.ood.begin(), cfg.data.ood.end());
  auto& loglik = report.loglik;  // every set's log-likelihoods: the histogram and datasets summary
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

  // 2. metrics of every OOD set against the test set, for every method, and the curves
  report.evaluation = evaluate_methods(methods, cfg.score.bootstrap, static_cast<uint64_t>(cfg.seed));
  report.curves_dir = paths.dir + "/curves";
  write_curves(report.curves_dir, methods);
  io::Json datasets = io::Json::array();
  for (size_t i = 0; i < loglik.size(); ++i) datasets.push_back(score_stats_json(loglik[i], paths.score_file(specs[i])));
  // The paper's score is always reported as "ood", whether or not `scores` lists it.
  auto loglik_eval = report.evaluation;
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
  for (const auto& e : report.evaluation) methods_json.push_back(e.to_json());
  report.metrics_json = paths.dir + "/metrics.json";
  io::write_json_file(report.metrics_json, io::Json{
                                               {"experiment", cfg.name},
                                               {"run_dir", paths.dir},
                                               {"step", run.step},
                                               {"score", "loglik"},
                                               {"in_distribution", loglik.front().meta.at("dataset")},
                                               {"datasets", datasets},
                                               {"ood", loglik_ood},
                                               {"methods", methods_json}});

  // 3. histogram of all log-likelihood distributions
  std::vector<viz::HistogramSeries> series;
  for (const auto& t : loglik) series.push_back({t.meta.at("dataset"), t.column(io::kScoreLoglikColumn)});
  viz::HistogramOptions hist;
  hist.title = fmt::format("{}: log-likelihood under a flow trained on {}", cfg.name, cfg.data.train);
  hist.bins = static_cast<int>(cfg.histogram.bins);
  hist.drop_lowest_fraction = cfg.histogram.clip_percent / 100.0;
  hist.csv_path = paths.dir + "/histogram.csv";
  report.histogram_png = paths.dir + "/histogram.png";
  viz::write_histogram_png(report.histogram_png, series, hist);
  return report;
}

}  // namespace flowood::experiment
