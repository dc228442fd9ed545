#pragma once
/// The stages an experiment goes through, shared by the verbs that run one (train) or all (run):
/// the training stage, the auxiliary runs the score methods need (likelihood-ratio background
/// model, WAIC ensemble members) and what a stage needs from the config (data roots, datasets as
/// the model consumes them).
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/train/distributed.hpp"
#include "flowood/train/trainer.hpp"

namespace flowood::experiment {

/// The data-parallel process group this process belongs to (train/distributed.hpp: torchrun or
/// `srun -n K` variables), connected on first use; null for a single process.
std::shared_ptr<train::Communicator> process_group();

/// Data roots of a config: data.roots, then $FLOWOOD_DATA, then the defaults.
data::DataRoots roots_of(const config::ExperimentConfig& config);

/// Loads `spec` as the config's model consumes it: images, or feature rows for tabular flows; for an
/// embedding run (embedding.extractor set) the features of the run's extractor in `run_dir`
/// (cached there), or the rows themselves for a feature-array spec.
data::ImageDataset load_for_model(const config::ExperimentConfig& config, const std::string& spec, int64_t limit,
                                  const std::string& run_dir = {});

/// What the caller sees of a training stage.
struct TrainHooks {
  train::ProgressFn progress;              ///< after each step (on the rank that writes files)
  const std::atomic<bool>* stop = nullptr; ///< set to stop after the current step with a checkpoint
};

/// Trains (or resumes) the experiment in `run`; skips when the checkpoint is already at the
/// final step. An embedding run with the classifier extractor trains that first (run/extractor). When `hooks.stop` becomes true, the run stops after the current step with a
/// checkpoint (result.stopped).
train::TrainResult train_stage(const config::ExperimentConfig& config, const RunPaths& run, const ConfigCodec& codec,
                               const TrainHooks& hooks = {});

/// Exit code of a training run stopped by a signal (checkpoint written; run again to resume).
inline constexpr int kExitStoppedResumable = 75;

/// The likelihood-ratio background run of an experiment: the same model and data, trained on
/// inputs mutated at background.mutation_rate with background.weight_decay on every parameter
/// (and background.max_steps when set).
config::ExperimentConfig background_config(const config::ExperimentConfig& main);

/// WAIC ensemble member `member` (1, 2, …) of an experiment: the same config with seed + member.
config::ExperimentConfig ensemble_member_config(const config::ExperimentConfig& main, int64_t member);

/// "mnist:test  n=2000  loglik mean −1699.3 nats (sd 210.4)  bpd 3.127" for a score table.
std::string score_summary(const io::CsvTable& table);

/// "1m05s" style durations.
std::string format_duration(double seconds);

}  // namespace flowood::experiment
