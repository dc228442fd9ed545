// Writes the hostile input files of the e2e bad-input suite (tests/e2e/scripts/bad_input.sh) into
// DIR: small files whose headers claim far more than they hold. Each must make flowood stop with a
// clear error, in memory that follows the file's real size.
//   make_hostile_inputs DIR
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "deflate.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "make_hostile_inputs: cannot write " << path << "\n";
    std::exit(1);
  }
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string le16(uint32_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }
std::string le32(uint32_t v) { return le16(v) + le16(v >> 16); }



// A one-member tar whose size field is `size_field` (12 bytes, octal text or base-256) while the
// archive holds `body`.
std::string tar_claiming(const std::string& name, const std::string& size_field, const std::string& body) {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), name.size());
  std::memcpy(&h[100], "0000644", 7);
  std::memcpy(&h[108], "0000000", 7);
  std::memcpy(&h[116], "0000000", 7);
  std::memcpy(&h[124], size_field.data(), 12);
  std::memcpy(&h[136], "00000000000", 11);
  h[156] = '0';
  std::memcpy(&h[257], "ustar\0" "00", 8);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (const unsigned char c : h) sum += c;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%06o", sum);
  std::memcpy(&h[148], octal, 7);
  std::string padded = body;
  padded.resize((body.size() + 511) / 512 * 512, '\0');
  return h + padded + std::string(1024, '\0');
}

std::string npy(const std::string& shape) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + le16(static_cast<uint32_t>(header.size())) + header;
}

// A zip (.npz) of one deflated member whose headers say it inflates to `claimed` bytes.
std::string zip_claiming(const std::string& name, const std::string& content, uint32_t claimed) {
  const std::string data = flowood::testing::deflate_bytes(content, -15);
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())));
  const std::string common = le16(20) + le16(0) + le16(8) + le16(0) + le16(0x21) + le32(crc) +
                             le32(static_cast<uint32_t>(data.size())) + le32(claimed) + le16(static_cast<uint32_t>(name.size()));
  const std::string local = le32(0x04034b50) + common + le16(0) + name + data;
  const std::string central = le32(0x02014b50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) +
                              le32(0) + name;
  const std::string end = le32(0x06054b50) + le16(0) + le16(0) + le16(1) + le16(1) +
                          le32(static_cast<uint32_t>(central.size())) + le32(static_cast<uint32_t>(local.size())) + le16(0);
  return local + central + end;
}

// A PNG signature and IHDR chunk (with its CRC) claiming width × height, and nothing else.
std::string png_claiming(uint32_t width, uint32_t height) {
  const std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), static_cast<uInt>(ihdr.size())));
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + ihdr + be32(crc) + be32(0) + "IEND" + be32(0xAE426082);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_hostile_inputs DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  const std::string body(1000, 'b');
  // A tar.gz of CIFAR-10 layout whose member claims 77777777777 (octal) bytes = 8 GiB.
  using flowood::testing::gzip_bytes;
  write(dir / "octal" / "cifar10" / "test.tar.gz", gzip_bytes(tar_claiming("test/cat/0001.png", "77777777777", body)));
  // The same with a base-256 size field (GNU tar's form for sizes ≥ 8 GiB): 2^62 bytes.
  std::string b256(12, '\0');
  b256[0] = static_cast<char>(0x80);
  b256[4] = 0x40;
  write(dir / "base256" / "cifar10" / "test.tar.gz", gzip_bytes(tar_claiming("test/cat/0001.png", b256, body)));
  // An .npz whose member says it inflates to 4 GB (it holds a 2×3 float32 array).
  write(dir / "claims4gb.npz", zip_claiming("embeddings.npy", npy("(2, 3)") + std::string(24, '\0'), 0xF0000000u));
  // An .npy whose shape multiplies to 4.6e18 elements.
  write(dir / "huge_shape.npy", npy("(4611686018427387904, 1)") + std::string(16, '\0'));
  // A PNG claiming 100000 × 100000 pixels, in an image folder.
  write(dir / "bigpng" / "0001.png", png_claiming(100000, 100000));
  // An IDX images file claiming 2^31-1 images of 28×28 and holding 100 bytes.
  write(dir / "huge-images-idx3-ubyte", be32(0x00000803) + be32(0x7FFFFFFF) + be32(28) + be32(28) + std::string(100, 'x'));
  std::cout << "hostile inputs written to " << dir.string() << "\n";
  return 0;
}
