#include "flowood/data/cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/sha256.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[8] = {'F', 'L', 'W', 'D', 'U', '8', 'C', '1'};

struct Header {
  char magic[8];
  char fingerprint[64];
  std::int64_t n, c, h, w;
  std::int64_t has_labels;
};

std::string safe_name(const std::string& name) {
  std::string out;
  for (char ch : name) out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') ? ch : '_';
  return out;
}

std::string entry_path(const std::string& dir, const std::string& name, const std::string& fingerprint) {
  return (fs::path(dir) / (safe_name(name) + "-" + fingerprint.substr(0, 16) + ".u8")).string();
}

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

}  // namespace

std::string decoded_cache_dir() {
  if (const char* env = std::getenv(kCacheEnvVar)) {
    const std::string v = env;
    if (v == "off" || v == "0" || v == "none" || v == "OFF") return {};
    if (!v.empty()) return v;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return (fs::path(xdg) / "flowood").string();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return (fs::path(home) / ".cache" / "flowood").string();
  }
  return {};
}

std::string source_fingerprint(const std::string& what, const std::vector<std::string>& files) {
  io::Sha256 hash;
  hash.update(what.data(), what.size());
  hash.update("\n", 1);
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) throw DataError(f, std::string("cannot stat: ") + std::strerror(errno));
    const std::string line = fmt::format("{}\t{}\t{}.{:09d}\n", f, static_cast<long long>(st.st_size),
                                         static_cast<long long>(st.st_mtim.tv_sec), static_cast<long>(st.st_mtim.tv_nsec));
    hash.update(line.data(), line.size());
  }
  return hash.hex_digest();
}

std::optional<ImageDataset> read_decoded_cache(const std::string& name, const std::string& fingerprint, int64_t limit) {
  const std::string dir = decoded_cache_dir();
  if (dir.empty()) return std::nullopt;
  const std::string path = entry_path(dir, name, fingerprint);
  File file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return std::nullopt;
  auto reject = [&](const char* why) -> std::optional<ImageDataset> {
    log().warn("decoded-data cache entry {} is damaged ({}); removing it and decoding again", path, why);
    file.reset();
    std::error_code ec;
    fs::remove(path, ec);
    return std::nullopt;
  };
  Header h{};
  if (std::fread(&h, sizeof h, 1, file.get()) != 1) return reject("short header");
  if (std::memcmp(h.magic, kMagic, 8) != 0) return reject("bad magic");
  if (std::string(h.fingerprint, 64) != fingerprint) return reject("fingerprint differs");
  if (h.n < 0 || h.c < 1 || h.h < 1 || h.w < 1 || h.c > 4 || h.h > 65536 || h.w > 65536) return reject("bad shape");
  const int64_t per = h.c * h.h * h.w;
  struct stat st {};
  const std::int64_t expected = static_cast<std::int64_t>(sizeof h) + h.n * per + (h.has_labels ? h.n * 8 : 0);
  if (::fstat(fileno(file.get()), &st) != 0 || st.st_size != expected) return reject("wrong size");
  const int64_t keep = limit > 0 ? std::min(limit, h.n) : h.n;
  ImageDataset ds;
  ds.images = torch::empty({keep, h.c, h.h, h.w}, torch::kUInt8);
  if (keep > 0 && std::fread(ds.images.data_ptr(), static_cast<std::size_t>(per), static_cast<std::size_t>(keep),
                             file.get()) != static_cast<std::size_t>(keep)) {
    return reject("short read");
  }
  if (h.has_labels) {
    if (std::fseek(file.get(), static_cast<long>(sizeof h + h.n * per), SEEK_SET) != 0) return reject("seek failed");
    ds.labels = torch::empty({keep}, torch::kInt64);
    if (keep > 0 &&
        std::fread(ds.labels.data_ptr(), 8, static_cast<std::size_t>(keep), file.get()) != static_cast<std::size_t>(keep)) {
      return reject("short read");
    }
  }
  log().debug("{}: {} images from the decoded-data cache {}", name, keep, path);
  return ds;
}

std::string write_decoded_cache(const std::string& name, const std::string& fingerprint, const ImageDataset& data) {
  const std::string dir = decoded_cache_dir();
  if (dir.empty() || !data.images.defined() || data.images.dim() != 4) return {};
  const std::string path = entry_path(dir, name, fingerprint);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IoError(dir, ec.message());
    File file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
    if (!file) throw IoError(tmp, std::strerror(errno));
    Header h{};
    std::memcpy(h.magic, kMagic, 8);
    std::memcpy(h.fingerprint, fingerprint.data(), std::min<std::size_t>(64, fingerprint.size()));
    h.n = data.images.size(0);
    h.c = data.images.size(1);
    h.h = data.images.size(2);
    h.w = data.images.size(3);
    h.has_labels = data.labels.defined() ? 1 : 0;
    const auto images = data.images.contiguous();
    bool ok = std::fwrite(&h, sizeof h, 1, file.get()) == 1;
    ok = ok && std::fwrite(images.data_ptr(), 1, static_cast<std::size_t>(images.numel()), file.get()) ==
                   static_cast<std::size_t>(images.numel());
    if (h.has_labels) {
      const auto labels = data.labels.to(torch::kInt64).contiguous();
      ok = ok && std::fwrite(labels.data_ptr(), 8, static_cast<std::size_t>(labels.numel()), file.get()) ==
                     static_cast<std::size_t>(labels.numel());
    }
    ok = ok && std::fflush(file.get()) == 0;
    file.reset();
    if (!ok) throw IoError(tmp, std::string("write failed: ") + std::strerror(errno));
    fs::rename(tmp, path);
    // Older entries of this dataset (other fingerprints) are stale now.
    const std::string prefix = safe_name(name) + "-";
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string f = e.path().filename().string();
      if (e.path() != fs::path(path) && f.rfind(prefix, 0) == 0 && f.size() == prefix.size() + 16 + 3 &&
          f.compare(f.size() - 3, 3, ".u8") == 0) {
        fs::remove(e.path(), ec);
      }
    }
    log().debug("{}: cached decoded images in {}", name, path);
    return path;
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    log().warn("could not write the decoded-data cache for {} ({}); set {}=DIR to choose another directory", name,
               e.what(), kCacheEnvVar);
    return {};
  }
}

}  // namespace flowood::data
