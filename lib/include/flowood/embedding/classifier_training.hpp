#pragma once
/// Training the classifier extractor on the in-distribution labels: Adam with L2 weight decay and a
/// cosine learning-rate decay, cross-entropy, seeded shuffling; atomic checkpoints, exact resume and
/// a stop flag as for flows (train/trainer.hpp); test accuracy at the end.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/embedding/classifier.hpp"

namespace flowood::embedding {

struct ClassifierTrainOptions {
  config::EmbeddingConfig config;             ///< width, depth, epochs, max_steps, batch_size, lr, weight_decay
  uint64_t seed = 0;                          ///< initialisation and shuffling
  std::string dir;                            ///< checkpoint.pt, metrics.csv and metrics.json go here
  std::string config_text;                    ///< the run's resolved config, stored in the checkpoint
  torch::Device device = torch::kCPU;
  int64_t eval_batch_size = 256;
  int64_t log_every = 50;                     ///< steps between log lines
  const std::atomic<bool>* stop = nullptr;    ///< when set: checkpoint after this step and return
};

struct ClassifierTrainResult {
  int64_t steps = 0;
  int64_t resumed_from = 0;
  double test_accuracy = 0;                   ///< fraction of the test set classified correctly
  int64_t test_examples = 0;
  double seconds = 0;
  bool stopped = false;
};

/// Trains (or resumes, or finds finished) the classifier in options.dir on `train` (labels needed),
/// then measures its accuracy on `test` and writes dir/metrics.json {step, test_accuracy, …}.
/// Throws DataError when `train` has no labels or `test` has labels outside the trained classes,
/// Error on divergence (before any checkpoint of non-finite values is written).
ClassifierTrainResult train_classifier(const data::ImageDataset& train, const data::ImageDataset& test,
                                       const ClassifierTrainOptions& options);

/// Fraction of `data` (labels needed) that `net` classifies correctly, in eval mode.
double classifier_accuracy(ClassifierNetImpl& net, const data::ImageDataset& data, int64_t batch_size);

}  // namespace flowood::embedding
