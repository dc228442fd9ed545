// The .npy parser (io::parse_npy): headers, dtypes, shapes against the bytes present.
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/io/npy.hpp"
#include "fuzz_target.hpp"

std::vector<std::string> fuzz_seeds() {
  return {flowood::io::npy_bytes(torch::arange(12, torch::kFloat32).view({3, 4})),
          flowood::io::npy_bytes(torch::arange(5, torch::kInt64)),
          flowood::io::npy_bytes(torch::ones({2, 2, 2}, torch::kFloat64))};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto array = flowood::io::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz.npy");
    int64_t product = 1;
    for (const auto d : array.shape) product *= d;
    FUZZ_ASSERT_TRUE(array.tensor.numel() == product, "tensor size differs from the header's shape");
    // Narrow integer dtypes are widened (uint32 → int64): at most twice the bytes the input holds.
    FUZZ_ASSERT_TRUE(static_cast<size_t>(array.tensor.numel()) * array.tensor.element_size() <= 2 * size,
               "more than twice the bytes the input holds allocated");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  return 0;
}
