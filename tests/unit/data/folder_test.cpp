// folder:PATH — plain and class-folder layouts, options (gray, rgb, size, resize, crop, invert),
// data outside the repository, corrupt images naming the file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/data/folder.hpp"
#include "flowood/data/image_decode.hpp"
#include "flowood/data/registry.hpp"
#include "temp_dir.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::random_images;
using flowood::testing::ScopedEnv;
using flowood::testing::TempDir;

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class FolderTest : public ::testing::Test {
 protected:
  fs::path dir() const { return dir_.path() / "images"; }
  TempDir dir_{"folder"};  // under the system temp dir: outside the repository
  ScopedEnv cache_{kCacheEnvVar, (dir_.path() / "cache").string()};
};

TEST_F(FolderTest, FlatFolderIsUnlabelledInPathOrder) {
  const auto images = random_images(3, 1, 20, 20, 5);
  fs::create_directories(dir());
  write_image((dir() / "b.png").string(), images[1]);
  write_image((dir() / "a.png").string(), images[0]);
  write_image((dir() / "c.BMP").string(), images[2]);
  flowood::testing::write_text(dir() / "notes.txt", "not an image");
  const ImageDataset ds = load_dataset("folder:" + dir().string(), DataRoots{});
  EXPECT_EQ(ds.spec, "folder:" + dir().string());
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.image_shape(), (std::vector<int64_t>{1, 20, 20}));
  for (int64_t i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(ds.images[i], images[i])) << i;
  EXPECT_FALSE(ds.has_labels());
  EXPECT_EQ(ds.files.size(), 3u);
  EXPECT_EQ(load_dataset("folder:" + dir().string(), DataRoots{}, 2).size(), 2);
}

TEST_F(FolderTest, ClassSubFoldersGiveSortedIndexLabels) {
  const auto images = random_images(4, 3, 8, 8, 6);
  fs::create_directories(dir() / "zebra");
  fs::create_directories(dir() / "ant" / "deeper");
  write_image((dir() / "zebra" / "1.png").string(), images[0]);
  write_image((dir() / "ant" / "2.png").string(), images[1]);
  write_image((dir() / "ant" / "deeper" / "3.png").string(), images[2]);
  write_image((dir() / "loose.png").string(), images[3]);  // beside the class folders: skipped
  std::vector<std::string> names;
  const ImageDataset ds = load_image_folder(dir().string(), ImageTransform{}, 0, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(ds.size(), 3);
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 0, 1})));
  EXPECT_TRUE(torch::equal(ds.images[0], images[1]));  // ant/2.png
  EXPECT_TRUE(torch::equal(ds.images[1], images[2]));  // ant/deeper/3.png
  EXPECT_TRUE(torch::equal(ds.images[2], images[0]));  // zebra/1.png
}

