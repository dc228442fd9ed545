#include "flowood/data/registry.hpp"

#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/celeba.hpp"
#include "flowood/data/cifar10.hpp"
#include "flowood/data/folder.hpp"
#include "flowood/data/idx.hpp"
#include "flowood/data/selection.hpp"
#include "flowood/data/svhn.hpp"
#include "flowood/data/synthetic.hpp"
#include "loader_util.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;
using detail::is_file;

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

/// The directory holding the split's images file, the file, and every directory searched.
struct IdxFound {
  std::string images;
  std::vector<std::string> searched;
};

IdxFound find_idx(const IdxFamily& family, const DatasetSpec& spec, const DataRoots& roots) {
  const std::string images_base = family.split_prefix.at(spec.split) + "-images-idx3-ubyte";
  IdxFound found;
  for (const auto& root : roots.dirs) {
    for (const auto& sub : family.subdirs) {
      const fs::path dir = fs::path(root) / sub;
      found.searched.push_back(dir.string());
      found.images = first_existing(dir, images_base);
      if (!found.images.empty()) return found;
    }
  }
  return found;
}

ImageDataset load_idx_family(const IdxFamily& family, const DatasetSpec& spec, const DataRoots& roots,
                             int64_t limit) {
  const std::string prefix = family.split_prefix.at(spec.split);
  const std::string images_base = prefix + "-images-idx3-ubyte";
  const std::string labels_base = prefix + "-labels-idx1-ubyte";
  const IdxFound found = find_idx(family, spec, roots);
  if (found.images.empty()) {
    throw DataError(spec.to_string(),
                    fmt::format("dataset not found: no {}[.gz] in any of: {} (roots come from data.roots, then "
                                "${}, then {}). To get it: {}",
                                images_base, fmt::join(found.searched, ", "), kDataRootsEnvVar,
                                fmt::join(default_data_roots(), " and "), family.how_to_get));
  }
  const std::string labels = first_existing(fs::path(found.images).parent_path(), labels_base);
  if (labels.empty()) {
    log().warn("{}: found {} but no {}[.gz] next to it; loading without labels", spec.to_string(), found.images,
               labels_base);
  }
  return read_idx_dataset(found.images, labels, limit);
}

/// idx:PATH. A relative PATH that does not exist in the working directory is also tried under each root.
ImageDataset load_idx_path(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  const std::string images = detail::resolve_user_path(spec.path, roots, /*want_dir=*/false, "IDX images file");
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
  kind.how_to_get = family.how_to_get;
  kind.load = [family](const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
    return load_idx_family(family, spec, roots, limit);
  };
  kind.locate = [family](const DatasetSpec& spec, const DataRoots& roots) {
    const IdxFound found = find_idx(family, spec, roots);
    DatasetLocation loc;
    loc.found = !found.images.empty();
    loc.where = found.images;
    loc.layout = "IDX";
    loc.searched = found.searched;
    return loc;
  };
  return kind;
}

// Feature-array kinds ---------------------------------------------------------------------------

std::string feature_file(const DatasetSpec& spec, const DataRoots& roots, const char* what) {
  return detail::resolve_user_path(spec.path, roots, /*want_dir=*/false, what);
}

FeatureDataset load_npy(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  FeatureDataset ds;
  const std::string file = feature_file(spec, roots, ".npy file");
  const auto all = read_npy_features(file);  // the whole array: the label count is checked against it
  ds.features = limit > 0 && limit < all.size(0) ? all.narrow(0, 0, limit).contiguous() : all;
  ds.files = {file};
  if (const auto labels = spec.option("labels")) {
    const std::string lfile = detail::resolve_user_path(*labels, roots, /*want_dir=*/false, ".npy labels file");
    const auto all_labels = read_npy_labels(lfile);
    if (all_labels.size(0) != all.size(0)) {
      throw DataError(lfile, fmt::format("has {} labels but {} has {} rows", all_labels.size(0), file, all.size(0)));
    }
    ds.labels = all_labels.narrow(0, 0, ds.size()).contiguous();
    ds.files.push_back(lfile);
  }
  return ds;
}

FeatureDataset load_npz(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  return read_npz_features(feature_file(spec, roots, ".npz archive"), spec.option("array").value_or(""),
                           spec.option("labels").value_or(""), limit);
}

