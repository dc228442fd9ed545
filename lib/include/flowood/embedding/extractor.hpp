#pragma once
/// Feature extractors for flows on embeddings (paper §8): one interface, one factory keyed by
/// `embedding.extractor` — `classifier` (a ClassifierNet flowood trained, loaded from its
/// checkpoint) or `torchscript:PATH` (a module exported from PyTorch).
#include <cstdint>
#include <memory>
#include <string>

#include <torch/types.h>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"

namespace flowood::embedding {

/// What an extractor gives for a dataset.
struct Embeddings {
  torch::Tensor features;  ///< [N, D] float32, on the CPU
  torch::Tensor logits;    ///< [N, K] float32 for a classifier; undefined otherwise
  torch::Tensor labels;    ///< [N] int64 from the dataset; undefined when it has none
};

class Extractor {
 public:
  virtual ~Extractor() = default;
  /// One line for logs: "classifier (width 32, depth 1, 10 classes, step 1407)".
  virtual std::string describe() const = 0;
  /// Changes whenever the features would: cached embeddings record it and are reused while it is equal.
  virtual std::string identity() const = 0;
  /// True when embed() also gives logits (a classifier head).
  virtual bool has_logits() const = 0;
  /// Features (and logits) of every example of `data` (images [N, C, H, W] uint8), in batches of
  /// `batch_size`, without autograd, in eval mode. Throws DataError naming `data.spec` when the
  /// images do not fit the extractor, Error for non-finite features.
  Embeddings embed(const data::ImageDataset& data, int64_t batch_size);

 protected:
  /// One batch: x [B, C, H, W] float32 pixels in [0, 1] on the CPU → features [B, D] (and logits [B, K]
  /// or undefined), on any device.
  virtual std::pair<torch::Tensor, torch::Tensor> forward_batch(const torch::Tensor& x) = 0;
};

/// Where the classifier extractor of a run lives: <run_dir>/extractor/checkpoint.pt.
std::string classifier_checkpoint(const std::string& run_dir);

/// The extractor `config.extractor` names, on `device`: classifier (loaded from `checkpoint`) or
/// torchscript:PATH. Throws ConfigError(embedding.extractor) for an unknown name or an empty one,
/// IoError naming the file when a checkpoint or module is missing or unreadable.
std::unique_ptr<Extractor> make_extractor(const config::EmbeddingConfig& config, const std::string& checkpoint,
                                          const torch::Device& device);

/// The images of a batch as a network expects them: resized to `resize` [H, W] (bilinear, when
/// set), a single channel replicated to `channels` (when > 1), then (x − mean[c]) / std[c] (when
/// set). x [B, C, H, W] float32 in [0, 1]. Throws DataError(spec) when mean/std do not have one
/// entry (or C entries) for the channels.
torch::Tensor preprocess_images(const torch::Tensor& x, const config::EmbeddingConfig& config, const std::string& spec);

}  // namespace flowood::embedding
