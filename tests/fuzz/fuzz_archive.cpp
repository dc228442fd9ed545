// Archives (data::read_archive_members) and the .npz reader on top of them: zip and tar headers,
// member sizes that lie, truncation.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/data/archive.hpp"
#include "flowood/data/features.hpp"
#include "flowood/io/atomic_file.hpp"
#include "fuzz_target.hpp"

namespace {
std::string scratch(const char* ext) {
  return "/tmp/flowood_fuzz_" + std::to_string(::getpid()) + ext;
}
}  // namespace

std::vector<std::string> fuzz_seeds() {
  const auto path = scratch(".seed.npz");
  flowood::data::write_npz(path, {{"embeddings", torch::rand({4, 3})}, {"labels", torch::arange(4, torch::kInt64)}});
  auto npz = flowood::io::read_file(path);
  std::remove(path.c_str());
  return {npz};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = scratch(".npz");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    size_t total = 0;
    for (const auto& m : flowood::data::read_archive_members(path, [](const std::string&) { return true; }))
      total += m.bytes.size();
    const auto f = flowood::data::read_npz_features(path, "embeddings");
    fuzz_check(f.features.dim() == 2, "npz features are not [N, D]");
    // Stored members hold at most the archive's bytes; deflated ones at most ~1032× that.
    fuzz_check(total <= 1100 * size + 4096, "members larger than the archive could hold");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
