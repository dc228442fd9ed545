#pragma once
/// Feature-array datasets: rows of real numbers (tabular data, image embeddings) rather than images.
/// Readers for NumPy .npy/.npz, CSV and ARFF tables.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::data {

/// A loaded feature table.
struct FeatureDataset {
  std::string spec;                        ///< the resolved spec, e.g. "npz:/data/cifar10_features_test.npz#embeddings"
  torch::Tensor features;                  ///< [N, D] float32
  torch::Tensor labels;                    ///< [N] int64, or undefined when the source has none
  std::vector<std::string> files;          ///< source files read (for checksums in run manifests)
  std::vector<std::string> feature_names;  ///< D column names when the source has them (CSV header, ARFF), else empty
  std::vector<std::string> class_names;    ///< label k's name when labels came from text (CSV strings, ARFF nominal), else empty

  int64_t size() const { return features.defined() ? features.size(0) : 0; }
  int64_t dim() const { return features.defined() ? features.size(1) : 0; }
  bool has_labels() const { return labels.defined(); }
};

/// Reads an .npy array [N, D] (float32, float64 or int64) as float32 [N, D]. `limit` > 0 keeps the
/// first rows. Throws DataError(path) for a malformed file or another shape.
torch::Tensor read_npy_features(const std::string& path, int64_t limit = 0);

/// Reads an .npy array [N] of integers (int64, int32, uint8, …, or whole-number floats) as int64 [N].
torch::Tensor read_npy_labels(const std::string& path, int64_t limit = 0);

/// One array of an .npz archive (a zip of .npy files; stored or deflated entries). `array` is the
/// member name without ".npy"; empty picks the only array that is not called "labels"/"y". Labels come
/// from `labels_array` when given, else from a member "labels" or "y" when present.
/// features [N, D] float32. Throws DataError(path) for a malformed archive or a missing array
/// (listing the arrays it has).
FeatureDataset read_npz_features(const std::string& path, const std::string& array = {},
                                 const std::string& labels_array = {}, int64_t limit = 0);

/// Writes an .npz archive (numpy.savez layout: a zip of NAME.npy members, stored) of `arrays`,
/// atomically. dtypes as io::write_npy. Throws IoError(path).
void write_npz(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& arrays);

/// Names of the arrays in an .npz archive (without ".npy"), in archive order.
std::vector<std::string> npz_array_names(const std::string& path);

/// How to read a delimited text table.
struct CsvOptions {
  char delimiter = 0;          ///< 0 = detect from the first line (',', ';', '\t' or runs of spaces)
  int header = -1;             ///< -1 detect, 0 no header, 1 the first line is a header
  std::string label_column;    ///< column name, 0-based index, "first" or "last"; empty = no labels
};

/// Reads a CSV (or TSV / whitespace) table of numbers. Empty lines and lines starting with '#' are
/// skipped; fields may be double-quoted. Every row must have the same number of fields and every
/// feature must be a number: a ragged row, a non-number or an empty field throws DataError(path)
/// naming the line and column. Labels: integer labels stay as they are; text labels become the
/// index of their value in sorted order (names in class_names).
FeatureDataset read_csv_features(const std::string& path, const CsvOptions& options = {}, int64_t limit = 0);

/// Reads a Weka ARFF file (dense @data). Numeric attributes are features; nominal attributes other
/// than the label are their value's index in the declaration. `label_attribute` names the label;
/// empty = the last attribute when it is nominal, "none" = no labels. String/date attributes, sparse
/// rows and missing values ('?') throw DataError(path) naming the line.
FeatureDataset read_arff_features(const std::string& path, const std::string& label_attribute = {},
                                  int64_t limit = 0);

}  // namespace flowood::data
