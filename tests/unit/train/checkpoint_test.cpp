// Checkpoints under faults: a full disk mid-write (RLIMIT_FSIZE) is an IoError that leaves the
// previous checkpoint in place and no temporary file; any flipped byte in a checkpoint is refused.
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/train/checkpoint.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace tr = flowood::train;
using flowood::testing::TempDir;

namespace {
torch::nn::Sequential small_model(int64_t width) {
  torch::manual_seed(0);
  return torch::nn::Sequential(torch::nn::Linear(width, width), torch::nn::BatchNorm1d(width), torch::nn::Linear(width, 2));
}

/// Lowers the soft file-size limit for its lifetime (SIGXFSZ ignored, so writes fail with EFBIG).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower = saved_;
    lower.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lower);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};
}  // namespace

TEST(CheckpointFaults, FullDiskKeepsThePreviousCheckpoint) {
  TempDir dir("ckpt_full");
  const auto path = dir.file("checkpoint.pt");
  auto small = small_model(4);
  tr::save_checkpoint(path, *small, nullptr, {1, "name: a\n", ""});
  const auto before = flowood::io::read_file(path);
  auto big = small_model(256);  // ~265 KB of parameters
  {
    FileSizeLimit limit(64 * 1024);
    try {
      tr::save_checkpoint(path, *big, nullptr, {2, "name: a\n", ""});
      FAIL() << "a checkpoint larger than the file-size limit was written";
    } catch (const flowood::IoError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(flowood::io::read_file(path), before) << "the previous checkpoint was damaged";
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  EXPECT_EQ(tr::read_checkpoint_info(path).step, 1);
}

TEST(CheckpointFaults, AnyFlippedByteIsRefused) {
  // The file's SHA-256 seal covers every byte: zip headers, padding, the TorchScript debug records
  // LibTorch never reads back, and the seal itself.
  TempDir dir("ckpt_flip");
  const auto path = dir.file("checkpoint.pt");
  auto model = small_model(32);
  tr::save_checkpoint(path, *model, nullptr, {7, "name: a\n", ""});
  const auto good = flowood::io::read_file(path);
  std::mt19937 rng(3);
  std::vector<size_t> positions = {0, good.size() / 2, good.size() - 1, good.size() - 40, good.size() - 90};
  for (int t = 0; t < 60; ++t) positions.push_back(std::uniform_int_distribution<size_t>(0, good.size() - 1)(rng));
  for (size_t k = 0; k < positions.size(); ++k) {
    auto bytes = good;
    bytes[positions[k]] = static_cast<char>(bytes[positions[k]] ^ (1 << (k % 8)));
    flowood::io::write_file_atomic(path, bytes);
    auto fresh = small_model(32);
    EXPECT_THROW(tr::load_checkpoint(path, *fresh, nullptr, torch::kCPU), flowood::IoError)
        << "a flip at byte " << positions[k] << " of " << good.size() << " loaded";
  }
  // Truncated anywhere, or with bytes appended: refused too.
  for (const size_t keep : {good.size() - 1, good.size() - 79, good.size() / 3}) {
    flowood::io::write_file_atomic(path, good.substr(0, keep));
    auto fresh = small_model(32);
    EXPECT_THROW(tr::load_checkpoint(path, *fresh, nullptr, torch::kCPU), flowood::IoError) << "truncated to " << keep;
  }
  flowood::io::write_file_atomic(path, good + "x");
  auto fresh = small_model(32);
  EXPECT_THROW(tr::load_checkpoint(path, *fresh, nullptr, torch::kCPU), flowood::IoError);
  // The untouched file loads.
  flowood::io::write_file_atomic(path, good);
  EXPECT_EQ(tr::load_checkpoint(path, *fresh, nullptr, torch::kCPU).step, 7);
}

TEST(CheckpointFaults, ACheckpointWithoutASealStillLoads) {
  // Checkpoints written before the seal existed end in a zip end record without a comment.
  TempDir dir("ckpt_unsealed");
  const auto path = dir.file("checkpoint.pt");
  auto model = small_model(32);
  tr::save_checkpoint(path, *model, nullptr, {5, "name: a\n", ""});
  auto bytes = flowood::io::read_file(path);
  const size_t seal = 15 + 64;
  ASSERT_EQ(bytes.compare(bytes.size() - seal, 15, "flowood-sha256:"), 0);
  bytes.resize(bytes.size() - seal);
  bytes[bytes.size() - 2] = 0;  // the end record's comment length
  bytes[bytes.size() - 1] = 0;
  flowood::io::write_file_atomic(path, bytes);
  auto fresh = small_model(32);
  EXPECT_EQ(tr::load_checkpoint(path, *fresh, nullptr, torch::kCPU).step, 5);
  const auto a = fresh->parameters(), b = model->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}
