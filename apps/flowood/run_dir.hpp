#pragma once
// A run directory: resolved config, manifest, checkpoint, metrics log, scores and plots. Later
// verbs need only the directory: the model is rebuilt from config.yaml and loaded from the checkpoint.
#include <string>
#include <vector>

#include <torch/types.h>

#include "config_yaml.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::app {

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

/// Creates the directory (checking it is writable), refuses to resume a run whose stored
/// config differs in keys that change the model, data or optimisation (naming them), then
/// writes config.yaml and adds a log file sink.
void prepare_run_dir(const RunPaths& run, const LoadedConfig& loaded);

/// Writes manifest.json: versions, seed, git revision, device, command line, data checksums.
void write_manifest(const RunPaths& run, const config::ExperimentConfig& config, const torch::Device& device,
                    const std::vector<const data::ImageDataset*>& datasets, const std::vector<std::string>& argv);

/// A trained model from a run directory, in eval mode on `device`.
struct LoadedRun {
  LoadedConfig config;
  flows::FlowModel model{nullptr};
  int64_t step = 0;
  torch::Device device{torch::kCPU};  ///< where the model is
};
LoadedRun load_run(const std::string& dir, const torch::Device& device);
/// load_run for the verbs that read a run: the device from `device_flag` (or the run's
/// config.device when empty) and the run's thread setting applied first.
LoadedRun open_run(const std::string& dir, const std::string& device_flag);
/// open_run for the verbs that draw images; a tabular run is an Error naming `verb`.
LoadedRun open_image_run(const std::string& dir, const std::string& device_flag, const std::string& verb);

/// Applies config.threads (0 keeps LibTorch's default).
void apply_threads(const config::ExperimentConfig& config);

/// The command line as one string list (for manifests).
std::vector<std::string> command_line();

}  // namespace flowood::app
