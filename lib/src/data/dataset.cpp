#include "flowood/data/dataset.hpp"

namespace flowood::data {

torch::Tensor to_unit_float(const torch::Tensor& uint8_images, const torch::Device& device) {
  return uint8_images.to(device, torch::kFloat32).div_(255.0);
}

}  // namespace flowood::data
