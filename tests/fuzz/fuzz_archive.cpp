// Archives (data::read_archive_members) and the .npz reader on top of them: zip and tar headers,
// member sizes that lie (octal and base-256), truncation.
#include <cstdio>
#include <cstring>

#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/data/archive.hpp"
#include "flowood/data/features.hpp"
#include "flowood/io/atomic_file.hpp"
#include "fuzz_target.hpp"

namespace {
// A ustar archive of one member, built by hand (flowood writes zip, not tar).
std::string ustar(const std::string& name, const std::string& body) {
  std::string header(512, '\0');
  const auto put = [&](size_t at, const std::string& text) { std::memcpy(&header[at], text.data(), text.size()); };
  char octal[16];
  put(0, name);
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  std::snprintf(octal, sizeof octal, "%011o", static_cast<unsigned>(body.size()));
  put(124, octal);
  put(136, "00000000000");
  header[156] = '0';
  put(257, std::string("ustar\0" "00", 8));
  put(148, "        ");
  unsigned sum = 0;
  for (const unsigned char c : header) sum += c;
  std::snprintf(octal, sizeof octal, "%06o", sum);
  put(148, std::string(octal, 7));
  std::string padded = body;
  padded.resize((body.size() + 511) / 512 * 512, '\0');
  return header + padded + std::string(1024, '\0');
}
}  // namespace

std::vector<std::string> fuzz_seeds() {
  const auto path = "/tmp/flowood_fuzz_" + std::to_string(::getpid()) + ".seed.npz";
  flowood::data::write_npz(path, {{"embeddings", torch::rand({4, 3})}, {"labels", torch::arange(4, torch::kInt64)}});
  auto npz = flowood::io::read_file(path);
  std::remove(path.c_str());
  return {npz, ustar("test/cat/0001.bin", std::string(700, 'x'))};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzFile file(data, size, "archive.bin");
  try {
    size_t total = 0;
    for (const auto& m : flowood::data::read_archive_members(file.path(), [](const std::string&) { return true; })) {
      FUZZ_ASSERT_TRUE(m.size == m.bytes.size(), "a member's size differs from the bytes read");
      total += m.bytes.size();
    }
    // Stored members hold at most the archive's bytes; deflated ones at most ~1032× that.
    FUZZ_ASSERT_TRUE(total <= 1100 * size + 4096, "members larger than the archive could hold");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  try {  // the .npz reader on the same bytes
    const auto f = flowood::data::read_npz_features(file.path(), "embeddings");
    FUZZ_ASSERT_TRUE(f.features.dim() == 2 && f.features.scalar_type() == torch::kFloat32, "npz features are not [N, D] float32");
    FUZZ_ASSERT_TRUE(!f.has_labels() || f.labels.size(0) == f.features.size(0), "npz labels and features differ in length");
  } catch (const flowood::Error&) {
  }
  return 0;
}
