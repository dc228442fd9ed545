#include "flowood/data/dataset.hpp"

namespace flowood::data {

torch::Tensor to_model_input(const torch::Tensor& examples, const torch::Device& device) {
  if (examples.scalar_type() != torch::kUInt8) return examples.to(device, torch::kFloat32);
  return examples.to(device, torch::kFloat32).div_(255.0);
}

}  // namespace flowood::data
