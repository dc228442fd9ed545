// Device names: cpu, auto, cuda, cuda:N — and clear errors for everything else.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"

namespace {

TEST(Device, CpuAndAuto) {
  EXPECT_EQ(flowood::resolve_device("cpu").type(), torch::kCPU);
  const auto automatic = flowood::resolve_device("auto");
  EXPECT_EQ(automatic.type(), flowood::cuda_available() ? torch::kCUDA : torch::kCPU);
}

TEST(Device, MalformedNamesNameTheKeyAndTheValidOnes) {
  for (const std::string bad : {"tpu", "cuda:", "cuda:x", "CPU", "cuda:-1"}) {
    try {
      flowood::resolve_device(bad, "--device");
      FAIL() << bad << " was accepted";
    } catch (const flowood::ConfigError& e) {
      EXPECT_EQ(e.key(), "--device");
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Device, CudaWithoutAGpuIsAClearError) {
  if (flowood::cuda_available()) GTEST_SKIP() << "a CUDA device is present; this checks the message without one";
  try {
    flowood::resolve_device("cuda:0");
    FAIL() << "cuda:0 accepted without a GPU";
  } catch (const flowood::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

TEST(Rng, DerivedSeedsAreStableAndDistinct) {
  using flowood::Stream;
  EXPECT_EQ(flowood::derive_seed(1, Stream::kShuffle, 2, 3), flowood::derive_seed(1, Stream::kShuffle, 2, 3));
  EXPECT_NE(flowood::derive_seed(1, Stream::kShuffle, 2), flowood::derive_seed(1, Stream::kShuffle, 3));
  EXPECT_NE(flowood::derive_seed(1, Stream::kShuffle, 2), flowood::derive_seed(1, Stream::kTrainNoise, 2));
  EXPECT_NE(flowood::derive_seed(1, Stream::kShuffle, 2), flowood::derive_seed(2, Stream::kShuffle, 2));
  auto a = flowood::make_generator(5, Stream::kScoreNoise, 7), b = flowood::make_generator(5, Stream::kScoreNoise, 7);
  EXPECT_TRUE(torch::equal(at::rand({4}, a), at::rand({4}, b)));
}

}  // namespace
