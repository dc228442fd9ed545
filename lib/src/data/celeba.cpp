#include "flowood/data/celeba.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/data/image_decode.hpp"
#include "loader_util.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCelebaHowToGet =
    "CelebA is distributed through Google Drive only (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html): "
    "download img_align_celeba.zip and list_eval_partition.txt, unzip into ROOT/celeba/ so that "
    "ROOT/celeba/img_align_celeba/000001.jpg and ROOT/celeba/list_eval_partition.txt exist";

struct CelebaSource {
  fs::path dir;  // holds img_align_celeba/ and list_eval_partition.txt
};

std::optional<CelebaSource> find_source(const DataRoots& roots, std::vector<std::string>* searched) {
  for (const auto& root : roots.dirs) {
    for (const char* sub : {"celeba", "CelebA"}) {
      const fs::path dir = fs::path(root) / sub;
      searched->push_back(dir.string() + "/{img_align_celeba/,list_eval_partition.txt}");
      if (detail::is_dir(dir / "img_align_celeba") && detail::is_file(dir / "list_eval_partition.txt")) {
        return CelebaSource{dir};
      }
    }
  }
  return std::nullopt;
}

ImageDataset load_celeba(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  const int64_t size = spec_int_option(spec, "size", 32, 1, 1024);
  std::vector<std::string> searched;
  const auto source = find_source(roots, &searched);
  if (!source) {
    throw DataError(spec.to_string(), fmt::format("dataset not found: tried {} ({}). To get it: {}",
                                                  fmt::join(searched, ", "), detail::roots_note(), kCelebaHowToGet));
  }
  const std::string partition = (source->dir / "list_eval_partition.txt").string();
  const auto names = read_celeba_partition(partition, spec.split);
  std::vector<std::string> all_files;  // fingerprinted: a limited load may use the full entry
  all_files.reserve(names.size());
  for (const auto& n : names) {
    const fs::path p = source->dir / "img_align_celeba" / n;
    if (!detail::is_file(p)) {
      throw DataError(p.string(), fmt::format("listed in {} but missing (incomplete img_align_celeba/?)", partition));
    }
    all_files.push_back(p.string());
  }
  std::vector<std::string> files = all_files;
  if (limit > 0 && static_cast<int64_t>(files.size()) > limit) files.resize(static_cast<std::size_t>(limit));
  ImageTransform t;
  t.channels = 3;
  t.resize_shorter = size;
  t.crop_h = t.crop_w = size;
  std::vector<std::string> sources = all_files;
  sources.push_back(partition);
  const std::string what = fmt::format("celeba-v1\n{}\n{}", fs::absolute(source->dir).string(), t.key());
  ImageDataset ds = detail::cached_decode(fmt::format("celeba-{}-{}", spec.split, size), what, sources, limit, [&] {
    std::vector<EncodedImage> images;
    images.reserve(files.size());
    for (const auto& f : files) images.push_back({f, f, {}});
    ImageDataset out;
    out.images = decode_images(images, t);
    return out;
  });
  files.push_back(partition);
  ds.files = std::move(files);
  return ds;
}

DatasetLocation locate_celeba(const DatasetSpec&, const DataRoots& roots) {
  DatasetLocation loc;
  if (const auto s = find_source(roots, &loc.searched)) {
    loc.found = true;
    loc.where = s->dir.string();
    loc.layout = "img_align_celeba/ + list_eval_partition.txt";
  }
  return loc;
}

}  // namespace

std::vector<std::string> read_celeba_partition(const std::string& path, const std::string& split) {
  const int wanted = split == "train" ? 0 : split == "valid" ? 1 : split == "test" ? 2 : -1;
  if (wanted < 0) throw DataError(path, "unknown CelebA split \"" + split + "\" (train, valid, test)");
  std::ifstream in(path);
  if (!in) throw DataError(path, "cannot open");
  std::vector<std::string> names;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string name, rest;
    int part = -1;
    if (!(fields >> name >> part) || (fields >> rest) || part < 0 || part > 2) {
      throw DataError(path, fmt::format("line {}: expected \"<image>.jpg <0|1|2>\", got \"{}\"", number, line));
    }
    if (part == wanted) names.push_back(name);
  }
  if (names.empty()) throw DataError(path, fmt::format("lists no images of the {} partition", split));
  return names;
}

DatasetKind celeba_kind() {
  DatasetKind kind;
  kind.name = "celeba";
  kind.summary = "CelebA aligned faces, 3xSxS colour (S = ?size, default 32; shorter side resized, centre crop), "
                 "train 162770 / valid 19867 / test 19962, no labels";
  kind.splits = {"train", "valid", "test"};
  kind.default_split = "test";
  kind.options = {{"size", "N", "output side in pixels (default 32; the paper's models use 32, 64 also common)"}};
  kind.how_to_get = kCelebaHowToGet;
  kind.load = load_celeba;
  kind.locate = locate_celeba;
  return kind;
}

}  // namespace flowood::data
