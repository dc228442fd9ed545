#pragma once
/// Dataset specs: the strings users write to name a dataset ("fashion-mnist:train", "idx:PATH").
#include <string>

namespace flowood::data {

/// A parsed dataset spec. Two shapes:
///   NAME[:SPLIT]  a named dataset found under the data roots (split defaults per dataset, "test")
///   KIND:PATH     a dataset read from a path (kind "idx": PATH is an idx3 images file)
struct DatasetSpec {
  std::string name;   ///< the dataset kind, the factory key: "fashion-mnist", "mnist", "idx"
  std::string split;  ///< "train" / "test" for named datasets; empty for path kinds
  std::string path;   ///< the file for path kinds; empty for named datasets

  /// Canonical text: "fashion-mnist:test" (split always written) or "idx:PATH".
  std::string to_string() const;
  bool operator==(const DatasetSpec& other) const {
    return name == other.name && split == other.split && path == other.path;
  }
};

/// Parses a spec. Names and splits are case-insensitive; paths are kept verbatim.
/// Throws DataError(spec) for an empty spec, an unknown dataset (the message lists the valid
/// ones), an unknown split (lists the dataset's splits), or a path kind without a path.
DatasetSpec parse_dataset_spec(const std::string& spec);

}  // namespace flowood::data
