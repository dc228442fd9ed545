// Device names: cpu, auto, cuda, cuda:N — and clear errors for everything else.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

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

namespace {

TEST(Device, DefaultThreadsAreTheUsableCpusSharedAmongLocalProcesses) {
  unsetenv("LOCAL_WORLD_SIZE");
  const int all = flowood::default_threads();
  EXPECT_GE(all, 1);
  EXPECT_LE(all, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  setenv("LOCAL_WORLD_SIZE", "2", 1);
  EXPECT_EQ(flowood::default_threads(), std::max(1, all / 2));
  setenv("LOCAL_WORLD_SIZE", "100000000", 1);  // nonsense is ignored, never 0 threads
  EXPECT_EQ(flowood::default_threads(), all);
  setenv("LOCAL_WORLD_SIZE", "1000", 1);
  EXPECT_EQ(flowood::default_threads(), 1);
  unsetenv("LOCAL_WORLD_SIZE");
}

TEST(Device, ACpuSpinningInAnotherProcessCountsAsBusy) {
  // This process and a spinning child both restricted to the first CPU we may use: that CPU is
  // then busy with other work while busy_cpus sleeps.
  cpu_set_t saved, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int first = 0;
  while (first < CPU_SETSIZE && !CPU_ISSET(first, &saved)) ++first;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    volatile unsigned long long spin = 0;
    for (;;) spin = spin + 1;
  }
  const int busy = flowood::busy_cpus(0.3);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  sched_setaffinity(0, sizeof(saved), &saved);
  EXPECT_EQ(busy, 1);  // one CPU in the mask, and it was spinning
}

TEST(Device, KeepFreedMemoryOnlyWhenAsked) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator, whose settings this test checks";
#endif
  unsetenv("FLOWOOD_ALLOCATOR");
  EXPECT_FALSE(flowood::keep_freed_memory());
  setenv("FLOWOOD_ALLOCATOR", "system", 1);
  EXPECT_FALSE(flowood::keep_freed_memory());
  setenv("FLOWOOD_ALLOCATOR", "keep-freed", 1);
  EXPECT_TRUE(flowood::keep_freed_memory());
  unsetenv("FLOWOOD_ALLOCATOR");
  auto big = torch::ones({64, 1024, 1024});  // 256 MB: heap, not mmap, from now on
  EXPECT_EQ(big.sum().item<double>(), 64.0 * 1024 * 1024);
}

}  // namespace
