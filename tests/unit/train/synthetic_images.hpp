#pragma once
// What the training tests share: n smooth-ish 1×8×8 uint8 images (a random 4×4 pattern upsampled,
// so there is structure to learn), seeded; a model built under its config's seed.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/flows/factory.hpp"

namespace flowood::testing {

inline data::ImageDataset synthetic_images(int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  data::ImageDataset d;
  d.spec = "synthetic";
  auto low = at::rand({n, 1, 4, 4}, gen) * 255;
  d.images = torch::nn::functional::interpolate(
                 low, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{8, 8}).mode(torch::kNearest))
                 .to(torch::kUInt8);
  return d;
}

/// make_flow(c.model) after seeding LibTorch's generator with c.seed: equal calls, equal parameters.
inline flows::FlowModel fresh_model(const config::ExperimentConfig& c) {
  torch::manual_seed(static_cast<uint64_t>(c.seed));
  return flows::make_flow(c.model);
}

}  // namespace flowood::testing
