// The feature readers of NumPy arrays: npy: (one .npy file) and npz: (arrays in a zip archive,
// read through libarchive; each member parsed by io::parse_npy).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "features_util.hpp"
#include "flowood/core/error.hpp"
#include "flowood/data/archive.hpp"
#include "flowood/io/npy.hpp"

namespace flowood::data {
namespace {

using namespace features_detail;

std::string array_name(const std::string& member) {
  return member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0 ? member.substr(0, member.size() - 4)
                                                                                : member;
}

/// An IoError of the npy parser as the DataError the dataset loaders throw (same file, same words).
DataError as_data_error(const IoError& e, const std::string& source) {
  return DataError(source, e.what() + (e.path().empty() ? 0 : e.path().size() + 2));
}

torch::Tensor npy_member(const ArchiveMember& member, const std::string& source) {
  try {
    return io::parse_npy(std::string(member.bytes.begin(), member.bytes.end()), source).tensor;
  } catch (const IoError& e) {
    throw as_data_error(e, source);
  }
}

}  // namespace

torch::Tensor read_npy_features(const std::string& path, int64_t limit) {
  io::NpyArray array;
  try {
    array = io::read_npy(path);
  } catch (const IoError& e) {
    throw as_data_error(e, path);
  }
  return features_2d(array.tensor, path, limit);
}

torch::Tensor read_npy_labels(const std::string& path, int64_t limit) {
  io::NpyArray array;
  try {
    array = io::read_npy(path);
  } catch (const IoError& e) {
    throw as_data_error(e, path);
  }
  const auto t = array.tensor;
  return labels_1d(t, path, t.dim() >= 1 ? t.size(0) : -1, limit);
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& arrays) {
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [name, tensor] : arrays) members.emplace_back(name + ".npy", io::npy_bytes(tensor));
  write_zip(path, members);
}

std::vector<std::string> npz_array_names(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& member : archive_member_names(path, ArchiveFormat::kZip)) names.push_back(array_name(member));
  return names;
}

FeatureDataset read_npz_features(const std::string& path, const std::string& array, const std::string& labels_array,
                                 int64_t limit) {
  const auto members = archive_member_names(path, ArchiveFormat::kZip);
  std::vector<std::string> names;
  for (const auto& m : members) names.push_back(array_name(m));
  auto member_of = [&](const std::string& name) -> std::string {
    for (std::size_t i = 0; i < members.size(); ++i)
      if (names[i] == name) return members[i];
    return {};
  };
  const std::string have = names.empty() ? "no arrays" : fmt::format("arrays {}", fmt::join(names, ", "));
  std::string feature_name = array;
  if (feature_name.empty()) {
    std::vector<std::string> candidates;
    for (const auto& n : names) {
      if (n != "labels" && n != "y") candidates.push_back(n);
    }
    if (candidates.size() != 1) {
      throw DataError(path, fmt::format("{}; say which holds the features: npz:{}#NAME", have, path));
    }
    feature_name = candidates.front();
  }
  const std::string features_member = member_of(feature_name);
  if (features_member.empty()) throw DataError(path, fmt::format("no array \"{}\"; the archive has {}", feature_name, have));
  std::string label_name = labels_array;
  if (label_name.empty()) label_name = !member_of("labels").empty() ? "labels" : !member_of("y").empty() ? "y" : "";
  const std::string labels_member = label_name.empty() ? std::string() : member_of(label_name);
  if (!label_name.empty() && labels_member.empty())
    throw DataError(path, fmt::format("no labels array \"{}\"; the archive has {}", label_name, have));

  torch::Tensor full, labels;
  read_archive(
      path, [&](const std::string& name) { return name == features_member || name == labels_member; },
      [&](ArchiveMember&& m) {
        const std::string source = path + ":" + m.name;
        (m.name == features_member ? full : labels) = npy_member(m, source);
      },
      ArchiveFormat::kZip);
  FeatureDataset ds;
  ds.features = features_2d(full, path + ":" + features_member, limit);
  if (!labels_member.empty()) ds.labels = labels_1d(labels, path + ":" + labels_member, full.size(0), limit);
  ds.files = {path};
  return ds;
}

}  // namespace flowood::data
