#pragma once
/// The dataset factory: one table maps a dataset name to its loader, so every kind (mnist, cifar10,
/// svhn, celeba, folder:, noise:, npy:, …) is one entry. Parsing a spec, resolving it under the
/// roots and loading go through here.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"
#include "flowood/data/features.hpp"
#include "flowood/data/kind.hpp"
#include "flowood/data/roots.hpp"
#include "flowood/data/spec.hpp"

namespace flowood::data {

/// Every dataset kind, in the order shown to users.
const std::vector<DatasetKind>& dataset_kinds();

/// The kind called `name` (exact, lowercase), or nullptr.
const DatasetKind* find_dataset_kind(const std::string& name);

/// Names of all kinds, in table order.
std::vector<std::string> known_dataset_names();

/// Human-readable syntax of every kind, e.g. "fashion-mnist[:train|test], …, idx:PATH, folder:PATH[?OPTIONS]".
std::string dataset_spec_syntax();

/// Parses `spec`, finds the data under `roots` and loads it: images [N, C, H, W] uint8, labels [N]
/// int64 (undefined when the source has none), `spec` set to the canonical spec, `files` the source
/// files read. The selection options (classes, part, holdout, part_seed; selection.hpp) apply first,
/// then `limit` > 0 keeps the first `limit` images (0 = all). Throws DataError naming the spec
/// or file: unknown dataset, dataset not found (lists every directory searched and how to get it),
/// malformed file, a feature-array spec (npy:, csv:, …: use load_features).
ImageDataset load_dataset(const std::string& spec, const DataRoots& roots, int64_t limit = 0);
ImageDataset load_dataset(const DatasetSpec& spec, const DataRoots& roots, int64_t limit = 0);

/// Parses and loads a spec as feature vectors: features [N, D] float32, labels [N] int64 or
/// undefined. Feature-array kinds (npy:, npz:, csv:, arff:) give their table; an image spec gives
/// its pixels flattened in C, H, W order as value/255 (D = C·H·W). `limit` as above.
FeatureDataset load_features(const std::string& spec, const DataRoots& roots, int64_t limit = 0);
FeatureDataset load_features(const DatasetSpec& spec, const DataRoots& roots, int64_t limit = 0);

/// What a model consumes: images [N, C, H, W] uint8 (image flows) or feature rows [N, D] float32
/// (tabular flows).
enum class ExampleForm { kImages, kFeatures };

/// load_dataset for kImages; for kFeatures load_features, returned as an ImageDataset whose
/// `images` are the feature rows [N, D] float32 (so training and scoring take either).
ImageDataset load_examples(const std::string& spec, const DataRoots& roots, int64_t limit, ExampleForm form);

/// Where a named, on-disk dataset's split is; throws DataError when the kind is generated or
/// reads a path (nothing to locate).
DatasetLocation locate_dataset(const DatasetSpec& spec, const DataRoots& roots);

/// Checks, without reading any data, that `spec` can be loaded later: it parses (unknown kinds and
/// options are errors listing the valid ones), a path kind's file or directory exists, and a named
/// dataset is found under the roots. Throws DataError naming the spec, with where it looked and
/// how to get the data. Generated kinds always pass.
void check_dataset_available(const std::string& spec, const DataRoots& roots);

}  // namespace flowood::data
