#pragma once
// Fixture writers for the data-loader tests: files in the formats the loaders read, written here
// independently of the loaders (NPY headers, ZIP archives, raw bytes), plus small helpers.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"

namespace flowood::testing {

inline void write_text(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Keeps the first `keep` bytes of a file.
inline void truncate_file(const std::filesystem::path& path, std::size_t keep) {
  const std::string bytes = read_text(path);
  write_text(path, bytes.substr(0, keep));
}

/// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

/// Deterministic random uint8 images [n, c, h, w].
inline torch::Tensor random_images(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed = 1) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randint(0, 256, {n, c, h, w}, gen, torch::kInt64).to(torch::kUInt8);
}

/// An .npy file's bytes: v1.0 header with `descr` and `shape`, then `data` (C order, little-endian).
inline std::string npy_bytes(const std::string& descr, const std::vector<int64_t>& shape, const std::string& data) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) tuple += (i ? ", " : "") + std::to_string(shape[i]);
  tuple += shape.size() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict + data;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

/// A minimal ZIP writer (what numpy.savez / savez_compressed produce): stored or deflated members.
class ZipWriter {
 public:
  void add(const std::string& name, const std::string& data, bool compress) {
    std::string body = data;
    if (compress) {
      z_stream zs{};
      EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
      body.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      zs.avail_in = static_cast<uInt>(data.size());
      zs.next_out = reinterpret_cast<Bytef*>(body.data());
      zs.avail_out = static_cast<uInt>(body.size());
      EXPECT_EQ(::deflate(&zs, Z_FINISH), Z_STREAM_END);
      body.resize(zs.total_out);
      deflateEnd(&zs);
    }
    const auto crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const auto offset = static_cast<uint32_t>(out_.size());
    const uint16_t method = compress ? 8 : 0;
    // Local header.
    u32(out_, 0x04034b50); u16(out_, 20); u16(out_, 0); u16(out_, method); u16(out_, 0); u16(out_, 0x21);
    u32(out_, crc); u32(out_, static_cast<uint32_t>(body.size())); u32(out_, static_cast<uint32_t>(data.size()));
    u16(out_, static_cast<uint16_t>(name.size())); u16(out_, 0);
    out_ += name + body;
    // Central directory entry.
    u32(central_, 0x02014b50); u16(central_, 20); u16(central_, 20); u16(central_, 0); u16(central_, method);
    u16(central_, 0); u16(central_, 0x21); u32(central_, crc); u32(central_, static_cast<uint32_t>(body.size()));
    u32(central_, static_cast<uint32_t>(data.size())); u16(central_, static_cast<uint16_t>(name.size()));
    u16(central_, 0); u16(central_, 0); u16(central_, 0); u16(central_, 0); u32(central_, 0); u32(central_, offset);
    central_ += name;
    ++count_;
  }
  void write(const std::filesystem::path& path) const {
    std::string all = out_ + central_;
    u32(all, 0x06054b50); u16(all, 0); u16(all, 0); u16(all, count_); u16(all, count_);
    u32(all, static_cast<uint32_t>(central_.size())); u32(all, static_cast<uint32_t>(out_.size())); u16(all, 0);
    write_text(path, all);
  }

 private:
  static void u16(std::string& s, uint16_t v) { s += static_cast<char>(v & 0xff); s += static_cast<char>(v >> 8); }
  static void u32(std::string& s, uint32_t v) { u16(s, static_cast<uint16_t>(v & 0xffff)); u16(s, static_cast<uint16_t>(v >> 16)); }
  std::string out_, central_;
  uint16_t count_ = 0;
};

/// The message of the DataError `fn` throws (a test failure when it throws nothing or another type).
template <typename Fn>
std::string data_error_of(Fn fn) {
  try {
    fn();
  } catch (const flowood::DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DataError, got: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected DataError, nothing thrown";
  return {};
}

/// The shared offline data mirror beside the checkout (../shared/data), if present.
inline std::filesystem::path shared_data_root(const std::string& source_dir) {
  return std::filesystem::path(source_dir) / ".." / "shared" / "data";
}

}  // namespace flowood::testing
