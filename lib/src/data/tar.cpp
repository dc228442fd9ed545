#include "flowood/data/tar.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "flowood/core/error.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBlock = 512;

/// Sequential reads through zlib (gzread passes uncompressed files through unchanged).
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    std::FILE* probe = std::fopen(path.c_str(), "rb");
    if (probe == nullptr) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
    std::fclose(probe);
    gz_ = gzopen(path.c_str(), "rb");
    if (gz_ == nullptr) throw DataError(path, "cannot open");
    gzbuffer(gz_, 1 << 18);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() { gzclose(gz_); }

  /// Reads up to `size` bytes; fewer only at the end of the data.
  std::size_t read(void* dst, std::size_t size) {
    std::size_t total = 0;
    auto* out = static_cast<std::uint8_t*>(dst);
    while (total < size) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(size - total, INT_MAX / 2));
      const int n = gzread(gz_, out + total, want);
      if (n < 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        throw DataError(path_, fmt::format("corrupt or truncated gzip data after {} bytes ({})", offset_ + total,
                                           msg ? msg : "zlib error"));
      }
      if (n == 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        if (code != Z_OK && code != Z_STREAM_END) {
          throw DataError(path_, fmt::format("corrupt or truncated gzip data after {} bytes ({})", offset_ + total,
                                             msg ? msg : "zlib error"));
        }
        break;
      }
      total += static_cast<std::size_t>(n);
    }
    offset_ += total;
    return total;
  }

  void skip(std::uint64_t size) {
    std::vector<std::uint8_t> sink(std::min<std::uint64_t>(size, std::uint64_t{1} << 20));
    while (size > 0) {
      const auto step = static_cast<std::size_t>(std::min<std::uint64_t>(size, sink.size()));
      const std::size_t got = read(sink.data(), step);
      if (got < step) throw Truncated{};
      size -= step;
    }
  }

  std::uint64_t offset() const { return offset_; }
  struct Truncated {};

 private:
  std::string path_;
  gzFile gz_ = nullptr;
  std::uint64_t offset_ = 0;
};

std::string field(const char* p, std::size_t n) { return std::string(p, strnlen(p, n)); }

/// Octal number (space/NUL padded), or GNU base-256 when the high bit of the first byte is set.
bool parse_number(const std::uint8_t* p, std::size_t n, std::uint64_t* out) {
  std::uint64_t v = 0;
  if (p[0] & 0x80) {
    for (std::size_t i = 1; i < n; ++i) v = (v << 8) | p[i];
    *out = v;
    return true;
  }
  std::size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == 0)) ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    v = (v << 3) | static_cast<std::uint64_t>(p[i] - '0');
    any = true;
  }
  for (; i < n; ++i) {
    if (p[i] != ' ' && p[i] != 0) return false;
  }
  *out = any ? v : 0;
  return true;
}

bool checksum_ok(const std::uint8_t* h) {
  std::uint64_t stored = 0;
  if (!parse_number(h + 148, 8, &stored)) return false;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum == stored;
}

/// The "path" record of a pax extended header ("LEN path=VALUE\n" records), or empty.
std::string pax_path(const std::string& data) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto space = data.find(' ', pos);
    if (space == std::string::npos) break;
    const std::size_t len = std::strtoul(data.c_str() + pos, nullptr, 10);
    if (len == 0 || pos + len > data.size()) break;
    const std::string record = data.substr(space + 1, pos + len - space - 2);  // without the '\n'
    if (record.rfind("path=", 0) == 0) return record.substr(5);
    pos += len;
  }
  return {};
}

std::uint64_t padded(std::uint64_t size) { return (size + kBlock - 1) / kBlock * kBlock; }

}  // namespace

void read_tar(const std::string& path, const std::function<bool(const std::string&)>& want,
              const std::function<void(TarMember&&)>& take) {
  GzReader in(path);
  std::uint8_t h[kBlock];
  std::string long_name;  // from a GNU 'L' record or a pax 'x' header, for the next entry
  std::string current = "(archive start)";
  try {
    for (;;) {
      const std::uint64_t at = in.offset();
      const std::size_t got = in.read(h, kBlock);
      if (got == 0) return;  // some writers omit the end-of-archive blocks
      if (got < kBlock) throw GzReader::Truncated{};
      if (std::all_of(h, h + kBlock, [](std::uint8_t b) { return b == 0; })) return;
      if (!checksum_ok(h)) {
        throw DataError(path, fmt::format("not a tar archive, or corrupt tar header at byte {} (after {}): checksum "
                                          "mismatch",
                                          at, current));
      }
      std::uint64_t size = 0;
      if (!parse_number(h + 124, 12, &size)) {
        throw DataError(path, fmt::format("corrupt tar header at byte {}: bad size field", at));
      }
      const char type = static_cast<char>(h[156]);
      std::string name = field(reinterpret_cast<const char*>(h), 100);
      if (std::memcmp(h + 257, "ustar", 5) == 0) {
        const std::string prefix = field(reinterpret_cast<const char*>(h + 345), 155);
        if (!prefix.empty()) name = prefix + "/" + name;
      }
      if (type == 'L' || type == 'x') {
        std::string data(static_cast<std::size_t>(size), '\0');
        if (in.read(data.data(), data.size()) < data.size()) throw GzReader::Truncated{};
        in.skip(padded(size) - size);
        long_name = type == 'L' ? std::string(data.c_str()) : pax_path(data);
        continue;
      }
      if (!long_name.empty()) {
        name = long_name;
        long_name.clear();
      }
      current = name;
      const bool regular = type == '0' || type == '\0' || type == '7';
      if (regular && want(name)) {
        TarMember m;
        m.name = name;
        m.size = size;
        m.bytes.resize(static_cast<std::size_t>(size));
        if (in.read(m.bytes.data(), m.bytes.size()) < m.bytes.size()) throw GzReader::Truncated{};
        in.skip(padded(size) - size);
        take(std::move(m));
      } else {
        in.skip(padded(size));
      }
    }
  } catch (const GzReader::Truncated&) {
    throw DataError(path, fmt::format("truncated tar archive: it ends inside {} (after {} bytes)", current, in.offset()));
  }
}

std::vector<TarMember> read_tar_members(const std::string& path, const std::function<bool(const std::string&)>& want) {
  std::vector<TarMember> out;
  read_tar(path, want, [&](TarMember&& m) { out.push_back(std::move(m)); });
  return out;
}

std::vector<std::string> extract_tar(const std::string& path, const std::string& dest) {
  std::vector<std::string> written;
  read_tar(
      path,
      [&](const std::string& name) {
        const fs::path p(name);
        if (p.is_absolute() || std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; })) {
          throw DataError(path, fmt::format("refusing to extract member \"{}\" (absolute or contains ..)", name));
        }
        return true;
      },
      [&](TarMember&& m) {
        const fs::path out = fs::path(dest) / m.name;
        std::error_code ec;
        fs::create_directories(out.parent_path(), ec);
        std::ofstream file(out, std::ios::binary);
        file.write(reinterpret_cast<const char*>(m.bytes.data()), static_cast<std::streamsize>(m.bytes.size()));
        if (!file) throw IoError(out.string(), "cannot write extracted file");
        written.push_back(out.string());
      });
  return written;
}

}  // namespace flowood::data
