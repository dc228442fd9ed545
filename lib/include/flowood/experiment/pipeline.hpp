#pragma once
/// The whole experiment as `flowood run` does it: train the run and the auxiliary runs its score
/// methods need, then score the test set and every OOD set with every method, metrics with
/// confidence intervals, ROC/PR curves, metrics.json and the log-likelihood histogram. Each stage
/// skips itself when its outputs are current.
#include <functional>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/evaluation.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "flowood/experiment/scoring.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/train/trainer.hpp"

namespace flowood::experiment {

/// Trains one run (the caller chooses how: progress display, stop signals); train_stage by default.
using TrainFn = std::function<train::TrainResult(const config::ExperimentConfig&, const RunPaths&)>;

struct TrainedRuns {
  MethodSources sources;        ///< the auxiliary runs trained for the score methods
  bool stopped = false;         ///< a stage was stopped early (checkpoint written)
  int64_t stopped_at = 0;       ///< its step
};

/// Trains the run in `paths` and then, as `config.scores` needs them, the likelihood-ratio
/// background run (paths/background) and the WAIC ensemble members (paths/ensemble/seed-N).
/// Stops at the first stage that was stopped early.
TrainedRuns train_runs(const config::ExperimentConfig& config, const RunPaths& paths, const TrainFn& train_one);

/// What the evaluation stage wrote.
struct RunReport {
  int64_t step = 0;                     ///< the scored checkpoint's step
  std::vector<io::CsvTable> loglik;     ///< test set first, then every OOD set
  std::vector<Evaluation> evaluation;   ///< every (method, OOD set)
  std::string metrics_json;             ///< paths of the outputs
  std::string histogram_png;
  std::string curves_dir;
};

/// Scores every set with every method of `config.scores` under the trained run in `paths`,
/// evaluates them, writes scores/, curves/, metrics.json, histogram.png/.csv.
RunReport evaluate_run(const config::ExperimentConfig& config, const RunPaths& paths, const MethodSources& sources,
                       const ConfigCodec& codec);

}  // namespace flowood::experiment
