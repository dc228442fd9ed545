#pragma once
/// A run directory: resolved config, manifest, checkpoint, metrics log, scores and plots. Later
/// verbs need only the directory: the model is rebuilt from config.yaml and loaded from the checkpoint.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/experiment/config_codec.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::experiment {

/// `spec` with every character but letters, digits, '-', '_' and '.' replaced by '_'.
std::string safe_file_name(const std::string& spec);

struct RunPaths {
  std::string dir;
  std::string config() const { return dir + "/config.yaml"; }
  std::string manifest() const { return dir + "/manifest.json"; }
  std::string checkpoint() const { return dir + "/checkpoint.pt"; }
  std::string metrics_log() const { return dir + "/metrics.csv"; }
  std::string log_file() const { return dir + "/flowood.log"; }
  std::string scores_dir() const { return dir + "/scores"; }
  /// scores/<spec with ':' and '/' made safe>.csv
  std::string score_file(const std::string& spec) const;
};

/// The run directory to use: `explicit_dir` if given, else runs/<config name>.
RunPaths run_paths(const std::string& explicit_dir, const config::ExperimentConfig& config);

/// Every key as text ("[a, b]" for lists), for comparing two configs key by key.
std::map<std::string, std::string> flatten(const config::ExperimentConfig& config);

/// Whether `key` may differ between a run and its resumption: keys that change how long it runs,
/// what it logs, where it finds data or the later evaluation stages — not the parameters' path.
bool may_change_on_resume(const std::string& key);

/// The keys that `now` changes against `stored` and that a resumed run may not change, as
/// "key (old → new)".
std::vector<std::string> resume_conflicts(const config::ExperimentConfig& stored, const config::ExperimentConfig& now);

/// The config stored inside the run's checkpoint (what its weights were trained with), read with
/// `codec.parse`; nullopt when there is no checkpoint or it stores none.
std::optional<config::ExperimentConfig> checkpoint_config(const RunPaths& run, const ConfigCodec& codec);

/// Creates the directory (checking it is writable), refuses to resume a run whose stored
/// config differs in keys that change the model, data or optimisation (naming them), then
/// writes config.yaml (codec.write) and adds a log file sink.
void prepare_run_dir(const RunPaths& run, const config::ExperimentConfig& config, const ConfigCodec& codec);

/// Writes manifest.json: versions, seed, git revision, device, command line, data checksums.
void write_manifest(const RunPaths& run, const config::ExperimentConfig& config, const torch::Device& device,
                    const std::vector<const data::ImageDataset*>& datasets, const std::vector<std::string>& argv);

/// A trained model from a run directory, in eval mode on `device`.
struct LoadedRun {
  config::ExperimentConfig config;
  flows::FlowModel model{nullptr};
  int64_t step = 0;
  torch::Device device{torch::kCPU};  ///< where the model is
};
LoadedRun load_run(const std::string& dir, const torch::Device& device, const ConfigCodec& codec);
/// load_run for the verbs that read a run: the device from `device_flag` (or the run's
/// config.device when empty) and the run's thread setting applied first.
LoadedRun open_run(const std::string& dir, const std::string& device_flag, const ConfigCodec& codec);
/// open_run for the verbs that draw images; a tabular run is an Error naming `verb`.
LoadedRun open_image_run(const std::string& dir, const std::string& device_flag, const std::string& verb,
                         const ConfigCodec& codec);

/// Applies config.threads (0: the CPUs this process may use) and warns once about a reference BLAS.
void apply_threads(const config::ExperimentConfig& config);

/// The command line of this process as one string list (for manifests).
std::vector<std::string> command_line();

}  // namespace flowood::experiment