FeatureDataset load_csv(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  CsvOptions o;
  o.label_column = spec.option("label").value_or("");
  if (const auto d = spec.option("delimiter")) {
    static const std::map<std::string, char> kNamed = {{"comma", ','}, {"semicolon", ';'}, {"tab", '\t'},
                                                       {"space", ' '}, {"whitespace", ' '}};
    if (const auto it = kNamed.find(*d); it != kNamed.end()) {
      o.delimiter = it->second;
    } else if (d->size() == 1) {
      o.delimiter = (*d)[0];
    } else {
      throw DataError(spec.to_string(), fmt::format("option delimiter={}: expected one character or comma, semicolon, "
                                                    "tab, space",
                                                    *d));
    }
  }
  if (const auto h = spec.option("header")) {
    if (*h != "yes" && *h != "no") {
      throw DataError(spec.to_string(), fmt::format("option header={}: expected yes or no", *h));
    }
    o.header = *h == "yes" ? 1 : 0;
  }
  return read_csv_features(feature_file(spec, roots, "CSV file"), o, limit);
}

FeatureDataset load_arff(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  return read_arff_features(feature_file(spec, roots, "ARFF file"), spec.option("label").value_or(""), limit);
}

DatasetKind feature_kind(std::string name, std::string summary, std::vector<SpecOptionInfo> options,
                         FeatureLoader loader) {
  DatasetKind kind;
  kind.name = std::move(name);
  kind.summary = std::move(summary);
  kind.takes_path = true;
  kind.options = std::move(options);
  kind.load_features = std::move(loader);
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
  kinds.push_back(cifar10_kind());
  kinds.push_back(svhn_kind());
  kinds.push_back(celeba_kind());
  kinds.push_back(noise_kind());
  kinds.push_back(constant_kind());
  DatasetKind digits = coloured_digits_kind();
  digits.locate = [](const DatasetSpec&, const DataRoots& roots) {
    return locate_dataset(DatasetSpec{"mnist", "test", "", {}}, roots);
  };
  kinds.push_back(std::move(digits));

  DatasetKind idx;
  idx.name = "idx";
  idx.summary = "an idx3 images file (gzip or raw); labels from the sibling labels-idx1 file if present";
  idx.takes_path = true;
  idx.load = load_idx_path;
  kinds.push_back(std::move(idx));
  kinds.push_back(folder_kind());

  kinds.push_back(feature_kind("npy", "a NumPy .npy array [N, D] (float32, float64 or int64) of features",
                               {{"labels", "PATH", "an .npy file of N integer labels"}}, load_npy));
  kinds.push_back(feature_kind(
      "npz", "one array [N, D] of a NumPy .npz archive (stored or deflated); labels from its 'labels' or 'y' array",
      {{"array", "NAME", "the features array (also written npz:PATH#NAME); default: the only array besides labels/y"},
       {"labels", "NAME", "the labels array (default: 'labels' or 'y' when present)"}},
      load_npz));
  kinds.push_back(feature_kind(
      "csv", "a CSV/TSV table of numbers, header detected; optionally one label column",
      {{"label", "COL", "label column: header name, 0-based index, first or last (default: no labels)"},
       {"delimiter", "C", "comma, semicolon, tab, space or one character (default: detected)"},
       {"header", "yes|no", "whether the first row names the columns (default: detected)"}},
      load_csv));
  kinds.push_back(feature_kind(
      "arff", "a Weka ARFF table (dense); the last attribute is the label when nominal",
      {{"label", "NAME|none", "label attribute (default: the last one when it is nominal)"}}, load_arff));
  const std::vector<SpecOptionInfo> selection = {
      {"classes", "LIST", "keep the examples whose label is in LIST (label values or class names, comma-separated)"},
      {"part", "train|test", "keep one part of a seeded random split of the (class-filtered) examples"},
      {"holdout", "F", "fraction of the examples in the test part (default 0.1)"},
      {"part_seed", "N", "seed of the split (default 0)"},
      {"skip", "N", "drop the first N examples left after the other options"}};
  for (auto& kind : kinds) kind.options.insert(kind.options.end(), selection.begin(), selection.end());
  return kinds;
}

