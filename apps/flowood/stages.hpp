#pragma once
// The stages an experiment goes through, shared by the verbs that run one (train) or all (run).
#include <memory>
#include <string>
#include <vector>

#include "config_yaml.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/train/distributed.hpp"
#include "flowood/train/trainer.hpp"
#include "run_dir.hpp"

namespace flowood::app {

/// The data-parallel process group this process belongs to (train/distributed.hpp: torchrun or
/// `srun -n K` variables), connected on first use; null for a single process.
std::shared_ptr<train::Communicator> process_group();

/// Data roots of a config: data.roots, then $FLOWOOD_DATA, then the defaults.
data::DataRoots roots_of(const config::ExperimentConfig& config);

/// Loads `spec` as the config's model consumes it: images, or feature rows for tabular flows.
data::ImageDataset load_for_model(const config::ExperimentConfig& config, const std::string& spec, int64_t limit);

/// Trains (or resumes) the experiment in `run`; skips when the checkpoint is already at the
/// final step. SIGINT/SIGTERM/SIGUSR1 stop it after the current step with a checkpoint.
train::TrainResult train_stage(const LoadedConfig& loaded, const RunPaths& run);

/// Exit code of a training run stopped by a signal (checkpoint written; run again to resume).
inline constexpr int kExitStoppedResumable = 75;

/// The likelihood-ratio background run of an experiment: the same model and data, trained on
/// inputs mutated at background.mutation_rate with background.weight_decay on every parameter
/// (and background.max_steps when set).
LoadedConfig background_config(const LoadedConfig& main);

/// WAIC ensemble member `member` (1, 2, …) of an experiment: the same config with seed + member.
LoadedConfig ensemble_member_config(const LoadedConfig& main, int64_t member);

/// "mnist:test  n=2000  loglik mean −1699.3 nats (sd 210.4)  bpd 3.127" for a score table.
std::string score_summary(const io::CsvTable& table);

}  // namespace flowood::app
