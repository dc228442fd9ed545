// The IDX reader (data::read_idx_images / read_idx_labels): big-endian headers, dimensions that
// overflow or disagree with the bytes present, gzip-compressed files.
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/data/idx.hpp"
#include "deflate.hpp"
#include "fuzz_target.hpp"

namespace {
std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
}  // namespace

std::vector<std::string> fuzz_seeds() {
  const std::string images = be32(flowood::data::kIdxImagesMagic) + be32(3) + be32(4) + be32(5) + std::string(60, '\x7f');
  const std::string labels = be32(flowood::data::kIdxLabelsMagic) + be32(3) + std::string("\x01\x02\x03");
  return {images, labels, flowood::testing::gzip_bytes(images)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzFile file(data, size, "fuzz.idx");
  bool accepted = false;
  try {
    const auto t = flowood::data::read_idx_images(file.path());
    FUZZ_ASSERT_TRUE(t.dim() == 4 && t.size(1) == 1 && t.scalar_type() == torch::kUInt8, "images are not [N, 1, H, W] uint8");
    // gzip inflates at most ~1032×; a raw file holds its pixels plus a 16-byte header.
    FUZZ_ASSERT_TRUE(static_cast<size_t>(t.numel()) <= 1100 * size + 4096, "more pixels than the file could hold");
    accepted = true;
  } catch (const flowood::Error&) {
  }
  try {
    const auto labels = flowood::data::read_idx_labels(file.path(), 2);
    FUZZ_ASSERT_TRUE(labels.dim() == 1 && labels.size(0) <= 2, "labels ignore the limit");
    accepted = true;
  } catch (const flowood::Error&) {
  }
  if (accepted) ++fuzz_accepted();
  return 0;
}
