#pragma once
/// CelebA (Liu et al. 2015), aligned and cropped faces (img_align_celeba, 178x218 JPEG), with the
/// official partition (list_eval_partition.txt: 0 train 162 770, 1 valid 19 867, 2 test 19 962),
/// preprocessed as the reference does (spec §1.1): shorter side resized to `size`, centre crop
/// size x size.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"
#include "flowood/data/kind.hpp"

namespace flowood::data {

/// Image file names of one partition ("train", "valid", "test") listed in list_eval_partition.txt
/// ("000001.jpg 0" per line), in file order. Throws DataError(path) naming a malformed line.
std::vector<std::string> read_celeba_partition(const std::string& path, const std::string& split);

/// The factory-table entry "celeba[:train|valid|test][?size=N]" (size default 32).
DatasetKind celeba_kind();

}  // namespace flowood::data
