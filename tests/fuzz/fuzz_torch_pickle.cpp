// The torch.save reader (io::parse_torch_file): zip directory and entries, the legacy format's
// pickle sequence and raw storages, pickle opcodes, tensor sizes and strides against the storage.
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/io/torch_pickle.hpp"
#include "fuzz_target.hpp"
#include "torch_file_writer.hpp"

std::vector<std::string> fuzz_seeds() {
  const std::vector<std::pair<std::string, torch::Tensor>> state = {
      {"module.body.2.0.module1.rescale.weight_g", torch::rand({2, 1, 1})},
      {"module.body.2.0.module1.st_net.in_norm.running_var", torch::rand({3}, torch::kFloat64)},
      {"module.body.2.0.module1.st_net.in_norm.num_batches_tracked", torch::tensor(5, torch::kInt64)}};
  flowood::testing::TorchFileOptions legacy;
  legacy.zip = false;
  return {flowood::testing::torch_file_bytes(state), flowood::testing::torch_file_bytes(state, legacy)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    // Memory: each storage is copied once and the tensors viewing storages hold at most twice the
    // file's bytes plus 1 MiB in all (checked inside); a pickle that builds cycles must not leak (ASan).
    const auto root = flowood::io::parse_torch_file(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pt");
    FUZZ_ASSERT_TRUE(root != nullptr, "no value");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  return 0;
}
