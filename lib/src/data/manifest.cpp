#include "flowood/data/manifest.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/io/sha256.hpp"
#include "loader_util.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

bool is_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) && !std::isupper(c); });
}

std::vector<fs::path> candidate_dirs(const ManifestEntry& e, const DataRoots& roots) {
  std::vector<fs::path> dirs;
  for (const auto& root : roots.dirs) {
    dirs.push_back(fs::path(root) / e.dataset);
    const DatasetKind* kind = find_dataset_kind(e.dataset);
    if (kind && kind->locate &&
        std::find(kind->splits.begin(), kind->splits.end(), e.split) != kind->splits.end()) {
      const auto loc = kind->locate(DatasetSpec{e.dataset, e.split, "", {}}, DataRoots{{root}});
      if (loc.found) dirs.push_back(detail::is_dir(loc.where) ? fs::path(loc.where) : fs::path(loc.where).parent_path());
    }
  }
  std::vector<fs::path> unique;
  for (auto& d : dirs) {
    if (std::find(unique.begin(), unique.end(), d) == unique.end()) unique.push_back(std::move(d));
  }
  return unique;
}

}  // namespace

std::vector<ManifestEntry> read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path, std::string("cannot open manifest: ") + std::strerror(errno));
  std::vector<ManifestEntry> out;
  std::string line;
  int64_t number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto f = split_tabs(line);
    if (!header) {
      if (f.size() < 7 || f[0] != "dataset") {
        throw DataError(path, fmt::format("line {}: expected the header dataset, split, file, idx_bytes, idx_sha256, "
                                          "gz_sha256, url (tab-separated)",
                                          number));
      }
      header = true;
      continue;
    }
    if (f.size() != 7) {
      throw DataError(path, fmt::format("line {}: {} tab-separated fields, expected 7", number, f.size()));
    }
    ManifestEntry e;
    e.dataset = f[0];
    e.split = f[1];
    e.file = f[2];
    e.url = f[6] == "-" ? std::string() : f[6];
    e.line = number;
    if (f[3] != "-") {
      if (f[3].empty() || f[3].size() > 18 || f[3].find_first_not_of("0123456789") != std::string::npos) {
        throw DataError(path, fmt::format("line {}: idx_bytes \"{}\" is not a number of bytes", number, f[3]));
      }
      e.idx_bytes = std::stoll(f[3]);
    }
    for (auto [field, value] : {std::pair<std::string*, const std::string*>{&e.idx_sha256, &f[4]}, {&e.gz_sha256, &f[5]}}) {
      if (*value == "-") continue;
      if (!is_sha256(*value)) {
        throw DataError(path, fmt::format("line {}: \"{}\" is not a SHA-256 (64 lowercase hex digits)", number, *value));
      }
      *field = *value;
    }
    out.push_back(std::move(e));
  }
  if (!header) throw DataError(path, "empty manifest (no header line)");
  return out;
}

std::pair<std::string, int64_t> sha256_decompressed(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  io::Sha256 hash;
  std::vector<unsigned char> buf(1 << 20);
  int64_t total = 0;
  for (;;) {
    const int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(gz, &code);
      gzclose(gz);
      throw DataError(path, fmt::format("corrupt or truncated gzip data after {} bytes ({})", total, msg));
    }
    if (n == 0) {
      int code = 0;
      const std::string msg = gzerror(gz, &code);
      if (code != Z_OK && code != Z_STREAM_END) {
        gzclose(gz);
        throw DataError(path, fmt::format("corrupt or truncated gzip data after {} bytes ({})", total, msg));
      }
      break;
    }
    hash.update(buf.data(), static_cast<std::size_t>(n));
    total += n;
  }
  gzclose(gz);
  return {hash.hex_digest(), total};
}

VerifyResult verify_manifest_entry(const ManifestEntry& e, const DataRoots& roots, const std::string& dir) {
  VerifyResult r;
  const std::vector<fs::path> dirs = dir.empty() ? candidate_dirs(e, roots) : std::vector<fs::path>{fs::path(dir)};
  for (const auto& d : dirs) {
    r.searched.push_back((d / e.file).string());
    if (detail::is_file(d / e.file)) {
      r.path = (d / e.file).string();
      break;
    }
  }
  if (r.path.empty()) {
    r.status = VerifyResult::Status::kMissing;
    r.detail = "not found";
    return r;
  }
  if (!e.idx_sha256.empty()) {
    const auto [sha, bytes] = sha256_decompressed(r.path);
    if (sha == e.idx_sha256 && (e.idx_bytes < 0 || bytes == e.idx_bytes)) {
      r.status = VerifyResult::Status::kOk;
      r.detail = fmt::format("content sha256 {}…, {} bytes", sha.substr(0, 12), bytes);
    } else {
      r.status = VerifyResult::Status::kMismatch;
      r.detail = fmt::format("content sha256 {} ({} bytes), expected {} ({} bytes)", sha, bytes, e.idx_sha256,
                             e.idx_bytes);
    }
    return r;
  }
  if (!e.gz_sha256.empty()) {
    const std::string sha = io::sha256_file(r.path);
    r.status = sha == e.gz_sha256 ? VerifyResult::Status::kOk : VerifyResult::Status::kMismatch;
    r.detail = sha == e.gz_sha256 ? fmt::format("file sha256 {}…", sha.substr(0, 12))
                                  : fmt::format("file sha256 {}, expected {}", sha, e.gz_sha256);
    return r;
  }
  r.status = VerifyResult::Status::kUnchecked;
  r.detail = "no checksum in the manifest";
  return r;
}

const char* verify_status_name(VerifyResult::Status status) {
  switch (status) {
    case VerifyResult::Status::kOk: return "ok";
    case VerifyResult::Status::kMismatch: return "MISMATCH";
    case VerifyResult::Status::kMissing: return "missing";
    case VerifyResult::Status::kUnchecked: return "unchecked";
  }
  return "?";
}

}  // namespace flowood::data
