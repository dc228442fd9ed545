#pragma once
/// SVHN (Netzer et al. 2011), cropped digits: 3x32x32 colour house-number digits, train 73 257 /
/// test 26 032, from the official MATLAB files train_32x32.mat / test_32x32.mat (read with libmatio).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "flowood/data/dataset.hpp"
#include "flowood/data/kind.hpp"

namespace flowood::data {

/// Reads an SVHN .mat file: variable X [32, 32, 3, N] uint8 (MATLAB order: row, column, channel,
/// image) and y [N, 1] with labels 1..10, where 10 means the digit 0. Returns images [N, 3, 32, 32]
/// uint8 and labels [N] int64 in 0..9. `limit` > 0 keeps the first images. Throws DataError(path)
/// when the file is not a MAT file, lacks X or y (listing the variables it has), or has other
/// types, shapes or labels.
ImageDataset read_svhn_mat(const std::string& path, int64_t limit = 0);

/// The factory-table entry "svhn[:train|test]".
DatasetKind svhn_kind();

}  // namespace flowood::data
