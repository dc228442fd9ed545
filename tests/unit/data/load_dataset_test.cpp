// load_dataset: named datasets under the roots, idx:PATH, limits, not-found errors, real data.
#include <gtest/gtest.h>

#include "test_paths.hpp"
#include <torch/torch.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "flowood/core/error.hpp"
#include "flowood/data/idx.hpp"
#include "flowood/data/registry.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class LoadDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    tmp_ = fs::temp_directory_path() /
           ("flowood_load_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(tmp_);
  }
  void TearDown() override { fs::remove_all(tmp_); }

  /// Writes `n` 3x5 images whose pixels all equal their index, and labels i % 10, as
  /// <dir>/<prefix>-{images-idx3,labels-idx1}-ubyte<suffix>.
  void write_split(const fs::path& dir, const std::string& prefix, int64_t n, const std::string& suffix = ".gz",
                   bool with_labels = true) {
    fs::create_directories(dir);
    auto images = torch::arange(n, torch::kUInt8).view({n, 1, 1, 1}).expand({n, 1, 3, 5}).contiguous();
    write_idx_images((dir / (prefix + "-images-idx3-ubyte" + suffix)).string(), images);
    if (with_labels) {
      write_idx_labels((dir / (prefix + "-labels-idx1-ubyte" + suffix)).string(), torch::arange(n) % 10);
    }
  }

  std::string error_of(const std::string& spec, const DataRoots& roots, int64_t limit = 0) {
    try {
      load_dataset(spec, roots, limit);
    } catch (const flowood::DataError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected DataError loading " << spec;
    return {};
  }

  fs::path tmp_;
};

namespace {

std::vector<int64_t> label_counts(const torch::Tensor& labels) {
  const auto counts = torch::bincount(labels, {}, 10);
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

}  // namespace

TEST_F(LoadDatasetTest, NamedDatasetDefaultSplitIsTest) {
  write_split(tmp_ / "fashion-mnist", "t10k", 12);
  write_split(tmp_ / "fashion-mnist", "train", 20);
  const DataRoots roots{{tmp_.string()}};

  const ImageDataset test = load_dataset("fashion-mnist", roots);
  EXPECT_EQ(test.spec, "fashion-mnist:test");
  EXPECT_EQ(test.size(), 12);
  EXPECT_EQ(test.image_shape(), (std::vector<int64_t>{1, 3, 5}));
  ASSERT_TRUE(test.has_labels());
  EXPECT_EQ(test.labels[11].item<int64_t>(), 1);
  EXPECT_EQ(test.images[7].max().item<int>(), 7);
  EXPECT_EQ(test.files, (std::vector<std::string>{(tmp_ / "fashion-mnist/t10k-images-idx3-ubyte.gz").string(),
                                                  (tmp_ / "fashion-mnist/t10k-labels-idx1-ubyte.gz").string()}));

  const ImageDataset train = load_dataset("fashion-mnist:train", roots);
  EXPECT_EQ(train.spec, "fashion-mnist:train");
  EXPECT_EQ(train.size(), 20);
}

TEST_F(LoadDatasetTest, AlternativeLayoutsAndRawFiles) {
  write_split(tmp_ / "a" / "FashionMNIST" / "raw", "t10k", 4, "");
  write_split(tmp_ / "b" / "fashionmnist", "t10k", 5);
  write_split(tmp_ / "c" / "MNIST" / "raw", "train", 6, "");
  EXPECT_EQ(load_dataset("fashion-mnist:test", DataRoots{{(tmp_ / "a").string()}}).size(), 4);
  EXPECT_EQ(load_dataset("fashion-mnist:test", DataRoots{{(tmp_ / "b").string()}}).size(), 5);
  EXPECT_EQ(load_dataset("mnist:train", DataRoots{{(tmp_ / "c").string()}}).size(), 6);
}

TEST_F(LoadDatasetTest, FirstRootWins) {
  write_split(tmp_ / "first" / "mnist", "t10k", 3);
  write_split(tmp_ / "second" / "mnist", "t10k", 9);
  const DataRoots roots{{(tmp_ / "missing").string(), (tmp_ / "first").string(), (tmp_ / "second").string()}};
  EXPECT_EQ(load_dataset("mnist", roots).size(), 3);
  const DataRoots reversed{{(tmp_ / "second").string(), (tmp_ / "first").string()}};
  EXPECT_EQ(load_dataset("mnist", reversed).size(), 9);
}

TEST_F(LoadDatasetTest, MissingLabelsLoadsUnlabeled) {
  write_split(tmp_ / "mnist", "t10k", 3, ".gz", /*with_labels=*/false);
  const ImageDataset ds = load_dataset("mnist", DataRoots{{tmp_.string()}});
  EXPECT_EQ(ds.size(), 3);
  EXPECT_FALSE(ds.has_labels());
}

TEST_F(LoadDatasetTest, Limit) {
  write_split(tmp_ / "mnist", "t10k", 10);
  const DataRoots roots{{tmp_.string()}};
  const ImageDataset ds = load_dataset("mnist:test", roots, 4);
  EXPECT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.labels.size(0), 4);
  EXPECT_EQ(ds.images[3].min().item<int>(), 3);
  EXPECT_EQ(load_dataset("mnist:test", roots, 0).size(), 10);
  EXPECT_NE(error_of("mnist:test", roots, -2).find("limit must be >= 0"), std::string::npos);
}

