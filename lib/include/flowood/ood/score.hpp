#pragma once
/// Per-example likelihood scores of a dataset under a flow, streamed in batches.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::ood {

struct LoglikOptions {
  int64_t batch_size = 256;
  int64_t samples = 1;            ///< K dequantisation samples per image, combined by log-mean-exp
  uint64_t seed = 0;              ///< noise of image i, sample k of a set comes from (seed, set, i, k): batch-size independent
  int64_t limit = 0;              ///< first N images (0 = all)
  /// Batch norm in train mode (Song et al. 2019): each batch is normalised with its own statistics
  /// (so scores depend on the batch composition and size); running statistics are left unchanged.
  bool batch_norm_train_mode = false;
  /// Called after each batch with (images done, total).
  std::function<void(int64_t, int64_t)> progress;
};

/// Per-example log-likelihood (nats, spec §1.3) and bits/dim, and the log-likelihood's terms: per
/// level l of the flow (one per factor-out, then the final block; one level without factor-outs)
/// level[l] = log N(z_l; 0, I) + the log-dets of the layers since the previous factor-out, and
/// sqnorm[l] = ‖z_l‖²; `outside` holds the rest (preprocessing log-det − D·log 256). For K = 1,
/// Σ_l level[l] + outside = loglik; for K > 1 the terms are means over the K draws (and sum to the
/// mean of the K log-likelihoods, which log-mean-exp exceeds).
struct LoglikScores {
  std::vector<double> loglik;
  std::vector<double> bpd;
  std::vector<double> outside;
  std::vector<std::vector<double>> level;
  std::vector<std::vector<double>> sqnorm;
  std::vector<int64_t> level_dims;  ///< d_l, elements of z_l
};

/// Scores `data` with `model` in eval mode (or batch-norm train mode) without autograd, on the
/// model's device. Memory stays one batch whatever the dataset size. The model's mode and buffers
/// are restored afterwards.
LoglikScores score_loglik(flows::FlowModelImpl& model, const data::ImageDataset& data, const LoglikOptions& options);

/// Uniform noise [B, ...] for examples [first, first + B) of the set `dataset` (dataset_key) and
/// sample k, each example from its own seeded stream (so scores do not depend on the batch size, and
/// image i of two sets gets different noise).
torch::Tensor per_example_noise(const torch::Tensor& like, int64_t first, uint64_t seed, int64_t sample,
                                uint64_t dataset = 0);

/// The noise key of a dataset spec (64-bit FNV-1a of its text).
uint64_t dataset_key(const std::string& spec);

}  // namespace flowood::ood
