#include "flowood/data/cifar10.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/data/image_decode.hpp"
#include "flowood/data/archive.hpp"
#include "loader_util.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCifar10HowToGet =
    "flowood data fetch cifar10 (downloads https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and extracts "
    "ROOT/cifar-10-batches-bin/), or put the JPEG mirror's train.tar.gz and test.tar.gz in ROOT/cifar10-jpeg/, or "
    "class folders in ROOT/cifar10/{train,test}/<class>/";

enum class Layout { kBinary, kFolder, kTarball };

struct Cifar10Source {
  Layout layout = Layout::kBinary;
  std::string where;               // directory or tarball
  std::vector<std::string> files;  // binary: the batch files in order
};

std::vector<std::string> batch_names(const std::string& split) {
  if (split == "test") return {"test_batch.bin"};
  std::vector<std::string> names;
  for (int i = 1; i <= 5; ++i) names.push_back(fmt::format("data_batch_{}.bin", i));
  return names;
}

/// Candidates under one root, in the order they are tried.
std::vector<std::pair<Layout, fs::path>> candidates(const std::string& root, const std::string& split) {
  const fs::path r(root);
  return {{Layout::kBinary, r / "cifar-10-batches-bin"},
          {Layout::kBinary, r / "cifar10" / "cifar-10-batches-bin"},
          {Layout::kFolder, r / "cifar10" / split},
          {Layout::kFolder, r / "cifar10-jpeg" / split},
          {Layout::kTarball, r / "cifar10-jpeg" / (split + ".tar.gz")},
          {Layout::kTarball, r / "cifar10" / (split + ".tar.gz")}};
}

std::optional<Cifar10Source> find_source(const DatasetSpec& spec, const DataRoots& roots, std::vector<std::string>* searched) {
  for (const auto& root : roots.dirs) {
    for (const auto& [layout, p] : candidates(root, spec.split)) {
      if (layout == Layout::kBinary) {
        const auto names = batch_names(spec.split);
        searched->push_back((p / names.front()).string());
        if (!detail::is_file(p / names.front())) continue;
        Cifar10Source s{layout, p.string(), {}};
        std::vector<std::string> missing;
        for (const auto& n : names) {
          if (detail::is_file(p / n)) {
            s.files.push_back((p / n).string());
          } else {
            missing.push_back(n);
          }
        }
        if (!missing.empty()) {
          throw DataError(p.string(), fmt::format("incomplete CIFAR-10 binary batches for {}: missing {}",
                                                  spec.to_string(), fmt::join(missing, ", ")));
        }
        return s;
      }
      searched->push_back(p.string() + (layout == Layout::kFolder ? "/<class>/" : ""));
      if (layout == Layout::kFolder ? detail::is_dir(p) : detail::is_file(p)) return Cifar10Source{layout, p.string(), {}};
    }
  }
  return std::nullopt;
}

/// "…/<class>/<file>": the class index from the parent folder's name, or -1.
int class_of_member(const std::string& name) {
  const auto slash = name.rfind('/');
  if (slash == std::string::npos || slash == 0) return -1;
  const auto prev = name.rfind('/', slash - 1);
  const std::string folder = name.substr(prev == std::string::npos ? 0 : prev + 1, slash - (prev == std::string::npos ? 0 : prev + 1));
  return cifar10_class_index(folder);
}

ImageDataset from_encoded(std::vector<EncodedImage>& images, std::vector<int64_t>& labels) {
  ImageTransform t;
  t.channels = 3;
  t.expect_h = 32;
  t.expect_w = 32;
  ImageDataset ds;
  ds.images = decode_images(images, t);
  ds.labels = torch::tensor(labels, torch::kInt64);
  return ds;
}

