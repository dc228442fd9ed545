#pragma once
/// CIFAR-10 (Krizhevsky 2009): 3x32x32 colour images in 10 classes, train 50 000 / test 10 000.
/// Three layouts are read: the official binary batches, class folders of PNG/JPEG files, and
/// tarballs of such folders (the offline JPEG mirror).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"
#include "flowood/data/kind.hpp"

namespace flowood::data {

/// Class names in label order (the official batches.meta.txt order).
inline constexpr std::array<const char*, 10> kCifar10Classes = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/// Label of a CIFAR-10 class name, or -1.
int cifar10_class_index(const std::string& name);

/// Bytes per record of the binary format: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes.
inline constexpr std::size_t kCifar10RecordBytes = 1 + 3 * 32 * 32;

/// Reads binary batch files (data_batch_N.bin, test_batch.bin) in order: images [N, 3, 32, 32]
/// uint8, labels [N] int64. `limit` > 0 stops after that many images. Throws DataError(file) for a
/// size that is not a whole number of 3073-byte records, or a label outside 0..9.
ImageDataset read_cifar10_bin(const std::vector<std::string>& files, int64_t limit = 0);

/// The factory-table entry "cifar10[:train|test]".
DatasetKind cifar10_kind();

}  // namespace flowood::data
