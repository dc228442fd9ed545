// CIFAR-10: the binary batches, class folders, tarballs of class folders, the decoded-data cache,
// errors naming the file, and the real offline JPEG mirror.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "data_fixtures.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/data/cifar10.hpp"
#include "flowood/data/image_decode.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/archive.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::random_images;
using flowood::testing::ScopedEnv;
using flowood::testing::TempDir;

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class Cifar10Test : public ::testing::Test {
 protected:
  fs::path root() const { return dir_.path() / "root"; }
  std::string cache() const { return (dir_.path() / "cache").string(); }

  /// PNG class folders root/<sub>/<class>/<i>.png: image i has class i % 10 (lossless, so pixels compare).
  torch::Tensor write_png_folders(const fs::path& split_dir, int64_t n) {
    const auto images = random_images(n, 3, 32, 32, 7);
    for (int64_t i = 0; i < n; ++i) {
      const fs::path file = split_dir / kCifar10Classes[static_cast<std::size_t>(i % 10)] / fmt_index(i);
      fs::create_directories(file.parent_path());
      write_image(file.string(), images[i]);
    }
    return images;
  }
  static std::string fmt_index(int64_t i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04lld.png", static_cast<long long>(i));
    return buf;
  }

  TempDir dir_{"cifar10"};
  ScopedEnv cache_env_{kCacheEnvVar, (dir_.path() / "cache").string()};
};

