#pragma once
/// Every OOD score method (flowood/ood/methods.hpp) over a trained run: builds the score table of a
/// method on a dataset from its ingredients — the run's log-likelihoods, the background run's, the
/// ensemble members', compressed lengths, batch-norm-train-mode likelihoods, the typicality
/// reference — and reuses score files whose metadata say they are current. The methods are one
/// table keyed by name (scoring.cpp); a new method is a row there plus its ood::ScoreMethodInfo.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/ood/methods.hpp"
#include "flowood/ood/score.hpp"

namespace flowood::experiment {

/// Where a method's auxiliary models and data are.
struct MethodSources {
  std::string background_dir;               ///< likelihood-ratio: a run trained on mutated inputs
  std::vector<std::string> ensemble_dirs;   ///< waic: the other members (this run is the first)
  std::string typicality_reference;         ///< typicality: in-distribution spec of the entropy estimate
  std::string typicality_heldout;           ///< typicality: held-out in-distribution spec of the threshold
};

class MethodScorer {
 public:
  /// `run` is the scored model (loaded from `run_dir`); scoring settings come from `options`,
  /// `limit` and the run's config (score.*). When `cache_dir` is set, the ingredient log-likelihood
  /// tables of every model are kept as score files (the main run's under cache_dir, an auxiliary
  /// run's under its own scores/) and reused while current. `codec` reads auxiliary runs' configs.
  MethodScorer(const LoadedRun& run, std::string run_dir, ood::LoglikOptions options, int64_t limit,
               MethodSources sources, ConfigCodec codec, std::string cache_dir = {});
  ~MethodScorer();

  /// The score table of `method` on `spec` (ConfigError listing the methods for an unknown name).
  /// When `out_csv` is set the table is written there, or read back from it when the file is
  /// current (same metadata).
  /// `before_write`, when set, is called with a freshly computed table just before it is written to
  /// `out_csv` (a companion file written first keeps a failed CSV write from leaving a mismatched pair).
  io::CsvTable score(const std::string& method, const std::string& spec, const std::string& out_csv = {},
                     const std::function<void(const io::CsvTable&)>& before_write = {});

  /// The typicality reference (entropy, threshold), computed once.
  const ood::TypicalityReference& typicality_reference();

  /// Names of the methods this scorer implements (every ood::score_method_names() entry).
  static std::vector<std::string> method_names();

  // The ingredients the method table combines.
  const LoadedRun& run() const { return run_; }
  const std::string& run_dir() const { return run_dir_; }
  const MethodSources& sources() const { return sources_; }
  int64_t limit() const { return limit_; }
  const ood::LoglikOptions& options() const { return options_; }
  /// Log-likelihood table of `spec` under this run (cached in cache_dir when set).
  io::CsvTable own_loglik(const std::string& spec);
  /// Log-likelihood table of `spec` under `model` (from `model_dir`), cached at `cache_csv`: index,
  /// label, loglik, bpd, then the log-likelihood's terms (loglik_outside, loglik_level<l>,
  /// sqnorm_level<l>; metadata level_dims). `limit` < 0 means the scorer's.
  io::CsvTable loglik_of(const LoadedRun& model, const std::string& model_dir, const std::string& spec,
                         const std::string& cache_csv, bool bn_train = false, int64_t limit = -1);
  /// The held-out spec of the typicality threshold (MethodSources, score.typicality_heldout, or the
  /// data.test examples after data.test_limit; data.train when there are none).
  std::string typicality_heldout_spec() const;
  /// Where this run keeps the fits of dose and gradient: RUN/fits/<method>.json.
  std::string fit_file(const std::string& method) const;
  /// Cache file of `spec`'s log-likelihoods under the run in `dir` ("" without a cache).
  std::string cache_file(const std::string& dir, const std::string& spec) const;
  const LoadedRun& background();
  const std::vector<std::unique_ptr<LoadedRun>>& ensemble();

 private:
  std::map<std::string, std::string> base_meta(const std::string& method, const std::string& spec) const;

  const LoadedRun& run_;
  std::string run_dir_;
  ood::LoglikOptions options_;
  int64_t limit_;
  MethodSources sources_;
  ConfigCodec codec_;
  std::string cache_dir_;
  std::unique_ptr<LoadedRun> background_;
  std::vector<std::unique_ptr<LoadedRun>> ensemble_;
  std::unique_ptr<ood::TypicalityReference> reference_;
};

/// A score file's path for `method`: loglik (and bpd, the same file) scores/<spec>.csv, other methods
/// scores/<spec>.<method>.csv.
std::string method_score_file(const RunPaths& run, const std::string& spec, const std::string& method);

/// The metadata keys that make a score file current: every key of `meta` has the same value in
/// the file at `path`.
bool score_file_is_current(const std::string& path, const std::map<std::string, std::string>& meta);

/// The auxiliary runs of `run_dir` that `flowood run` trains (background/, ensemble/*), with
/// explicit directories taking their place when given.
MethodSources default_sources(const std::string& run_dir, const config::ExperimentConfig& config,
                              const std::string& background = {}, const std::vector<std::string>& ensemble = {},
                              const std::string& reference = {}, const std::string& heldout = {});

/// The log-likelihood terms of a table written by MethodScorer::loglik_of (DataError naming the
/// file when a column is missing).
ood::LoglikScores loglik_terms(const io::CsvTable& table);

}  // namespace flowood::experiment
