#pragma once
/// Checkpoints of any module (flows, the embedding classifier): model (parameters and buffers, batch-norm statistics included), optimiser state,
/// step, and the run's resolved config text. Written atomically (temporary file + rename).
#include <cstdint>
#include <optional>
#include <string>

#include <torch/optim/optimizer.h>

#include <torch/nn/module.h>

namespace flowood::train {

struct CheckpointInfo {
  int64_t step = 0;         ///< optimiser steps taken
  std::string config_text;  ///< resolved config (YAML) of the run that wrote it
  std::string meta;         ///< what the model needs to be rebuilt before loading (JSON text; may be empty)
};

/// Saves to `path` atomically; `optimizer` may be null (model only). Throws IoError.
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info);

/// Loads into `model` (and `optimizer` when given and present in the file) on `device`.
/// Throws IoError naming the file when it is missing, unreadable or does not fit the model, and
/// when a parameter or buffer holds NaN or ±inf (a diverged run: nothing may score with it).
CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, const torch::Device& device);

/// The name of the first parameter or buffer of `model` holding NaN or ±inf, or nullopt.
std::optional<std::string> first_non_finite(const torch::nn::Module& model);

/// Reads only the step and config text.
CheckpointInfo read_checkpoint_info(const std::string& path);

}  // namespace flowood::train
