#pragma once
/// The IDX file format (LeCun's MNIST format, also Fashion-MNIST): big-endian header, uint8 data.
/// Files may be gzip-compressed; compression is detected from the magic bytes 1f 8b, not the name.
#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"

namespace flowood::data {

/// Magic numbers: 0x00 0x00, element type 0x08 (uint8), number of dimensions.
inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;

/// Reads an idx3 images file (magic 0x00000803, n, rows, cols, then n*rows*cols uint8).
/// Returns [N, 1, rows, cols] uint8, N = min(limit, n) when limit > 0, else n.
/// The whole file is validated even with a limit: a wrong magic, bad dimensions, a truncated file or
/// trailing bytes throw DataError(path) saying what was wrong.
torch::Tensor read_idx_images(const std::string& path, int64_t limit = 0);

/// Reads an idx1 labels file (magic 0x00000801, n, then n uint8). Returns [N] int64, N as above.
torch::Tensor read_idx_labels(const std::string& path, int64_t limit = 0);

/// Images plus, when `labels_path` is non-empty, labels whose count must equal the image count
/// (compared on the headers, before `limit` is applied). images [N, 1, H, W] uint8, labels [N] int64.
/// `spec` is left empty; `files` lists the files read.
ImageDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path = {},
                              int64_t limit = 0);

/// The labels file that conventionally sits next to an images file: the file name with
/// "images-idx3" replaced by "labels-idx1" (with or without ".gz"), if such a file exists.
std::optional<std::string> find_idx_labels_for(const std::string& images_path);

}  // namespace flowood::data
