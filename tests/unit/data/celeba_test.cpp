// CelebA: img_align_celeba/ + list_eval_partition.txt, resized (shorter side) and centre-cropped.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/data/celeba.hpp"
#include "flowood/data/image_decode.hpp"
#include "flowood/data/registry.hpp"
#include "temp_dir.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::ScopedEnv;
using flowood::testing::TempDir;

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class CelebaTest : public ::testing::Test {
 protected:
  /// Six 218x178 faces (portrait, as CelebA's): rows 0..108 value 10·i, rows 109.. value 200 (so the
  /// crop position shows), partitions 0,0,1,2,2,0.
  void SetUp() override {
    const fs::path dir = root() / "celeba" / "img_align_celeba";
    fs::create_directories(dir);
    std::string partition;
    const int parts[6] = {0, 0, 1, 2, 2, 0};
    for (int i = 0; i < 6; ++i) {
      auto img = torch::full({3, 218, 178}, 10 * (i + 1), torch::kUInt8);
      img.narrow(1, 109, 109).fill_(200);
      char name[16];
      std::snprintf(name, sizeof name, "%06d.png", i + 1);
      write_image((dir / name).string(), img);
      partition += std::string(name) + " " + std::to_string(parts[i]) + "\n";
    }
    flowood::testing::write_text(root() / "celeba" / "list_eval_partition.txt", partition);
  }
  fs::path root() const { return dir_.path() / "root"; }
  TempDir dir_{"celeba"};
  ScopedEnv cache_{kCacheEnvVar, (dir_.path() / "cache").string()};
};

TEST_F(CelebaTest, SplitsFollowThePartitionFile) {
  const DataRoots roots{{root().string()}};
  const ImageDataset test = load_dataset("celeba", roots);
  EXPECT_EQ(test.spec, "celeba:test");
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(test.image_shape(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_FALSE(test.has_labels());
  EXPECT_EQ(test.images[0][0][0][0].item<int>(), 40);  // 000004.png
  EXPECT_EQ(load_dataset("celeba:train", roots).size(), 3);
  EXPECT_EQ(load_dataset("celeba:valid", roots).size(), 1);
}

TEST_F(CelebaTest, ResizeShorterSideThenCentreCrop) {
  // 178x218 -> 32x39 (int(32*218/178) = 39), crop rows round(3.5) = 4 .. 35: the boundary between the
  // two halves (row 19.5 of 39) lands at crop row ~15.5.
  const ImageDataset ds = load_dataset("celeba:valid?size=32", DataRoots{{root().string()}});
  ASSERT_EQ(ds.size(), 1);
  EXPECT_EQ(ds.images[0][1][0][16].item<int>(), 30);
  EXPECT_EQ(ds.images[0][1][31][16].item<int>(), 200);
  const auto column = ds.images[0][0].select(1, 10);
  EXPECT_EQ(column.narrow(0, 0, 15).max().item<int>(), 30);
  EXPECT_EQ(column.narrow(0, 17, 15).min().item<int>(), 200);

  const ImageDataset big = load_dataset("celeba:valid?size=64", DataRoots{{root().string()}});
  EXPECT_EQ(big.spec, "celeba:valid?size=64");
  EXPECT_EQ(big.image_shape(), (std::vector<int64_t>{3, 64, 64}));
}

TEST_F(CelebaTest, ErrorsNameTheFile) {
  flowood::testing::write_text(root() / "celeba" / "list_eval_partition.txt", "000001.jpg 0\n000002.jpg 7\n");
  std::string what = data_error_of([&] { load_dataset("celeba:train", DataRoots{{root().string()}}); });
  EXPECT_NE(what.find("list_eval_partition.txt"), std::string::npos) << what;
  EXPECT_NE(what.find("line 2"), std::string::npos) << what;

  flowood::testing::write_text(root() / "celeba" / "list_eval_partition.txt", "000001.png 0\n999999.png 0\n");
  what = data_error_of([&] { load_dataset("celeba:train", DataRoots{{root().string()}}); });
  EXPECT_NE(what.find("999999.png"), std::string::npos) << what;

  flowood::testing::write_text(root() / "celeba" / "list_eval_partition.txt", "000001.png 0\n");
  flowood::testing::truncate_file(root() / "celeba" / "img_align_celeba" / "000001.png", 300);
  what = data_error_of([&] { load_dataset("celeba:train", DataRoots{{root().string()}}); });
  EXPECT_NE(what.find("000001.png"), std::string::npos) << what;
  EXPECT_NE(what.find("truncated PNG"), std::string::npos) << what;

  what = data_error_of([&] { load_dataset("celeba:test", DataRoots{{(dir_.path() / "none").string()}}); });
  EXPECT_NE(what.find("img_align_celeba"), std::string::npos) << what;
  EXPECT_NE(what.find("Google Drive"), std::string::npos) << what;
  what = data_error_of([&] { load_dataset("celeba:test?size=0", DataRoots{{root().string()}}); });
  EXPECT_NE(what.find("option size=0"), std::string::npos) << what;
}
