#include "flowood/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "flowood/core/error.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kIdxChunk = std::size_t{1} << 20;
// Larger images are surely a corrupt header; the bound also keeps n * rows * cols within 64 bits.
constexpr std::uint32_t kMaxSide = 1u << 16;

/// Reads a file's bytes, decompressing gzip when the file starts with 1f 8b.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path) {
    std::FILE* probe = std::fopen(path.c_str(), "rb");
    if (probe == nullptr) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
    unsigned char magic[2] = {0, 0};
    const std::size_t got = std::fread(magic, 1, 2, probe);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      std::fclose(probe);
      gz_ = gzopen(path.c_str(), "rb");
      if (gz_ == nullptr) throw DataError(path, "cannot open as gzip");
      gzbuffer(gz_, 1 << 17);
    } else {
      std::rewind(probe);
      raw_ = probe;
    }
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  ~ByteSource() {
    if (gz_ != nullptr) gzclose(gz_);
    if (raw_ != nullptr) std::fclose(raw_);
  }

  bool gzipped() const { return gz_ != nullptr; }

  /// Reads up to `size` bytes; fewer only at end of file.
  std::size_t read(std::uint8_t* dst, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      const std::size_t want = std::min<std::size_t>(size - total, INT_MAX / 2);
      std::size_t got = 0;
      if (gz_ != nullptr) {
        const int n = gzread(gz_, dst + total, static_cast<unsigned>(want));
        if (n < 0) {
          int code = 0;
          const char* msg = gzerror(gz_, &code);
          throw DataError(path_, fmt::format("corrupt or truncated gzip data after {} decompressed bytes ({})",
                                             consumed_ + total, msg ? msg : "zlib error"));
        }
        got = static_cast<std::size_t>(n);
      } else {
        got = std::fread(dst + total, 1, want, raw_);
        if (got < want && std::ferror(raw_)) {
          throw DataError(path_, std::string("read error: ") + std::strerror(errno));
        }
      }
      if (got == 0) break;
      total += got;
    }
    consumed_ += total;
    return total;
  }

  /// Reads up to `size` bytes into a vector that grows as data arrives, so a header that lies
  /// about the size cannot make us allocate more than the file holds.
  std::vector<std::uint8_t> read_vector(std::size_t size) {
    std::vector<std::uint8_t> out;
    out.reserve(std::min<std::size_t>(size, std::size_t{64} << 20));
    while (out.size() < size) {
      const std::size_t before = out.size();
      const std::size_t step = std::min(size - before, std::max(kIdxChunk, before));
      out.resize(before + step);
      const std::size_t got = read(out.data() + before, step);
      out.resize(before + got);
      if (got < step) break;
    }
    return out;
  }

  /// Consumes the rest of the file and returns how many bytes it held.
  std::uint64_t drain() {
    std::vector<std::uint8_t> sink(kIdxChunk);
    std::uint64_t total = 0;
    std::size_t got = 0;
    while ((got = read(sink.data(), sink.size())) > 0) total += got;
    return total;
  }

 private:
  std::string path_;
  gzFile gz_ = nullptr;
  std::FILE* raw_ = nullptr;
  std::uint64_t consumed_ = 0;
};

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

const char* idx_type_name(std::uint8_t code) {
  switch (code) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
  }
}

/// Explains why `magic` is not `expected` (both uint8 IDX magics).
std::string describe_bad_magic(std::uint32_t magic, std::uint32_t expected, bool gzipped) {
  const auto expected_dims = expected & 0xff;
  const char* what = expected == kIdxImagesMagic ? "images (idx3)" : "labels (idx1)";
  const std::string prefix = fmt::format("wrong magic number 0x{:08x}, expected 0x{:08x} for IDX {}",
                                         magic, expected, what);
  if ((magic >> 16) != 0) {
    return prefix + (gzipped ? "; the decompressed data is not an IDX file"
                             : "; this is not an IDX file");
  }
  const auto type = static_cast<std::uint8_t>((magic >> 8) & 0xff);
  const auto dims = magic & 0xff;
  if (type != 0x08) {
    const char* name = idx_type_name(type);
    return prefix + fmt::format("; element type 0x{:02x} ({}) is not supported, only uint8", type,
                                name ? name : "unknown");
  }
  if (dims == 1 && expected_dims == 3) return prefix + "; this looks like a labels file (1 dimension)";
  if (dims == 3 && expected_dims == 1) return prefix + "; this looks like an images file (3 dimensions)";
  return prefix + fmt::format("; file has {} dimensions, expected {}", dims, expected_dims);
}

struct IdxHeader {
  std::uint32_t count = 0;
  std::uint32_t rows = 1;
  std::uint32_t cols = 1;
  std::size_t header_bytes = 0;
};

