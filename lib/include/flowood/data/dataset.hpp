#pragma once
/// In-memory image datasets: what every loader returns and every verb consumes.
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::data {

/// A loaded dataset. Pixels stay uint8 until a batch is taken, so memory is one byte per value.
struct ImageDataset {
  std::string spec;                 ///< the resolved spec it was loaded from, e.g. "fashion-mnist:train"
  torch::Tensor images;             ///< [N, C, H, W] uint8
  torch::Tensor labels;             ///< [N] int64, or undefined when the source has no labels
  std::vector<std::string> files;   ///< source files read (for checksums in run manifests)

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  bool has_labels() const { return labels.defined(); }
  /// Per-image shape [C, H, W].
  std::vector<int64_t> image_shape() const {
    return {images.size(1), images.size(2), images.size(3)};
  }
};

/// Images [i, i+n) as float in [0, 1] (value k/255, like torchvision ToTensor) on `device`.
torch::Tensor to_unit_float(const torch::Tensor& uint8_images, const torch::Device& device);

}  // namespace flowood::data
