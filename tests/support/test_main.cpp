// Shared GoogleTest main: fixed seeds and a single intra-op thread pool size so results are
// reproducible and tests do not oversubscribe the 2-core CI machine.
#include <gtest/gtest.h>
#include <torch/torch.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  torch::manual_seed(0);
  torch::set_num_threads(1);
  return RUN_ALL_TESTS();
}
