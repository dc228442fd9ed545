#pragma once
/// Per-example likelihood scores of a dataset under a flow, streamed in batches.
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::ood {

struct LoglikOptions {
  int64_t batch_size = 256;
  int64_t samples = 1;            ///< K dequantisation samples per image, combined by log-mean-exp
  uint64_t seed = 0;              ///< noise of image i, sample k comes from (seed, i, k): batch-size independent
  int64_t limit = 0;              ///< first N images (0 = all)
  /// Batch norm in train mode (Song et al. 2019): each batch is normalised with its own statistics
  /// (so scores depend on the batch composition and size); running statistics are left unchanged.
  bool batch_norm_train_mode = false;
  /// Called after each batch with (images done, total).
  std::function<void(int64_t, int64_t)> progress;
};

/// Per-example log-likelihood (nats, spec §1.3) and bits/dim.
struct LoglikScores {
  std::vector<double> loglik;
  std::vector<double> bpd;
};

/// Scores `data` with `model` in eval mode (or batch-norm train mode) without autograd, on the
/// model's device. Memory stays one batch whatever the dataset size. The model's mode and buffers
/// are restored afterwards.
LoglikScores score_loglik(flows::FlowModelImpl& model, const data::ImageDataset& data, const LoglikOptions& options);

/// Uniform noise [B, ...] for examples [first, first + B) and sample k, each example from its own
/// seeded stream (so scores do not depend on the batch size).
torch::Tensor per_example_noise(const torch::Tensor& like, int64_t first, uint64_t seed, int64_t sample);

}  // namespace flowood::ood