TEST_F(FolderTest, GrayInvertSizeAndMixedChannels) {
  fs::create_directories(dir());
  // A white 40x30 image with a black centre pixel block, and a colour one.
  auto white = torch::full({1, 30, 40}, 255, torch::kUInt8);
  write_image((dir() / "a.png").string(), white);
  auto red = torch::zeros({3, 30, 40}, torch::kUInt8);
  red[0].fill_(255);
  write_image((dir() / "b.png").string(), red);

  // Default: colour wins when mixed; grey images are replicated.
  const ImageDataset mixed = load_dataset("folder:" + dir().string(), DataRoots{});
  EXPECT_EQ(mixed.image_shape(), (std::vector<int64_t>{3, 30, 40}));
  EXPECT_EQ(mixed.images[0].min().item<int>(), 255);
  EXPECT_EQ(mixed.images[1][0].min().item<int>(), 255);
  EXPECT_EQ(mixed.images[1][1].max().item<int>(), 0);

  const ImageDataset gray = load_dataset("folder:" + dir().string() + "?gray&invert&size=28", DataRoots{});
  EXPECT_EQ(gray.image_shape(), (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(gray.images[0].max().item<int>(), 0);               // white inverted
  EXPECT_NEAR(gray.images[1].to(torch::kFloat32).mean().item<float>(), 255 - 76, 2);  // red's luma 76, inverted

  const ImageDataset exact = load_dataset("folder:" + dir().string() + "?rgb&resize=10x12&crop=8x6", DataRoots{});
  EXPECT_EQ(exact.image_shape(), (std::vector<int64_t>{3, 8, 6}));
}

TEST_F(FolderTest, DifferentSizesWithoutResizeAreAnErrorSuggestingSize) {
  fs::create_directories(dir());
  write_image((dir() / "a.png").string(), random_images(1, 3, 10, 10)[0]);
  write_image((dir() / "b.jpg").string(), random_images(1, 3, 12, 10)[0]);
  const std::string what = data_error_of([&] { load_dataset("folder:" + dir().string(), DataRoots{}); });
  EXPECT_NE(what.find((dir() / "b.jpg").string()), std::string::npos) << what;
  EXPECT_NE(what.find("?size="), std::string::npos) << what;
  EXPECT_EQ(load_dataset("folder:" + dir().string() + "?size=8", DataRoots{}).size(), 2);
}

TEST_F(FolderTest, TruncatedAndBogusImagesNameTheFile) {
  fs::create_directories(dir());
  write_image((dir() / "a.png").string(), random_images(1, 3, 16, 16)[0]);
  write_image((dir() / "b.jpg").string(), random_images(1, 3, 16, 16)[0]);
  const std::string good_png = flowood::testing::read_text(dir() / "a.png");

  flowood::testing::truncate_file(dir() / "b.jpg", 200);
  std::string what = data_error_of([&] { load_dataset("folder:" + dir().string(), DataRoots{}); });
  EXPECT_NE(what.find((dir() / "b.jpg").string()), std::string::npos) << what;
  EXPECT_NE(what.find("truncated JPEG"), std::string::npos) << what;

  fs::remove(dir() / "b.jpg");
  flowood::testing::truncate_file(dir() / "a.png", good_png.size() / 2);
  what = data_error_of([&] { load_dataset("folder:" + dir().string(), DataRoots{}); });
  EXPECT_NE(what.find((dir() / "a.png").string()), std::string::npos) << what;
  EXPECT_NE(what.find("truncated PNG"), std::string::npos) << what;

  flowood::testing::write_text(dir() / "a.png", "definitely not a PNG");
  what = data_error_of([&] { load_dataset("folder:" + dir().string(), DataRoots{}); });
  EXPECT_NE(what.find("cannot decode"), std::string::npos) << what;
}

TEST_F(FolderTest, RelativePathUnderARootAndMissingFolder) {
  fs::create_directories(dir());
  write_image((dir() / "a.png").string(), random_images(1, 1, 4, 4)[0]);
  EXPECT_EQ(load_dataset("folder:images", DataRoots{{dir_.path().string()}}).size(), 1);
  const std::string what = data_error_of([&] { load_dataset("folder:no/such/dir", DataRoots{{dir_.path().string()}}); });
  EXPECT_NE(what.find("image folder not found"), std::string::npos) << what;
  EXPECT_NE(what.find((dir_.path() / "no/such/dir").string()), std::string::npos) << what;
  fs::create_directories(dir_.path() / "empty");
  EXPECT_NE(data_error_of([&] { load_dataset("folder:" + (dir_.path() / "empty").string(), DataRoots{}); }).find("no images"),
            std::string::npos);
}

TEST_F(FolderTest, ContradictoryOptions) {
  EXPECT_NE(data_error_of([&] { load_dataset("folder:/x?gray&rgb", DataRoots{}); }).find("contradict"), std::string::npos);
  EXPECT_NE(data_error_of([&] { load_dataset("folder:/x?size=28&crop=20", DataRoots{}); }).find("size=S already"),
            std::string::npos);
  EXPECT_NE(data_error_of([&] { load_dataset("folder:/x?size=2x3", DataRoots{}); }).find("one number"), std::string::npos);
}