TEST_F(LoadDatasetTest, NotFoundListsEverySearchedDirectoryAndHowToGetIt) {
  const std::string a = (tmp_ / "a").string(), b = (tmp_ / "b").string();
  const std::string what = error_of("fashion-mnist:train", DataRoots{{a, b}});
  EXPECT_NE(what.find("fashion-mnist:train"), std::string::npos) << what;
  EXPECT_NE(what.find("train-images-idx3-ubyte"), std::string::npos) << what;
  for (const auto& root : {a, b}) {
    for (const char* sub : {"/fashion-mnist", "/fashionmnist", "/FashionMNIST/raw"}) {
      EXPECT_NE(what.find(root + sub), std::string::npos) << root + sub << " not in: " << what;
    }
  }
  EXPECT_LT(what.find(a + "/fashion-mnist"), what.find(b + "/fashion-mnist")) << "roots out of order: " << what;
  EXPECT_NE(what.find("apt-get install dataset-fashion-mnist"), std::string::npos) << what;
  EXPECT_NE(what.find("FLOWOOD_DATA"), std::string::npos) << what;

  const std::string mnist = error_of("mnist:train", DataRoots{{a}});
  EXPECT_NE(mnist.find(a + "/mnist"), std::string::npos) << mnist;
  EXPECT_NE(mnist.find(a + "/MNIST/raw"), std::string::npos) << mnist;
  EXPECT_NE(mnist.find("scripts/fetch_data.sh mnist"), std::string::npos) << mnist;
  EXPECT_NE(mnist.find("not mirrored offline"), std::string::npos) << mnist;
}

TEST_F(LoadDatasetTest, IdxPathWithSiblingLabels) {
  write_split(tmp_ / "files", "custom", 7);
  const std::string images = (tmp_ / "files" / "custom-images-idx3-ubyte.gz").string();
  const ImageDataset ds = load_dataset("idx:" + images, DataRoots{});
  EXPECT_EQ(ds.spec, "idx:" + images);
  EXPECT_EQ(ds.size(), 7);
  ASSERT_TRUE(ds.has_labels());
  EXPECT_EQ(ds.files.size(), 2u);

  write_split(tmp_ / "files", "nolabels", 2, "", /*with_labels=*/false);
  EXPECT_FALSE(load_dataset("idx:" + (tmp_ / "files" / "nolabels-images-idx3-ubyte").string(), DataRoots{})
                   .has_labels());
}

TEST_F(LoadDatasetTest, IdxRelativePathIsAlsoTriedUnderRoots) {
  write_split(tmp_ / "files", "rel", 3);
  const DataRoots roots{{(tmp_ / "nothing").string(), tmp_.string()}};
  EXPECT_EQ(load_dataset("idx:files/rel-images-idx3-ubyte.gz", roots).size(), 3);

  const std::string what = error_of("idx:files/absent-images-idx3-ubyte.gz", roots);
  EXPECT_NE(what.find("files/absent-images-idx3-ubyte.gz"), std::string::npos) << what;
  EXPECT_NE(what.find((tmp_ / "nothing" / "files/absent-images-idx3-ubyte.gz").string()), std::string::npos) << what;
}

TEST_F(LoadDatasetTest, MalformedFileErrorNamesIt) {
  fs::create_directories(tmp_ / "mnist");
  write_split(tmp_ / "mnist", "t10k", 4);
  write_idx_labels((tmp_ / "mnist" / "t10k-labels-idx1-ubyte.gz").string(), torch::zeros({3}, torch::kInt64));
  const std::string what = error_of("mnist", DataRoots{{tmp_.string()}});
  EXPECT_NE(what.find("t10k-labels-idx1-ubyte.gz"), std::string::npos) << what;
  EXPECT_NE(what.find("has 3 labels"), std::string::npos) << what;
}

TEST(LoadRealData, FashionMnistTest) {
  const std::string file = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!fs::exists(file)) GTEST_SKIP() << "missing " << file << " (apt-get install dataset-fashion-mnist)";
  const ImageDataset ds = load_dataset("fashion-mnist:test", DataRoots{{"/usr/share/datasets"}});
  EXPECT_EQ(ds.size(), 10000);
  EXPECT_EQ(ds.image_shape(), (std::vector<int64_t>{1, 28, 28}));
  ASSERT_TRUE(ds.has_labels());
  EXPECT_EQ(label_counts(ds.labels), std::vector<int64_t>(10, 1000));
  EXPECT_EQ(ds.files.front(), file);
}

TEST(LoadRealData, MnistTestFromSharedRoot) {
  const fs::path root = fs::path(FLOWOOD_SOURCE_DIR) / ".." / "shared" / "data";
  const fs::path file = root / "mnist" / "t10k-images-idx3-ubyte.gz";
  if (!fs::exists(file)) GTEST_SKIP() << "missing " << file.string() << " (the offline MNIST mirror beside the checkout; elsewhere scripts/fetch_data.sh mnist)";
  const ImageDataset ds = load_dataset("mnist:test", DataRoots{{root.string()}});
  EXPECT_EQ(ds.size(), 10000);
  EXPECT_EQ(ds.image_shape(), (std::vector<int64_t>{1, 28, 28}));
  ASSERT_TRUE(ds.has_labels());
  EXPECT_EQ(label_counts(ds.labels), (std::vector<int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  EXPECT_EQ(ds.images.max().item<int>(), 255);
}
