#include "flowood/data/mutate.hpp"

namespace flowood::data {

torch::Tensor mutate(const torch::Tensor& images, double rate, at::Generator generator) {
  if (rate <= 0 || images.size(0) == 0) return images;
  const auto cpu = images.to(torch::kCPU);
  const auto flip = at::rand(cpu.sizes(), generator, torch::TensorOptions().dtype(torch::kFloat32)) < rate;
  const auto longs = torch::TensorOptions().dtype(torch::kLong);
  if (images.scalar_type() == torch::kUInt8) {
    const auto values = at::randint(0, 256, cpu.sizes(), generator, longs);
    return torch::where(flip, values.to(torch::kUInt8), cpu).to(images.device());
  }
  // Feature rows: the value of the same feature in a random row of the batch.
  const auto donors = at::randint(0, cpu.size(0), cpu.sizes(), generator, longs);
  return torch::where(flip, cpu.gather(0, donors), cpu).to(images.device());
}

}  // namespace flowood::data
