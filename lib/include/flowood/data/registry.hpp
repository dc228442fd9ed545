#pragma once
/// The dataset factory: one table maps a dataset name to its loader, so new kinds (cifar10, svhn,
/// folder:, npy:) are one entry each. Parsing a spec, resolving it under the roots and loading go
/// through here.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/data/spec.hpp"

namespace flowood::data {

/// Loads a parsed spec; `limit` > 0 keeps the first `limit` images. Sets images/labels/files.
using DatasetLoader =
    std::function<ImageDataset(const DatasetSpec& spec, const DataRoots& roots, int64_t limit)>;

/// One entry of the factory table.
struct DatasetKind {
  std::string name;                 ///< spec prefix: "fashion-mnist", "idx"
  std::string summary;              ///< one line for help texts and docs
  bool takes_path = false;          ///< spec is NAME:PATH (else NAME[:SPLIT])
  std::vector<std::string> splits;  ///< valid splits of a named dataset
  std::string default_split;        ///< used when the spec has none
  DatasetLoader load;
};

/// Every dataset kind, in the order shown to users.
const std::vector<DatasetKind>& dataset_kinds();

/// The kind called `name` (exact, lowercase), or nullptr.
const DatasetKind* find_dataset_kind(const std::string& name);

/// Names of all kinds: {"fashion-mnist", "mnist", "idx"}.
std::vector<std::string> known_dataset_names();

/// Human-readable syntax of every kind, e.g. "fashion-mnist[:train|test], mnist[:train|test], idx:PATH".
std::string dataset_spec_syntax();

/// Parses `spec`, finds the data under `roots` and loads it: images [N, 1, H, W] uint8, labels [N]
/// int64 (undefined when the source has none), `spec` set to the canonical spec, `files` the paths
/// read. `limit` > 0 keeps the first `limit` images (0 = all). Throws DataError naming the spec or
/// file: unknown dataset, dataset not found (lists every directory searched and how to get it),
/// malformed file.
ImageDataset load_dataset(const std::string& spec, const DataRoots& roots, int64_t limit = 0);
ImageDataset load_dataset(const DatasetSpec& spec, const DataRoots& roots, int64_t limit = 0);

}  // namespace flowood::data
