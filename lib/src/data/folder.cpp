#include "flowood/data/folder.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/sha256.hpp"
#include "loader_util.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

/// Cache entry name: the folder's name plus a hash of its absolute path (one entry per folder).
std::string cache_name_for(const std::string& abs) {
  return fmt::format("folder-{}-{}", fs::path(abs).filename().string(), io::sha256_hex(abs).substr(0, 8));
}

ImageDataset load_folder_spec(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  const ImageTransform t = folder_transform(spec);
  const std::string dir = detail::resolve_user_path(spec.path, roots, /*want_dir=*/true, "image folder");
  return load_image_folder(dir, t, limit);
}

}  // namespace

ImageTransform folder_transform(const DatasetSpec& spec) {
  ImageTransform t;
  if (spec.has_option("gray") && spec.has_option("rgb")) {
    throw DataError(spec.to_string(), "options gray and rgb contradict each other; give one");
  }
  t.channels = spec.has_option("gray") ? 1 : spec.has_option("rgb") ? 3 : 0;
  t.invert = spec.has_option("invert");
  if (const auto size = spec_size_option(spec, "size")) {
    if (spec.has_option("resize") || spec.has_option("crop")) {
      throw DataError(spec.to_string(), "size=S already means resize=S&crop=S; give size, or resize and/or crop");
    }
    if (size->first != size->second) {
      throw DataError(spec.to_string(), "size takes one number S (shorter side S, centre crop SxS); for another "
                                        "shape write resize=HxW");
    }
    t.resize_shorter = size->first;
    t.crop_h = t.crop_w = size->first;
  }
  if (const auto value = spec.option("resize")) {
    const auto r = spec_size_option(spec, "resize");
    if (value->find_first_of("xX") == std::string::npos) {
      t.resize_shorter = r->first;
    } else {
      t.resize_h = r->first;
      t.resize_w = r->second;
    }
  }
  if (const auto c = spec_size_option(spec, "crop")) {
    t.crop_h = c->first;
    t.crop_w = c->second;
  }
  return t;
}

ImageDataset load_image_folder(const std::string& dir, const ImageTransform& transform, int64_t limit,
                               std::vector<std::string>* class_names) {
  if (!detail::is_dir(dir)) throw DataError(dir, "not a directory");
  std::vector<fs::path> subdirs;
  std::vector<std::string> loose;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] == '.') continue;  // hidden: .git, .DS_Store, …
    if (detail::is_dir(e.path())) {
      subdirs.push_back(e.path());
    } else if (is_image_file_name(name)) {
      loose.push_back(e.path().string());
    }
  }
  if (ec) throw DataError(dir, "cannot list directory: " + ec.message());
  std::sort(subdirs.begin(), subdirs.end());

  std::vector<std::string> files;
  std::vector<int64_t> labels;
  std::vector<std::string> names;
  if (subdirs.empty()) {
    files = detail::list_image_files(dir);
  } else {
    if (!loose.empty()) {
      log().warn("{}: {} image(s) beside the class sub-folders are skipped (e.g. {})", dir, loose.size(), loose.front());
    }
    for (std::size_t k = 0; k < subdirs.size(); ++k) {
      names.push_back(subdirs[k].filename().string());
      for (auto& f : detail::list_image_files(subdirs[k])) {
        files.push_back(std::move(f));
        labels.push_back(static_cast<int64_t>(k));
      }
    }
  }
  if (files.empty()) {
    throw DataError(dir, "no images (looked for .png .jpg .jpeg .bmp .pgm .ppm .tif .tiff, in sub-folders too)");
  }
  // The fingerprint covers every file, so a limited load can use the complete cached entry.
  const std::vector<std::string> all_files = files;
  if (limit > 0 && static_cast<int64_t>(files.size()) > limit) {
    files.resize(static_cast<std::size_t>(limit));
    if (!labels.empty()) labels.resize(static_cast<std::size_t>(limit));
  }
  const std::string abs = fs::absolute(dir).lexically_normal().string();
  const std::string what = fmt::format("folder-v1\n{}\n{}\n{}", abs, transform.key(), fmt::join(names, "/"));
  ImageDataset ds = detail::cached_decode(cache_name_for(abs), what, all_files, limit, [&] {
    std::vector<EncodedImage> images;
    images.reserve(files.size());
    for (const auto& f : files) images.push_back({f, f, {}});
    ImageDataset out;
    out.images = decode_images(images, transform);
    if (!labels.empty()) out.labels = torch::tensor(labels, torch::kInt64);
    return out;
  });
  ds.files = files;
  if (class_names != nullptr) *class_names = names;
  return ds;
}

DatasetKind folder_kind() {
  DatasetKind kind;
  kind.name = "folder";
  kind.summary = "a directory of PNG/JPEG/BMP images; class sub-folders give labels (sorted index)";
  kind.takes_path = true;
  kind.options = {
      {"gray", "", "convert to 1 channel"},
      {"rgb", "", "convert to 3 channels (default: as stored; colour wins when mixed)"},
      {"size", "S", "resize the shorter side to S, then centre-crop SxS (spec §1.1)"},
      {"resize", "S|HxW", "S: shorter side to S (aspect kept); HxW: exactly HxW"},
      {"crop", "S|HxW", "centre crop after resizing"},
      {"invert", "", "value -> 255 - value (e.g. black strokes on white, as Omniglot, -> MNIST-like)"},
  };
  kind.load = load_folder_spec;
  return kind;
}

}  // namespace flowood::data
