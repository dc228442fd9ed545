// Selection options every dataset kind accepts: classes=, part=, holdout=, part_seed=, skip=.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/selection.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::TempDir;
using flowood::testing::write_text;

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class SelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 40 rows: feature 0 is the row number, the label a letter (a: rows 0-9, b: 10-29, c: 30-39).
    std::string csv = "id,x,cls\n";
    for (int i = 0; i < 40; ++i) csv += std::to_string(i) + "," + std::to_string(i * 0.5) + "," + (i < 10 ? "a" : i < 30 ? "b" : "c") + "\n";
    write_text(file(), csv);
  }
  std::string file() const { return dir_.file("rows.csv"); }
  std::string spec(const std::string& options) const { return "csv:" + file() + "?label=cls&" + options; }
  std::set<int64_t> ids(const FeatureDataset& ds) const {
    std::set<int64_t> out;
    for (int64_t i = 0; i < ds.size(); ++i) out.insert(static_cast<int64_t>(ds.features[i][0].item<float>()));
    return out;
  }
  TempDir dir_{"selection"};
};

TEST_F(SelectionTest, ClassesByNameOrValue) {
  const auto b = load_features(spec("classes=b"), DataRoots{});
  EXPECT_EQ(b.size(), 20);
  EXPECT_EQ(*ids(b).begin(), 10);
  EXPECT_TRUE(torch::all(b.labels == 1).item<bool>());
  const auto ac = load_features(spec("classes=0,c"), DataRoots{});
  EXPECT_EQ(ac.size(), 20);
  EXPECT_EQ(ids(ac).count(5) + ids(ac).count(35), 2u);
  EXPECT_EQ(load_features(spec("classes=b"), DataRoots{}, 3).size(), 3) << "limit applies after the selection";
}

TEST_F(SelectionTest, PartsAreDisjointCoverEverythingAndAreSeeded) {
  const auto train = load_features(spec("classes=b&part=train&holdout=0.25"), DataRoots{});
  const auto test = load_features(spec("classes=b&part=test&holdout=0.25"), DataRoots{});
  EXPECT_EQ(test.size(), 5);  // ceil(0.25 · 20)
  EXPECT_EQ(train.size(), 15);
  std::set<int64_t> all = ids(train);
  for (int64_t id : ids(test)) EXPECT_TRUE(all.insert(id).second) << "row " << id << " in both parts";
  EXPECT_EQ(all.size(), 20u);
  EXPECT_EQ(*all.begin(), 10);
  // Rows keep the file's order; the same seed gives the same parts, another seed others.
  EXPECT_TRUE(torch::all(train.features.select(1, 0).diff() > 0).item<bool>());
  EXPECT_EQ(ids(load_features(spec("classes=b&part=test&holdout=0.25"), DataRoots{})), ids(test));
  EXPECT_NE(ids(load_features(spec("classes=b&part=test&holdout=0.25&part_seed=7"), DataRoots{})), ids(test));
  EXPECT_EQ(load_features(spec("part=test"), DataRoots{}).size(), 4) << "default holdout 0.1 of 40";
}

TEST_F(SelectionTest, SkipDropsTheFirstExamplesAfterTheOtherOptions) {
  const auto rest = load_features(spec("classes=b&skip=15"), DataRoots{});
  EXPECT_EQ(ids(rest), (std::set<int64_t>{25, 26, 27, 28, 29}));
  // With a limit, skip gives what a run limited to the first N never sees.
  EXPECT_EQ(ids(load_features(spec("skip=38"), DataRoots{}, 5)), (std::set<int64_t>{38, 39}));
  const auto msg = data_error_of([&] { load_features(spec("classes=a&skip=10"), DataRoots{}); });
  EXPECT_NE(msg.find("skip=10: only 10 examples"), std::string::npos) << msg;
}

TEST_F(SelectionTest, BadSelectionsNameTheOption) {
  std::string what = data_error_of([&] { load_features(spec("classes=z"), DataRoots{}); });
  EXPECT_NE(what.find("unknown class 'z' (classes: a, b, c)"), std::string::npos) << what;
  what = data_error_of([&] { load_features(spec("classes=7"), DataRoots{}); });
  EXPECT_NE(what.find("no example has label 7"), std::string::npos) << what;
  what = data_error_of([&] { load_features(spec("part=val"), DataRoots{}); });
  EXPECT_NE(what.find("part=val: expected train or test"), std::string::npos) << what;
  what = data_error_of([&] { load_features(spec("holdout=0.2"), DataRoots{}); });
  EXPECT_NE(what.find("need part"), std::string::npos) << what;
  what = data_error_of([&] { load_features(spec("part=test&holdout=1"), DataRoots{}); });
  EXPECT_NE(what.find("strictly between 0 and 1"), std::string::npos) << what;
  write_text(dir_.file("plain.csv"), "1,2\n3,4\n");
  what = data_error_of([&] { load_features("csv:" + dir_.file("plain.csv") + "?classes=1", DataRoots{}); });
  EXPECT_NE(what.find("needs labels"), std::string::npos) << what;
  EXPECT_NE(what.find(dir_.file("plain.csv")), std::string::npos) << what;
}

TEST(SelectionImages, GeneratedImagesAndFeatureExamples) {
  // Image kinds take the same options; load_examples hands feature rows to tabular models.
  const auto noise = load_dataset("noise:uniform?shape=1x4x4&n=50&part=test&holdout=0.2", DataRoots{});
  EXPECT_EQ(noise.size(), 10);
  const auto rows = load_examples("noise:uniform?shape=1x4x4&n=50", DataRoots{}, 7, ExampleForm::kFeatures);
  EXPECT_TRUE(rows.is_features());
  EXPECT_EQ(rows.image_shape(), (std::vector<int64_t>{16}));
  EXPECT_EQ(rows.size(), 7);
  EXPECT_EQ(rows.images.scalar_type(), torch::kFloat32);
  EXPECT_LE(rows.images.max().item<float>(), 1.0f);
}

TEST(SelectionRealData, FashionMnistClasses) {
  const std::string file = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!fs::exists(file)) GTEST_SKIP() << "missing " << file << " (apt-get install dataset-fashion-mnist)";
  const auto ds = load_dataset("fashion-mnist:test?classes=0,9", DataRoots{{"/usr/share/datasets"}});
  EXPECT_EQ(ds.size(), 2000);  // 1,000 per class
  EXPECT_EQ(torch::bincount(ds.labels).narrow(0, 1, 8).sum().item<int64_t>(), 0);
}