ImageDataset load_folder(const Cifar10Source& s, int64_t limit) {
  std::vector<EncodedImage> images;
  std::vector<int64_t> labels;
  std::vector<std::string> files;
  std::error_code ec;
  std::vector<fs::path> class_dirs;
  for (const auto& e : fs::directory_iterator(s.where, ec)) {
    if (!detail::is_dir(e.path())) continue;
    if (cifar10_class_index(e.path().filename().string()) < 0) {
      throw DataError(e.path().string(), fmt::format("unexpected class folder \"{}\"; CIFAR-10's classes are {}",
                                                     e.path().filename().string(), fmt::join(kCifar10Classes, ", ")));
    }
    class_dirs.push_back(e.path());
  }
  std::sort(class_dirs.begin(), class_dirs.end());
  for (const auto& dir : class_dirs) {
    for (auto& f : detail::list_image_files(dir)) files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw DataError(s.where, "no images in <class>/ sub-folders (expected e.g. cat/0001.png)");
  const std::vector<std::string> all_files = files;  // fingerprinted: a limited load may use the full entry
  const int64_t keep = limit > 0 ? std::min<int64_t>(limit, static_cast<int64_t>(files.size()))
                                 : static_cast<int64_t>(files.size());
  files.resize(static_cast<std::size_t>(keep));
  const std::string what = "cifar10-folder-v1";
  ImageDataset ds = detail::cached_decode(fmt::format("cifar10-folder-{}", fs::path(s.where).filename().string()),
                                          what + "\n" + fs::absolute(s.where).string(), all_files, limit, [&] {
                                            for (const auto& f : files) {
                                              images.push_back({f, f, {}});
                                              labels.push_back(class_of_member(f));
                                            }
                                            return from_encoded(images, labels);
                                          });
  ds.files = files;
  return ds;
}

ImageDataset load_tarball(const Cifar10Source& s, const std::string& split, int64_t limit) {
  const std::string what = fmt::format("cifar10-tarball-v1\n{}", fs::absolute(s.where).string());
  ImageDataset ds = detail::cached_decode("cifar10-" + split, what, {s.where}, limit, [&] {
    std::vector<ArchiveMember> members = read_archive_members(s.where, [](const std::string& name) {
      return is_image_file_name(name) && class_of_member(name) >= 0;
    });
    if (members.empty()) {
      throw DataError(s.where, "no <class>/<image> members with CIFAR-10 class names in this archive");
    }
    std::sort(members.begin(), members.end(), [](const ArchiveMember& a, const ArchiveMember& b) { return a.name < b.name; });
    if (limit > 0 && static_cast<int64_t>(members.size()) > limit) members.resize(static_cast<std::size_t>(limit));
    std::vector<EncodedImage> images;
    std::vector<int64_t> labels;
    images.reserve(members.size());
    for (auto& m : members) {
      labels.push_back(class_of_member(m.name));
      images.push_back({s.where + ":" + m.name, {}, std::move(m.bytes)});
    }
    members.clear();
    return from_encoded(images, labels);
  });
  ds.files = {s.where};
  return ds;
}

ImageDataset load_cifar10(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  std::vector<std::string> searched;
  const auto source = find_source(spec, roots, &searched);
  if (!source) {
    throw DataError(spec.to_string(), fmt::format("dataset not found: tried {} ({}). To get it: {}",
                                                  fmt::join(searched, ", "), detail::roots_note(), kCifar10HowToGet));
  }
  switch (source->layout) {
    case Layout::kBinary: return read_cifar10_bin(source->files, limit);
    case Layout::kFolder: return load_folder(*source, limit);
    case Layout::kTarball: return load_tarball(*source, spec.split, limit);
  }
  return {};
}

DatasetLocation locate_cifar10(const DatasetSpec& spec, const DataRoots& roots) {
  DatasetLocation loc;
  const auto source = find_source(spec, roots, &loc.searched);
  if (source) {
    loc.found = true;
    loc.where = source->where;
    loc.layout = source->layout == Layout::kBinary   ? "binary batches"
                 : source->layout == Layout::kFolder ? "class folders"
                                                     : "tarball of class folders";
  }
  return loc;
}

}  // namespace

int cifar10_class_index(const std::string& name) {
  for (std::size_t i = 0; i < kCifar10Classes.size(); ++i) {
    if (name == kCifar10Classes[i]) return static_cast<int>(i);
  }
  return -1;
}

ImageDataset read_cifar10_bin(const std::vector<std::string>& files, int64_t limit) {
  std::vector<torch::Tensor> records;
  int64_t total = 0;
  ImageDataset ds;
  for (const auto& file : files) {
    if (limit > 0 && total >= limit) break;
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) throw DataError(file, std::string("cannot open: ") + std::strerror(errno));
    const auto size = static_cast<std::int64_t>(in.tellg());
    if (size == 0 || size % static_cast<std::int64_t>(kCifar10RecordBytes) != 0) {
      throw DataError(file, fmt::format("expected a whole number of {}-byte CIFAR-10 records (1 label + 3x32x32 "
                                        "pixels), file has {} bytes{}",
                                        kCifar10RecordBytes, size,
                                        size > 0 ? fmt::format(" ({} records and {} bytes over; truncated?)",
                                                               size / static_cast<std::int64_t>(kCifar10RecordBytes),
                                                               size % static_cast<std::int64_t>(kCifar10RecordBytes))
                                                 : std::string()));
    }
    int64_t n = size / static_cast<std::int64_t>(kCifar10RecordBytes);
    if (limit > 0) n = std::min(n, limit - total);
    auto raw = torch::empty({n, static_cast<int64_t>(kCifar10RecordBytes)}, torch::kUInt8);
    in.seekg(0);
    if (!in.read(reinterpret_cast<char*>(raw.data_ptr<std::uint8_t>()), n * static_cast<std::int64_t>(kCifar10RecordBytes))) {
      throw DataError(file, "read error");
    }
    const auto labels = raw.select(1, 0).to(torch::kInt64);
    const int64_t max_label = n > 0 ? labels.max().item<int64_t>() : 0;
    if (max_label > 9) {
      const int64_t at = (labels > 9).nonzero()[0][0].item<int64_t>();
      throw DataError(file, fmt::format("record {} has label {}, expected 0..9 (not a CIFAR-10 batch? CIFAR-100's "
                                        "format has 2 label bytes)",
                                        at, labels[at].item<int64_t>()));
    }
    records.push_back(raw);
    total += n;
    ds.files.push_back(file);
  }
  const auto all = torch::cat(records, 0);
  ds.images = all.narrow(1, 1, 3 * 32 * 32).reshape({-1, 3, 32, 32}).contiguous();
  ds.labels = all.select(1, 0).to(torch::kInt64).contiguous();
  return ds;
}

DatasetKind cifar10_kind() {
  DatasetKind kind;
  kind.name = "cifar10";
  kind.summary = "CIFAR-10, 3x32x32 colour, 10 classes, train 50000 / test 10000 (binary batches, class folders or "
                 "the JPEG mirror's tarballs)";
  kind.splits = {"train", "test"};
  kind.default_split = "test";
  kind.how_to_get = kCifar10HowToGet;
  kind.load = load_cifar10;
  kind.locate = locate_cifar10;
  return kind;
}

}  // namespace flowood::data
