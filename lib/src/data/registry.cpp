#include "flowood/data/registry.hpp"

#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/idx.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

/// A dataset distributed as the four MNIST-style IDX files, searched under every root.
struct IdxFamily {
  std::string name;
  std::vector<std::string> subdirs;                  ///< tried under each root, in order
  std::map<std::string, std::string> split_prefix;   ///< split -> file prefix ("train", "t10k")
  std::string how_to_get;                            ///< appended to the not-found error
};

/// The first existing file among `base` + ".gz" and `base` in `dir`, or empty.
std::string first_existing(const fs::path& dir, const std::string& base) {
  for (const std::string& name : {base + ".gz", base}) {
    if (is_file(dir / name)) return (dir / name).string();
  }
  return {};
}

ImageDataset load_idx_family(const IdxFamily& family, const DatasetSpec& spec, const DataRoots& roots,
                             int64_t limit) {
  const std::string prefix = family.split_prefix.at(spec.split);
  const std::string images_base = prefix + "-images-idx3-ubyte";
  const std::string labels_base = prefix + "-labels-idx1-ubyte";
  std::vector<std::string> searched;
  for (const auto& root : roots.dirs) {
    for (const auto& sub : family.subdirs) {
      const fs::path dir = fs::path(root) / sub;
      searched.push_back(dir.string());
      const std::string images = first_existing(dir, images_base);
      if (images.empty()) continue;
      const std::string labels = first_existing(dir, labels_base);
      if (labels.empty()) {
        log().warn("{}: found {} but no {}[.gz] next to it; loading without labels", spec.to_string(), images,
                   labels_base);
      }
      return read_idx_dataset(images, labels, limit);
    }
  }
  throw DataError(spec.to_string(),
                  fmt::format("dataset not found: no {}[.gz] in any of: {} (roots come from data.roots, then "
                              "${}, then {}). To get it: {}",
                              images_base, fmt::join(searched, ", "), kDataRootsEnvVar,
                              fmt::join(default_data_roots(), " and "), family.how_to_get));
}

/// idx:PATH. A relative PATH that does not exist in the working directory is also tried under each root.
ImageDataset load_idx_path(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  std::vector<std::string> tried{spec.path};
  std::string images = is_file(spec.path) ? spec.path : std::string();
  if (images.empty() && fs::path(spec.path).is_relative()) {
    for (const auto& root : roots.dirs) {
      const fs::path candidate = fs::path(root) / spec.path;
      tried.push_back(candidate.string());
      if (is_file(candidate)) {
        images = candidate.string();
        break;
      }
    }
  }
  if (images.empty()) {
    throw DataError(spec.path, fmt::format("IDX images file not found (tried {})", fmt::join(tried, ", ")));
  }
  const auto labels = find_idx_labels_for(images);
  if (!labels) log().debug("{}: no sibling labels-idx1 file; loading without labels", images);
  return read_idx_dataset(images, labels.value_or(std::string()), limit);
}

DatasetKind named_idx_kind(IdxFamily family, std::string summary) {
  DatasetKind kind;
  kind.name = family.name;
  kind.summary = std::move(summary);
  kind.splits = {"train", "test"};
  kind.default_split = "test";
  kind.load = [family = std::move(family)](const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
    return load_idx_family(family, spec, roots, limit);
  };
  return kind;
}

std::vector<DatasetKind> build_kinds() {
  std::vector<DatasetKind> kinds;
  kinds.push_back(named_idx_kind(
      {"fashion-mnist",
       {"fashion-mnist", "fashionmnist", "FashionMNIST/raw"},
       {{"train", "train"}, {"test", "t10k"}},
       "apt-get install dataset-fashion-mnist (installs /usr/share/datasets/fashion-mnist), or "
       "scripts/fetch_data.sh fashion-mnist (downloads into ./data/fashion-mnist)"},
      "Fashion-MNIST, 28x28 grayscale clothing, train 60000 / test 10000"));
  kinds.push_back(named_idx_kind(
      {"mnist",
       {"mnist", "MNIST/raw"},
       {{"train", "train"}, {"test", "t10k"}},
       "scripts/fetch_data.sh mnist (downloads into ./data/mnist), or place the IDX files in ROOT/mnist/; "
       "note the MNIST train split is not mirrored offline, only the test split"},
      "MNIST handwritten digits, 28x28 grayscale, train 60000 / test 10000"));

  DatasetKind idx;
  idx.name = "idx";
  idx.summary = "an idx3 images file (gzip or raw); labels from the sibling labels-idx1 file if present";
  idx.takes_path = true;
  idx.load = load_idx_path;
  kinds.push_back(std::move(idx));
  return kinds;
}

}  // namespace

const std::vector<DatasetKind>& dataset_kinds() {
  static const std::vector<DatasetKind> kinds = build_kinds();
  return kinds;
}

const DatasetKind* find_dataset_kind(const std::string& name) {
  for (const auto& kind : dataset_kinds()) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::vector<std::string> known_dataset_names() {
  std::vector<std::string> names;
  for (const auto& kind : dataset_kinds()) names.push_back(kind.name);
  return names;
}

std::string dataset_spec_syntax() {
  std::vector<std::string> forms;
  for (const auto& kind : dataset_kinds()) {
    forms.push_back(kind.takes_path ? kind.name + ":PATH"
                                    : fmt::format("{}[:{}]", kind.name, fmt::join(kind.splits, "|")));
  }
  return fmt::format("{}", fmt::join(forms, ", "));
}

ImageDataset load_dataset(const std::string& spec, const DataRoots& roots, int64_t limit) {
  return load_dataset(parse_dataset_spec(spec), roots, limit);
}

ImageDataset load_dataset(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  const std::string text = spec.to_string();
  if (limit < 0) throw DataError(text, fmt::format("limit must be >= 0 (got {})", limit));
  const DatasetKind* kind = find_dataset_kind(spec.name);
  if (kind == nullptr) {
    throw DataError(text, fmt::format("unknown dataset \"{}\"; valid: {}", spec.name, dataset_spec_syntax()));
  }
  ImageDataset ds = kind->load(spec, roots, limit);
  ds.spec = text;
  log().info("loaded {}: {} images {}x{}x{}{} from {}", text, ds.size(), ds.images.size(1), ds.images.size(2),
             ds.images.size(3), ds.has_labels() ? " with labels" : ", no labels", fmt::join(ds.files, ", "));
  return ds;
}

}  // namespace flowood::data