namespace {

/// The order a loader must produce: sorted by "<class>/<file>".
std::vector<int64_t> sorted_order(int64_t n) {
  std::vector<std::pair<std::string, int64_t>> keys;
  for (int64_t i = 0; i < n; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s/%04lld.png", kCifar10Classes[static_cast<std::size_t>(i % 10)], static_cast<long long>(i));
    keys.emplace_back(buf, i);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<int64_t> order;
  for (const auto& k : keys) order.push_back(k.second);
  return order;
}

}  // namespace

TEST_F(Cifar10Test, BinaryBatchesRoundTrip) {
  const fs::path dir = root() / "cifar-10-batches-bin";
  fs::create_directories(dir);
  std::vector<torch::Tensor> all;
  for (int b = 1; b <= 5; ++b) {
    const auto images = random_images(4, 3, 32, 32, static_cast<uint64_t>(b));
    all.push_back(images);
    write_cifar10_bin((dir / ("data_batch_" + std::to_string(b) + ".bin")).string(), images,
                      torch::arange(4, torch::kInt64) + b);
  }
  write_cifar10_bin((dir / "test_batch.bin").string(), random_images(3, 3, 32, 32, 9), torch::tensor({9, 0, 3}));
  const DataRoots roots{{root().string()}};

  const ImageDataset train = load_dataset("cifar10:train", roots);
  EXPECT_EQ(train.spec, "cifar10:train");
  EXPECT_EQ(train.size(), 20);
  EXPECT_EQ(train.image_shape(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_TRUE(torch::equal(train.images, torch::cat(all)));
  EXPECT_EQ(train.labels[4].item<int64_t>(), 2);  // batch 2, image 0
  EXPECT_EQ(train.files.size(), 5u);

  const ImageDataset test = load_dataset("cifar10", roots);
  EXPECT_EQ(test.spec, "cifar10:test");
  EXPECT_TRUE(torch::equal(test.labels, torch::tensor({9, 0, 3})));
  EXPECT_EQ(load_dataset("cifar10:train", roots, 6).size(), 6);  // limit spans two batches
}

TEST_F(Cifar10Test, BinaryErrorsNameTheFile) {
  const fs::path dir = root() / "cifar-10-batches-bin";
  fs::create_directories(dir);
  write_cifar10_bin((dir / "test_batch.bin").string(), random_images(2, 3, 32, 32), torch::tensor({1, 2}));
  flowood::testing::truncate_file(dir / "test_batch.bin", 3073 + 100);
  const DataRoots roots{{root().string()}};
  std::string what = data_error_of([&] { load_dataset("cifar10:test", roots); });
  EXPECT_NE(what.find((dir / "test_batch.bin").string()), std::string::npos) << what;
  EXPECT_NE(what.find("3073-byte"), std::string::npos) << what;

  write_cifar10_bin((dir / "test_batch.bin").string(), random_images(2, 3, 32, 32), torch::tensor({1, 12}));
  what = data_error_of([&] { load_dataset("cifar10:test", roots); });
  EXPECT_NE(what.find("label 12"), std::string::npos) << what;

  // data_batch_1 without the other four: the train split is incomplete.
  fs::copy_file(dir / "test_batch.bin", dir / "data_batch_1.bin");
  what = data_error_of([&] { load_dataset("cifar10:train", roots); });
  EXPECT_NE(what.find("data_batch_5.bin"), std::string::npos) << what;
}

TEST_F(Cifar10Test, ClassFoldersAreSortedByPathAndLabelledByClass) {
  const auto images = write_png_folders(root() / "cifar10" / "test", 23);
  const ImageDataset ds = load_dataset("cifar10:test", DataRoots{{root().string()}});
  ASSERT_EQ(ds.size(), 23);
  const auto order = sorted_order(23);
  for (int64_t k = 0; k < 23; ++k) {
    EXPECT_TRUE(torch::equal(ds.images[k], images[order[static_cast<std::size_t>(k)]])) << k;
    EXPECT_EQ(ds.labels[k].item<int64_t>(), order[static_cast<std::size_t>(k)] % 10) << k;
  }
  EXPECT_EQ(ds.files.size(), 23u);
}

TEST_F(Cifar10Test, UnknownClassFolderIsAnError) {
  write_png_folders(root() / "cifar10" / "test", 3);
  fs::create_directories(root() / "cifar10" / "test" / "zebra");
  const std::string what = data_error_of([&] { load_dataset("cifar10:test", DataRoots{{root().string()}}); });
  EXPECT_NE(what.find("zebra"), std::string::npos) << what;
  EXPECT_NE(what.find("airplane, automobile"), std::string::npos) << what;
}

TEST_F(Cifar10Test, TarballMirrorIsReadDirectlyAndCached) {
  // A tarball shaped like the offline mirror: test/<class>/NNNN.png, pax global header included.
  const auto images = random_images(15, 3, 32, 32, 3);
  std::vector<ArchiveMember> members;
  members.push_back({"pax_global_header", 0, {}});
  for (int64_t i = 14; i >= 0; --i) {  // archive order differs from sorted order
    const std::string name = std::string("test/") + kCifar10Classes[static_cast<std::size_t>(i % 10)] + "/" + fmt_index(i);
    const fs::path tmp = dir_.path() / "tmp.png";
    write_image(tmp.string(), images[i]);
    const std::string bytes = flowood::testing::read_text(tmp);
    members.push_back({name, bytes.size(), std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
  }
  members.push_back({"test/README.txt", 5, {'h', 'e', 'l', 'l', 'o'}});
  fs::create_directories(root() / "cifar10-jpeg");
  const std::string tarball = (root() / "cifar10-jpeg" / "test.tar.gz").string();
  write_tar(tarball, members);
  const DataRoots roots{{root().string()}};

  const ImageDataset first = load_dataset("cifar10:test", roots);
  ASSERT_EQ(first.size(), 15);
  EXPECT_EQ(first.files, std::vector<std::string>{tarball});
  const auto order = sorted_order(15);
  for (int64_t k = 0; k < 15; ++k) {
    EXPECT_TRUE(torch::equal(first.images[k], images[order[static_cast<std::size_t>(k)]])) << k;
    EXPECT_EQ(first.labels[k].item<int64_t>(), order[static_cast<std::size_t>(k)] % 10);
  }
  // The decoded images went to the cache; a second load reads them back, also with a limit.
  ASSERT_TRUE(fs::exists(cache()));
  EXPECT_EQ(std::distance(fs::directory_iterator(cache()), fs::directory_iterator()), 1);
  const ImageDataset second = load_dataset("cifar10:test", roots);
  EXPECT_TRUE(torch::equal(second.images, first.images));
  EXPECT_TRUE(torch::equal(second.labels, first.labels));
  EXPECT_EQ(second.files, first.files);
  EXPECT_TRUE(torch::equal(load_dataset("cifar10:test", roots, 4).images, first.images.narrow(0, 0, 4)));

  // A changed source invalidates the entry: rewrite the tarball with fewer members.
  members.resize(6);
  write_tar(tarball, members);
  fs::last_write_time(tarball, fs::last_write_time(tarball) + std::chrono::seconds(2));
  EXPECT_EQ(load_dataset("cifar10:test", roots).size(), 5);
  EXPECT_EQ(std::distance(fs::directory_iterator(cache()), fs::directory_iterator()), 1) << "stale entry kept";
}

TEST_F(Cifar10Test, CorruptTarballAndTruncatedJpegNameTheFile) {
  const fs::path tmp = dir_.path() / "x.jpg";
  write_image(tmp.string(), random_images(1, 3, 32, 32)[0]);
  std::string jpeg = flowood::testing::read_text(tmp);
  jpeg.resize(jpeg.size() / 2);
  fs::create_directories(root() / "cifar10-jpeg");
  const std::string tarball = (root() / "cifar10-jpeg" / "test.tar.gz").string();
  write_tar(tarball, {{"test/cat/0001.jpg", jpeg.size(), std::vector<std::uint8_t>(jpeg.begin(), jpeg.end())}});
  const DataRoots roots{{root().string()}};
  std::string what = data_error_of([&] { load_dataset("cifar10:test", roots); });
  EXPECT_NE(what.find(tarball + ":test/cat/0001.jpg"), std::string::npos) << what;
  EXPECT_NE(what.find("truncated JPEG"), std::string::npos) << what;

  // The archive itself cut short.
  write_tar(tarball, {{"test/cat/0001.jpg", jpeg.size(), std::vector<std::uint8_t>(jpeg.begin(), jpeg.end())}});
  flowood::testing::truncate_file(tarball, 30);
  what = data_error_of([&] { load_dataset("cifar10:test", roots); });
  EXPECT_NE(what.find(tarball), std::string::npos) << what;
  EXPECT_NE(what.find("truncated"), std::string::npos) << what;
}

TEST_F(Cifar10Test, NotFoundListsLayoutsAndHowToGetIt) {
  const std::string what = data_error_of([&] { load_dataset("cifar10:train", DataRoots{{root().string()}}); });
  for (const char* part : {"cifar-10-batches-bin/data_batch_1.bin", "cifar10/train/<class>/", "cifar10-jpeg/train.tar.gz",
                           "flowood data fetch cifar10", "FLOWOOD_DATA"}) {
    EXPECT_NE(what.find(part), std::string::npos) << part << " not in: " << what;
  }
}

TEST_F(Cifar10Test, LocateReportsTheLayout) {
  write_png_folders(root() / "cifar10" / "train", 2);
  const auto loc = locate_dataset(parse_dataset_spec("cifar10:train"), DataRoots{{root().string()}});
  EXPECT_TRUE(loc.found);
  EXPECT_EQ(loc.layout, "class folders");
  EXPECT_FALSE(locate_dataset(parse_dataset_spec("cifar10:test"), DataRoots{{root().string()}}).found);
}

// The offline JPEG mirror: 50,000 + 10,000 images, 6,000 per class, read from its tarballs with the
// cache off (about 4 s on two cores; docs/performance.md).
TEST(Cifar10RealData, JpegMirrorLoadsAll60000) {
  const fs::path root = flowood::testing::shared_data_root(FLOWOOD_SOURCE_DIR);
  if (!fs::exists(root / "cifar10-jpeg" / "test.tar.gz") || !fs::exists(root / "cifar10-jpeg" / "train.tar.gz")) {
    GTEST_SKIP() << "missing " << (root / "cifar10-jpeg").string() << "/{train,test}.tar.gz (the offline mirror)";
  }
  TempDir tmp("cifar10_real");
  ScopedEnv no_cache(kCacheEnvVar, "off");
  const DataRoots roots{{root.string()}};
  const ImageDataset train = load_dataset("cifar10:train", roots);
  const ImageDataset test = load_dataset("cifar10:test", roots);
  EXPECT_EQ(train.size(), 50000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.image_shape(), (std::vector<int64_t>{3, 32, 32}));
  const auto counts = torch::bincount(torch::cat({train.labels, test.labels}), {}, 10);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(counts[k].item<int64_t>(), 6000) << kCifar10Classes[static_cast<std::size_t>(k)];
  EXPECT_EQ(torch::bincount(test.labels, {}, 10).min().item<int64_t>(), 1000);
  // Sorted by path: the first test image is test/airplane/0000.jpg.
  EXPECT_EQ(test.labels[0].item<int64_t>(), 0);
  EXPECT_EQ(test.labels[9999].item<int64_t>(), 9);
  const double mean = test.images.to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(mean, 100.0);
  EXPECT_LT(mean, 140.0);
}
