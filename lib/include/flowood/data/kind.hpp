#pragma once
/// One row of the dataset factory table: what a dataset kind is called, which splits and options it
/// takes, how to load or locate it. Loaders (cifar10.hpp, svhn.hpp, …) define their row here without
/// seeing the table itself (registry.hpp).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"
#include "flowood/data/features.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/data/spec.hpp"

namespace flowood::data {

/// Loads a parsed spec; `limit` > 0 keeps the first `limit` images. Sets images/labels/files.
using DatasetLoader =
    std::function<ImageDataset(const DatasetSpec& spec, const DataRoots& roots, int64_t limit)>;

/// Loads a parsed spec of a feature-array kind; `limit` > 0 keeps the first `limit` rows.
using FeatureLoader =
    std::function<FeatureDataset(const DatasetSpec& spec, const DataRoots& roots, int64_t limit)>;

/// Where a named dataset's split is on disk (or that it is not there, and where we looked).
struct DatasetLocation {
  bool found = false;
  std::string where;                  ///< the file or directory that would be read; empty when not found
  std::string layout;                 ///< which layout was recognised, e.g. "JPEG mirror tarball"
  std::vector<std::string> searched;  ///< every candidate tried, in order
};

/// Finds a named dataset's split under the roots without reading it.
using DatasetLocator = std::function<DatasetLocation(const DatasetSpec& spec, const DataRoots& roots)>;

/// An option a kind accepts after '?'.
struct SpecOptionInfo {
  std::string key;    ///< lowercase
  std::string value;  ///< value syntax for help texts ("N", "CxHxW"); empty for a flag
  std::string help;   ///< one line
};

/// One entry of the factory table.
struct DatasetKind {
  std::string name;                     ///< spec prefix: "fashion-mnist", "idx"
  std::string summary;                  ///< one line for help texts and docs
  bool takes_path = false;              ///< spec is NAME:PATH (else NAME[:SPLIT])
  std::vector<std::string> splits;      ///< valid splits of a named dataset (empty: the kind takes none)
  std::string default_split;            ///< used when the spec has none
  std::vector<SpecOptionInfo> options;  ///< accepted ?options
  bool generated = false;               ///< synthetic: made from a seed, nothing to find on disk
  std::string how_to_get;               ///< named kinds: how to obtain the files (also in not-found errors)
  DatasetLoader load;                   ///< image kinds; empty for feature kinds
  FeatureLoader load_features;          ///< feature kinds; empty for image kinds
  DatasetLocator locate;                ///< named kinds stored on disk; empty otherwise

  bool is_features() const { return static_cast<bool>(load_features); }
};

}  // namespace flowood::data