IdxHeader read_header(ByteSource& source, const std::string& path, std::uint32_t expected_magic) {
  const std::size_t dims = expected_magic & 0xff;
  const std::size_t header_bytes = 4 + 4 * dims;
  std::uint8_t buf[16] = {};
  const std::size_t got = source.read(buf, header_bytes);
  if (got == 0) throw DataError(path, "file is empty, expected an IDX header");
  if (got < 4) {
    throw DataError(path, fmt::format("truncated IDX header: file has {} bytes, expected at least {}",
                                      got, header_bytes));
  }
  const std::uint32_t magic = big_endian_u32(buf);
  if (magic != expected_magic) throw DataError(path, describe_bad_magic(magic, expected_magic, source.gzipped()));
  if (got < header_bytes) {
    throw DataError(path, fmt::format("truncated IDX header: expected {} bytes, file has {}", header_bytes, got));
  }
  IdxHeader header;
  header.header_bytes = header_bytes;
  header.count = big_endian_u32(buf + 4);
  if (dims == 3) {
    header.rows = big_endian_u32(buf + 8);
    header.cols = big_endian_u32(buf + 12);
    if (header.rows == 0 || header.cols == 0 || header.rows > kMaxSide || header.cols > kMaxSide) {
      throw DataError(path, fmt::format("invalid image size {}x{} in IDX header (each side must be 1..{})",
                                        header.rows, header.cols, kMaxSide));
    }
  }
  if (header.count == 0) throw DataError(path, "IDX header declares 0 items");
  return header;
}

int64_t kept_count(std::uint32_t count, int64_t limit, const std::string& path) {
  if (limit < 0) throw DataError(path, fmt::format("limit must be >= 0 (got {})", limit));
  return limit > 0 ? std::min<int64_t>(limit, count) : static_cast<int64_t>(count);
}

/// Reads the payload of an IDX file after its header: keeps the first `keep_bytes`, then checks
/// that the payload is exactly `total_bytes` long.
std::vector<std::uint8_t> read_payload(ByteSource& source, const std::string& path, const IdxHeader& header,
                                       std::uint64_t keep_bytes, std::uint64_t total_bytes,
                                       const std::string& what) {
  std::vector<std::uint8_t> kept = source.read_vector(static_cast<std::size_t>(keep_bytes));
  const std::uint64_t have = kept.size() + (kept.size() == keep_bytes ? source.drain() : 0);
  if (have != total_bytes) {
    throw DataError(path, fmt::format("expected {} bytes of {} after the {}-byte header, file has {}{}",
                                      total_bytes, what, header.header_bytes, have,
                                      have < total_bytes ? " (file is truncated)" : " (trailing bytes)"));
  }
  return kept;
}

/// Wraps a vector as a tensor without copying; the tensor owns the vector.
torch::Tensor tensor_from_vector(std::vector<std::uint8_t>&& bytes, std::vector<int64_t> sizes) {
  auto* owned = new std::vector<std::uint8_t>(std::move(bytes));
  return torch::from_blob(owned->data(), sizes, [owned](void*) { delete owned; }, torch::kUInt8);
}

struct ReadResult {
  torch::Tensor tensor;
  std::uint32_t declared_count = 0;
};

ReadResult read_images(const std::string& path, int64_t limit) {
  ByteSource source(path);
  const IdxHeader header = read_header(source, path, kIdxImagesMagic);
  const int64_t keep = kept_count(header.count, limit, path);
  const std::uint64_t per_image = std::uint64_t{header.rows} * header.cols;
  const std::string what = fmt::format("pixels ({} images of {}x{})", header.count, header.rows, header.cols);
  auto bytes = read_payload(source, path, header, keep * per_image, header.count * per_image, what);
  return {tensor_from_vector(std::move(bytes), {keep, 1, header.rows, header.cols}), header.count};
}

ReadResult read_labels(const std::string& path, int64_t limit) {
  ByteSource source(path);
  const IdxHeader header = read_header(source, path, kIdxLabelsMagic);
  const int64_t keep = kept_count(header.count, limit, path);
  const std::string what = fmt::format("labels ({} labels)", header.count);
  auto bytes = read_payload(source, path, header, keep, header.count, what);
  return {tensor_from_vector(std::move(bytes), {keep}).to(torch::kInt64), header.count};
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path, int64_t limit) {
  return read_images(path, limit).tensor;
}

torch::Tensor read_idx_labels(const std::string& path, int64_t limit) {
  return read_labels(path, limit).tensor;
}

ImageDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path, int64_t limit) {
  ImageDataset ds;
  ReadResult images = read_images(images_path, limit);
  ds.images = images.tensor;
  ds.files.push_back(images_path);
  if (!labels_path.empty()) {
    ReadResult labels = read_labels(labels_path, limit);
    if (labels.declared_count != images.declared_count) {
      throw DataError(labels_path, fmt::format("has {} labels but {} has {} images", labels.declared_count,
                                               images_path, images.declared_count));
    }
    ds.labels = labels.tensor;
    ds.files.push_back(labels_path);
  }
  return ds;
}

std::optional<std::string> find_idx_labels_for(const std::string& images_path) {
  const fs::path p(images_path);
  std::string name = p.filename().string();
  const auto at = name.find("images-idx3");
  if (at == std::string::npos) return std::nullopt;
  name.replace(at, std::string("images-idx3").size(), "labels-idx1");
  const std::string stem = ends_with(name, ".gz") ? name.substr(0, name.size() - 3) : name;
  // Same compression as the images first, then the other one.
  const std::string other = ends_with(name, ".gz") ? stem : stem + ".gz";
  for (const std::string& candidate : {name, other}) {
    const fs::path labels = p.parent_path() / candidate;
    std::error_code ec;
    if (fs::is_regular_file(labels, ec)) return labels.string();
  }
  return std::nullopt;
}

}  // namespace flowood::data
