#pragma once
/// A run directory from a model trained elsewhere: a checkpoint of the authors' code (flows-ood,
/// reference-spec §5.1: torch.save({'net': state_dict, 'epoch': …})) plus the experiment config
/// that describes its architecture become config.yaml, manifest.json and checkpoint.pt, after
/// which every verb that reads a run works on it. docs/import.md.
#include <cstdint>
#include <optional>
#include <string>

#include "flowood/config/experiment.hpp"
#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace flowood::experiment {

/// Sources import_checkpoint reads ("flows-ood").
std::vector<std::string> import_sources();

struct ImportResult {
  std::optional<int64_t> epoch;  ///< the checkpoint's 'epoch' entry, when it has one
  int64_t tensors = 0;           ///< parameters and buffers copied
  std::string sha256;            ///< of the imported file
};

/// Imports `checkpoint` (format `from`) into `run` as a model built from `config`. Everything is
/// read and checked before the run directory is touched; a directory that already holds a
/// checkpoint is refused. Throws ConfigError (unknown source, a model the source cannot express)
/// or IoError naming the file (unreadable, no state dict, parameters missing, unexpected or of
/// the wrong shape, non-finite values).
ImportResult import_checkpoint(const std::string& from, const std::string& checkpoint,
                               const config::ExperimentConfig& config, const RunPaths& run, const ConfigCodec& codec);

/// The "imported_from" record of a run's checkpoint meta (JSON text), or nullopt for a run trained
/// here, a run without a checkpoint, or one whose checkpoint cannot be read (its loader says why).
std::optional<std::string> imported_from(const RunPaths& run);

}  // namespace flowood::experiment
