#pragma once
/// Synthetic, seeded out-of-distribution sets: uniform and Gaussian noise, constant-colour images,
/// and "coloured digits" (MNIST test digits recoloured on random colour backgrounds, 3x32x32 — a
/// simple SVHN-like set). Image i depends only on (seed, i), so a limit keeps a prefix of the full
/// set and results are identical on every platform.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "flowood/data/kind.hpp"

namespace flowood::data {

/// [n, C, H, W] uint8, every value uniform in 0..255.
torch::Tensor uniform_noise_images(int64_t n, const std::vector<int64_t>& shape, uint64_t seed);

/// [n, C, H, W] uint8: round(255 · (0.5 + 0.25·z)) clamped to 0..255, z standard normal per value.
torch::Tensor gaussian_noise_images(int64_t n, const std::vector<int64_t>& shape, uint64_t seed);

/// [n, C, H, W] uint8: each image one colour (each channel uniform in 0..255).
torch::Tensor constant_images(int64_t n, const std::vector<int64_t>& shape, uint64_t seed);

/// Coloured digits from grey digits [n, 1, 28, 28] uint8: image i is a 32x32 background of one random
/// colour with digit i (its grey value as opacity) painted in another random colour whose luma
/// differs from the background's by at least 96, at a random offset in 0..4 on each axis.
/// Returns [n, 3, 32, 32] uint8.
torch::Tensor coloured_digit_images(const torch::Tensor& digits, uint64_t seed);

/// Factory-table entries: "noise[:uniform|gaussian]", "constant", "coloured-digits", each with
/// ?shape=CxHxW (not coloured-digits), n=N, seed=S.
DatasetKind noise_kind();
DatasetKind constant_kind();
DatasetKind coloured_digits_kind();

}  // namespace flowood::data
