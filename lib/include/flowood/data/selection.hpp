#pragma once
/// Example selection every dataset kind accepts after '?': keep some classes (`classes=0,3` or
/// class names) and one part of a seeded random train/test split (`part=test&holdout=0.1`), so one
/// file can give a flow's training set, its test set and class-vs-class OOD sets (paper App. K).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/data/spec.hpp"

namespace flowood::data {

/// The option keys of the selection, in the order help texts list them.
inline const std::vector<std::string> kSelectionOptionKeys = {"classes", "part", "holdout", "part_seed", "skip"};

/// True when `spec` has any selection option.
bool has_selection(const DatasetSpec& spec);

/// Indices (sorted, int64 [M]) of the examples `spec` keeps out of `n`. `labels` [n] int64 (undefined
/// when the source has none); `class_names[k]` names label k when known. classes: label values or
/// class names, comma-separated; part: "train" or "test" of a random split whose test part holds
/// ceil(holdout · n') of the n' examples left after the class filter (holdout default 0.1, permutation
/// from part_seed, default 0); skip: drop the first N examples left after the other options (a held-out
/// remainder: `fashion-mnist:test?skip=2000` is what a run with data.test_limit 2000 never scores). Throws DataError(spec) for classes without labels, an unknown class
/// name (listing the names), a class no example has, a holdout outside (0, 1) or an empty result.
torch::Tensor select_examples(const DatasetSpec& spec, int64_t n, const torch::Tensor& labels,
                              const std::vector<std::string>& class_names = {});

}  // namespace flowood::data
