#pragma once
/// The training loop of reference-spec §5.1–5.2: Adam (or RMSprop), L2 weight decay on the
/// weight-norm gains only, gradient clipping per parameter group, seeded shuffling and noise,
/// periodic test evaluation, atomic checkpoints and exact resume.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <torch/optim/optimizer.h>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::train {

class Communicator;

/// What the loop reports after each step (and after each evaluation).
struct TrainProgress {
  int64_t step = 0;            ///< optimiser steps done
  int64_t total_steps = 0;
  int64_t start_step = 0;      ///< steps already done when this (re)start began (the resumed step)
  int64_t epoch = 0;           ///< 0-based epoch of this step
  int64_t epochs = 0;
  double loss = 0;             ///< mean NLL of the step's batch, nats per example
  double bpd = 0;              ///< the same in bits/dim
  double images_per_s = 0;     ///< training throughput since the (re)start
  double elapsed_s = 0;        ///< wall time since the (re)start
  std::optional<double> test_bpd;  ///< set when this report follows a test evaluation
  bool log_line = false;       ///< true every train.log_every steps and at evaluations
};
using ProgressFn = std::function<void(const TrainProgress&)>;

struct TrainerOptions {
  config::TrainConfig train;           ///< optimiser, schedule, checkpoints, evaluation
  uint64_t seed = 0;                   ///< every random draw: shuffling, noise, mutations
  int64_t eval_batch_size = 256;       ///< images per batch of the periodic test evaluations
  std::string run_dir;                 ///< checkpoint.pt and metrics.csv live here
  std::string config_text;             ///< resolved config, stored in checkpoints
  ProgressFn progress;
  const std::atomic<bool>* stop = nullptr;  ///< when set to true: checkpoint after this step and return
  /// Data-parallel training (train/distributed.hpp): each rank trains on its shard of every
  /// global batch of train.batch_size × world size examples (the same global batches, noise and
  /// mutations a single process with that batch would use); gradients are summed over ranks;
  /// ActNorm initialises from the whole first global batch on every rank; batch-norm running
  /// statistics are averaged over ranks before each evaluation and checkpoint; only rank 0
  /// writes files. Null: a single process.
  std::shared_ptr<Communicator> communicator;
  /// Negative training (spec §5.4; train.negative): OOD examples in the same shape as the training
  /// set. Each step takes a batch of them as large as the in-distribution batch (drawn without
  /// replacement from a seeded permutation per pass), runs both through the model as one batch, and
  /// minimises (mean NLL_in + w · mean log p of the OOD examples still above the threshold) / (1 + w);
  /// when none is above, the in-distribution NLL alone. Null: plain maximum likelihood.
  const data::ImageDataset* negative = nullptr;
};

struct TrainResult {
  int64_t steps = 0;          ///< optimiser steps done in total
  int64_t resumed_from = 0;   ///< step of the checkpoint resumed from (0 = fresh start)
  double train_bpd = 0;       ///< bits/dim of the last training batch
  std::optional<double> test_bpd;
  double seconds = 0;         ///< wall time of this invocation
  bool stopped = false;       ///< true when the stop flag ended the run early
};

/// Steps per epoch (the last partial batch counts, as PyTorch's DataLoader).
int64_t steps_per_epoch(int64_t dataset_size, int64_t batch_size);

/// Whether weight decay applies to every parameter: train.weight_decay_on "all", or "auto" for
/// the glow and tabular families (spec §5.2); "gains" or "auto" for realnvp/coupling → false.
bool decays_all_parameters(const std::string& weight_decay_on, const std::string& family);

/// The optimiser of spec §5.2: with decay on the gains only, two parameter groups (weight-norm
/// gains, names ending in "weight_g", with L2 weight decay; everything else without); with decay
/// on everything, one group. Groups that would be empty are left out.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(flows::FlowModelImpl& model, const config::TrainConfig& config);

/// One optimiser step on a batch, as train() takes it: zero the gradients, loss = −mean log p of
/// `x` [N, ...] dequantised with the noise `u` (same shape), backward, clip each parameter group
/// to `max_grad_norm` (0 = off), step. Returns the loss (nats per example), read back from the
/// device. `bench` times exactly this.
double train_step(flows::FlowModelImpl& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x,
                  const torch::Tensor& u, double max_grad_norm);

/// One negative-training step (TrainerOptions::negative): x, u the in-distribution batch and its
/// noise, xn, un the OOD batch and its noise, concatenated into one forward pass. Returns the
/// in-distribution loss (nats per example) and sets `kept` to the number of OOD examples whose
/// log-likelihood was above the threshold.
double negative_train_step(flows::FlowModelImpl& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x,
                           const torch::Tensor& u, const torch::Tensor& xn, const torch::Tensor& un,
                           const config::NegativeConfig& negative, double max_grad_norm, int64_t& kept);

/// Clips each parameter group's gradients to `max_grad_norm` (0 = off) and steps the optimiser.
void clip_and_step(torch::optim::Optimizer& optimizer, double max_grad_norm);

/// Trains `model` (already on its device) on `train`, evaluating on `test`. Resumes from
/// <run_dir>/checkpoint.pt when present. Throws flowood::Error on divergence (non-finite loss).
TrainResult train(flows::FlowModelImpl& model, const data::ImageDataset& train, const data::ImageDataset& test,
                  const TrainerOptions& options);

/// Mean bits/dim of the first `limit` images (0 = all) in eval mode with seeded noise.
double evaluate_bpd(flows::FlowModelImpl& model, const data::ImageDataset& data, int64_t limit, int64_t batch_size,
                    uint64_t seed);

}  // namespace flowood::train
