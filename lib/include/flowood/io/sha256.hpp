#pragma once
/// SHA-256 (FIPS 180-4) for data checksums in manifests; streaming, so files of any size.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace flowood::io {

/// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  /// Feeds `size` bytes.
  void update(const void* data, std::size_t size);
  /// Finishes and returns the digest as 64 lowercase hex characters. Call once.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// SHA-256 of a byte string, as 64 lowercase hex characters.
std::string sha256_hex(const std::string& bytes);

/// SHA-256 of a file's bytes (read in chunks), as 64 lowercase hex characters.
/// Throws IoError(path) when the file cannot be opened or read.
std::string sha256_file(const std::string& path);

}  // namespace flowood::io
