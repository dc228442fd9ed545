#pragma once
// The tiny image set the per-example score tests share: n random 1×4×4 images (seed 4).
#include <cstdint>

#include <torch/torch.h>

#include "flowood/data/dataset.hpp"

namespace flowood::ood {

inline data::ImageDataset tiny_data(int64_t n) {
  data::ImageDataset d;
  d.spec = "tiny";
  torch::manual_seed(4);
  d.images = torch::randint(0, 256, {n, 1, 4, 4}).to(torch::kUInt8);
  return d;
}

}  // namespace flowood::ood
