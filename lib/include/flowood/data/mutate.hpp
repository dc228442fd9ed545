#pragma once
// Input perturbation for the background model of the likelihood-ratio score: a dataset-level
// transformation, so it lives with the data and the trainer needs nothing from ood/.

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace flowood::data {

/// Ren et al.'s input perturbation: each value of `images` (uint8 [N, C, H, W]) is replaced, with
/// probability `rate`, by a uniform random value in 0..255. For feature rows (float [N, D]) a
/// replaced value is the same feature's value in a random row of the batch, which keeps every
/// feature's marginal and breaks the dependence between features. Draws come from `generator`.
/// `rate <= 0` returns the input unchanged.
torch::Tensor mutate(const torch::Tensor& images, double rate, at::Generator generator);

}  // namespace flowood::data
