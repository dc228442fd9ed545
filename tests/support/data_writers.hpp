#pragma once
/// Writers of the dataset file formats the loaders read (IDX, CIFAR-10 binary, ustar, MAT v5,
/// images), for the tests' generated fixtures only; the library reads these formats but never
/// writes them. Linked into every unit-test executable (library flowood_test_support).
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "flowood/data/archive.hpp"

namespace flowood::data {

/// Writes images [N, 3, 32, 32] uint8 and labels [N] in the binary format. For tests and fixtures.
void write_cifar10_bin(const std::string& path, const torch::Tensor& images, const torch::Tensor& labels);

/// Writes a ustar archive of `members` (names up to 255 characters), gzip-compressed when `path`
/// ends in ".gz". For tests and fixtures. Throws IoError(path).
void write_tar(const std::string& path, const std::vector<ArchiveMember>& members);

/// Encodes [C, H, W] uint8 (C = 1 or 3, RGB) as PNG/JPEG/BMP chosen by the extension of `path` and
/// writes it. For tests and fixtures. Throws IoError(path).
void write_image(const std::string& path, const torch::Tensor& image, int jpeg_quality = 95);

/// Writes a MAT (v5) file with the given variables. Each tensor (uint8 or float64) is stored with
/// MATLAB dimensions equal to its sizes (so a [32, 32, 3, N] tensor becomes X(32, 32, 3, N)),
/// converted to MATLAB's column-major order. For tests and fixtures. Throws IoError(path).
void write_mat_file(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& variables);

/// Writes images [N, 3, H, W] uint8 and labels [N] (0..9) as an SVHN-style .mat (X, y with 10 for 0).
void write_svhn_mat(const std::string& path, const torch::Tensor& images, const torch::Tensor& labels);

/// Writes images [N, 1, H, W] or [N, H, W] uint8 as idx3; gzip-compressed when `path` ends in ".gz".
/// For tests and fixtures. Throws IoError(path) on failure.
void write_idx_images(const std::string& path, const torch::Tensor& images);

/// Writes labels [N] (integers in 0..255) as idx1; gzip-compressed when `path` ends in ".gz".
void write_idx_labels(const std::string& path, const torch::Tensor& labels);

}  // namespace flowood::data
