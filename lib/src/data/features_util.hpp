#pragma once
// Shared by the feature-table readers (features.cpp and features_{npy,csv,arff}.cpp): limits,
// number parsing, label conversion and the checks of a table's shape. Internal to lib/src/data.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/data/features.hpp"

namespace flowood::data::features_detail {

/// "[2, 3]".
std::string shape_text(const std::vector<int64_t>& shape);
/// A whole-string, finite number.
bool parse_number(const std::string& text, double* out);
/// An integral value exactly representable as a double.
bool is_integer_value(double v);
/// The rows kept of `n` under `limit` (0 = all).
int64_t kept_rows(int64_t n, int64_t limit);
/// Labels from text values: integers stay; anything else becomes its index in sorted order
/// (the sorted values go to `class_names`).
torch::Tensor labels_from_text(const std::vector<std::string>& values, std::vector<std::string>* class_names);
/// A 2-D [N, D] float32 table of the first `limit` rows; DataError(name) for another shape or a
/// non-finite value (naming its row and column).
torch::Tensor features_2d(torch::Tensor t, const std::string& name, int64_t limit);
/// Labels [expected_rows] (or [N, 1]) of whole numbers as int64, first `limit`; DataError(name) otherwise.
torch::Tensor labels_1d(torch::Tensor t, const std::string& name, int64_t expected_rows, int64_t limit);

/// The fields of one delimited line: `delim` ' ' splits on runs of blanks; otherwise quoted
/// fields ("a, b", "" for a quote) keep their text, others are trimmed.
std::vector<std::string> split_fields(const std::string& line, char delim);

/// One data line of a text table, with its line number for messages.
struct TextRow {
  int64_t line = 0;
  std::vector<std::string> fields;
};

/// Converts rows of fields to features (every column but `label`, -1 for none) and labels.
FeatureDataset table_to_features(const std::string& path, const std::vector<TextRow>& rows,
                                 const std::vector<std::string>& names, int label, int64_t limit);

}  // namespace flowood::data::features_detail