std::string kind_syntax(const DatasetKind& kind) {
  std::string s = kind.takes_path ? kind.name + ":PATH"
                  : kind.splits.empty() ? kind.name
                                        : fmt::format("{}[:{}]", kind.name, fmt::join(kind.splits, "|"));
  if (kind.name == "npz") s += "[#ARRAY]";
  if (!kind.options.empty()) s += "[?OPTIONS]";
  return s;
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
  for (const auto& kind : dataset_kinds()) forms.push_back(kind_syntax(kind));
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
  if (!kind->load) {
    throw DataError(text, fmt::format("{}: is a feature-array dataset ([N, D] numbers), not images; image models "
                                      "need an image dataset ({})",
                                      kind->name, dataset_spec_syntax()));
  }
  const bool select = has_selection(spec);
  ImageDataset ds = kind->load(spec, roots, select ? 0 : limit);
  if (select) {
    const auto keep = select_examples(spec, ds.size(), ds.labels);
    ds.images = ds.images.index_select(0, keep);
    if (ds.has_labels()) ds.labels = ds.labels.index_select(0, keep);
  }
  detail::apply_limit(ds, limit);
  ds.spec = text;
  std::string from;
  if (ds.files.size() > 3) {
    from = fmt::format(" from {} files ({}, …)", ds.files.size(), ds.files.front());
  } else if (!ds.files.empty()) {
    from = fmt::format(" from {}", fmt::join(ds.files, ", "));
  } else {
    from = " (generated)";
  }
  log().info("loaded {}: {} images {}x{}x{}{}{}", text, ds.size(), ds.images.size(1), ds.images.size(2),
             ds.images.size(3), ds.has_labels() ? " with labels" : ", no labels", from);
  return ds;
}

FeatureDataset load_features(const std::string& spec, const DataRoots& roots, int64_t limit) {
  return load_features(parse_dataset_spec(spec), roots, limit);
}

FeatureDataset load_features(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  const std::string text = spec.to_string();
  if (limit < 0) throw DataError(text, fmt::format("limit must be >= 0 (got {})", limit));
  const DatasetKind* kind = find_dataset_kind(spec.name);
  if (kind == nullptr) {
    throw DataError(text, fmt::format("unknown dataset \"{}\"; valid: {}", spec.name, dataset_spec_syntax()));
  }
  FeatureDataset ds;
  if (kind->is_features()) {
    const bool select = has_selection(spec);
    ds = kind->load_features(spec, roots, select ? 0 : limit);
    if (select) {
      const auto keep = select_examples(spec, ds.size(), ds.labels, ds.class_names);
      ds.features = ds.features.index_select(0, keep);
      if (ds.has_labels()) ds.labels = ds.labels.index_select(0, keep);
      if (limit > 0 && limit < ds.size()) {
        ds.features = ds.features.narrow(0, 0, limit).contiguous();
        if (ds.has_labels()) ds.labels = ds.labels.narrow(0, 0, limit).contiguous();
      }
    }
  } else {  // selection and limit already applied by load_dataset
    ImageDataset images = load_dataset(spec, roots, limit);
    ds.features = images.images.reshape({images.size(), -1}).to(torch::kFloat32).div_(255.0);
    ds.labels = images.labels;
    ds.files = std::move(images.files);
  }
  ds.spec = text;
  log().info("loaded {}: {} rows x {} features{}", text, ds.size(), ds.dim(), ds.has_labels() ? " with labels" : "");
  return ds;
}

ImageDataset load_examples(const std::string& spec, const DataRoots& roots, int64_t limit, ExampleForm form) {
  if (form == ExampleForm::kImages) return load_dataset(spec, roots, limit);
  FeatureDataset f = load_features(spec, roots, limit);
  ImageDataset ds;
  ds.spec = std::move(f.spec);
  ds.images = std::move(f.features);
  ds.labels = std::move(f.labels);
  ds.files = std::move(f.files);
  return ds;
}

void check_dataset_available(const std::string& text, const DataRoots& roots) {
  const DatasetSpec spec = parse_dataset_spec(text);
  const DatasetKind* kind = find_dataset_kind(spec.name);
  if (kind == nullptr || kind->generated) return;
  if (kind->takes_path) {
    // Resolved as the loaders resolve it (a file or a folder, whichever the kind reads).
    std::vector<std::string> tried;
    const auto any = [](const fs::path& p) { return detail::is_file(p) || detail::is_dir(p); };
    if (detail::find_user_path(spec.path, roots, any, tried)) return;
    throw DataError(spec.to_string(), fmt::format("no such file or directory (tried {})", fmt::join(tried, ", ")));
  }
  if (!kind->locate) return;
  const auto loc = kind->locate(spec, roots);
  if (!loc.found)
    throw DataError(spec.to_string(), fmt::format("dataset not found in any of: {} (roots come from data.roots, then "
                                                  "${}, then {}). To get it: {}",
                                                  fmt::join(loc.searched, ", "), kDataRootsEnvVar,
                                                  fmt::join(default_data_roots(), " and "), kind->how_to_get));
}

DatasetLocation locate_dataset(const DatasetSpec& spec, const DataRoots& roots) {
  const DatasetKind* kind = find_dataset_kind(spec.name);
  if (kind == nullptr || !kind->locate) {
    throw DataError(spec.to_string(), "not a named dataset stored under the data roots; nothing to locate");
  }
  return kind->locate(spec, roots);
}

}  // namespace flowood::data
