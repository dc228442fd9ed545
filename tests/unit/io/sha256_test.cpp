// SHA-256 against published vectors (FIPS 180-4 examples) and padding-boundary lengths.
#include <gtest/gtest.h>

#include "test_paths.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "flowood/core/error.hpp"
#include "flowood/io/sha256.hpp"

namespace fs = std::filesystem;
using flowood::io::Sha256;
using flowood::io::sha256_file;
using flowood::io::sha256_hex;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // Lengths around the 55/56/64-byte points where padding spills into a second block.
  const std::pair<int, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const auto& [n, hex] : cases) EXPECT_EQ(sha256_hex(std::string(n, 'a')), hex) << "length " << n;
}

TEST(Sha256, StreamingInOddPiecesEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>((i * 131) & 0xff));
  Sha256 hasher;
  for (std::size_t off = 0, step = 1; off < data.size(); off += step, step = step % 97 + 13) {
    hasher.update(data.data() + off, std::min(step, data.size() - off));
  }
  EXPECT_EQ(hasher.hex_digest(), sha256_hex(data));
}

TEST(Sha256, FileMatchesBytesAndMissingFileIsIoError) {
  const fs::path path = fs::temp_directory_path() / ("flowood_sha256_" + std::to_string(::getpid()));
  const std::string data(200000, 'a');  // spans several read chunks
  { std::ofstream(path, std::ios::binary) << data; }
  EXPECT_EQ(sha256_file(path.string()), sha256_hex(data));
  fs::remove(path);
  try {
    sha256_file(path.string());
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), path.string());
    EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
  }
}

// data/manifest.tsv records gz_sha256 of the files on the reference machine; when those files are
// here, the manifest must agree with them.
TEST(Sha256, ManifestMatchesLocalFiles) {
  const fs::path manifest = fs::path(FLOWOOD_SOURCE_DIR) / "data" / "manifest.tsv";
  std::ifstream in(manifest);
  ASSERT_TRUE(in) << "cannot read " << manifest;
  const std::pair<std::string, fs::path> local_dirs[] = {
      {"fashion-mnist", "/usr/share/datasets/fashion-mnist"},
      {"mnist", fs::path(FLOWOOD_SOURCE_DIR) / ".." / "shared" / "data" / "mnist"}};
  int rows = 0, checked = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("dataset\t", 0) == 0) continue;
    std::istringstream fields(line);
    std::string dataset, split, file, idx_bytes, idx_sha, gz_sha, url;
    ASSERT_TRUE(std::getline(fields, dataset, '\t') && std::getline(fields, split, '\t') &&
                std::getline(fields, file, '\t') && std::getline(fields, idx_bytes, '\t') &&
                std::getline(fields, idx_sha, '\t') && std::getline(fields, gz_sha, '\t') &&
                std::getline(fields, url, '\t'))
        << "malformed manifest row: " << line;
    ++rows;
    EXPECT_TRUE(url.size() > file.size() && url.compare(url.size() - file.size(), file.size(), file) == 0)
        << url;
    if (gz_sha == "-") continue;
    EXPECT_EQ(gz_sha.size(), 64u) << line;
    for (const auto& [name, dir] : local_dirs) {
      if (name != dataset || !fs::exists(dir / file)) continue;
      EXPECT_EQ(sha256_file((dir / file).string()), gz_sha) << dir / file;
      ++checked;
    }
  }
  EXPECT_EQ(rows, 8);
  if (checked == 0) GTEST_SKIP() << "no dataset files present locally to check against the manifest";
}
