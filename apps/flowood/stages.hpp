#pragma once
// The stages an experiment goes through, shared by the verbs that run one (train) or all (run).
#include <string>
#include <vector>

#include "config_yaml.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/train/trainer.hpp"
#include "run_dir.hpp"

namespace flowood::app {

/// Data roots of a config: data.roots, then $FLOWOOD_DATA, then the defaults.
data::DataRoots roots_of(const config::ExperimentConfig& config);

/// Trains (or resumes) the experiment in `run`; skips when the checkpoint is already at the
/// final step. SIGINT/SIGTERM/SIGUSR1 stop it after the current step with a checkpoint.
train::TrainResult train_stage(const LoadedConfig& loaded, const RunPaths& run);

/// Exit code of a training run stopped by a signal (checkpoint written; run again to resume).
inline constexpr int kExitStoppedResumable = 75;

/// Scores `spec` with the run's model and writes the score CSV (+ .npy of loglik) atomically.
/// Returns the table written.
io::CsvTable score_stage(const LoadedRun& run, const std::string& run_dir, const std::string& spec, int64_t limit,
                         const ood::LoglikOptions& options, const std::string& out_csv, const std::string& out_npy);

/// "mnist:test  n=2000  loglik mean −1699.3 nats (sd 210.4)  bpd 3.127" for a score table.
std::string score_summary(const io::CsvTable& table);

}  // namespace flowood::app
