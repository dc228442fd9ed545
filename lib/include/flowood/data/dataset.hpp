#pragma once
/// In-memory datasets: what every loader returns and every verb consumes.
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::data {

/// A loaded dataset: images for image flows, or feature rows for tabular flows. Pixels stay uint8
/// until a batch is taken, so memory is one byte per value.
struct ImageDataset {
  std::string spec;                 ///< the resolved spec it was loaded from, e.g. "fashion-mnist:train"
  torch::Tensor images;             ///< [N, C, H, W] uint8 pixels, or [N, D] float32 features (tabular)
  torch::Tensor labels;             ///< [N] int64, or undefined when the source has no labels
  std::vector<std::string> files;   ///< source files read (for checksums in run manifests)

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  bool has_labels() const { return labels.defined(); }
  /// True when the examples are feature rows [N, D] rather than images.
  bool is_features() const { return images.defined() && images.dim() == 2; }
  /// Per-example shape: [C, H, W] for images, [D] for features.
  std::vector<int64_t> image_shape() const {
    if (!images.defined()) return {};
    return std::vector<int64_t>(images.sizes().begin() + 1, images.sizes().end());
  }
};

/// A batch of examples as the model's float32 input on `device`: uint8 pixels become k/255 in
/// [0, 1] (like torchvision ToTensor); float features are passed through unchanged.
torch::Tensor to_model_input(const torch::Tensor& examples, const torch::Device& device);

}  // namespace flowood::data
