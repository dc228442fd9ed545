// Feature arrays: NPY, NPZ (stored and deflated), CSV, ARFF; load_features on image specs;
// malformed inputs naming the file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/features.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/io/npy.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::npy_bytes;
using flowood::testing::raw_bytes;
using flowood::testing::TempDir;
using flowood::testing::write_text;

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class FeaturesTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  TempDir dir_{"features"};  // outside the repository
};

TEST_F(FeaturesTest, NpyFloat64AndLabels) {
  flowood::io::write_npy(file("x.npy"), torch::arange(12, torch::kFloat64).view({4, 3}));
  flowood::io::write_npy(file("y.npy"), torch::tensor({3, 1, 4, 1}));
  const FeatureDataset ds = load_features("npy:" + file("x.npy") + "?labels=" + file("y.npy"), DataRoots{});
  EXPECT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.dim(), 3);
  EXPECT_EQ(ds.features.scalar_type(), torch::kFloat32);
  EXPECT_EQ(ds.features[3][2].item<float>(), 11.0f);
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({3, 1, 4, 1})));
  EXPECT_EQ(ds.files.size(), 2u);
  EXPECT_EQ(load_features("npy:" + file("x.npy"), DataRoots{}, 2).size(), 2);

  flowood::io::write_npy(file("short.npy"), torch::tensor({1, 2}));
  std::string what = data_error_of([&] { load_features("npy:" + file("x.npy") + "?labels=" + file("short.npy"), DataRoots{}); });
  EXPECT_NE(what.find("has 2 labels"), std::string::npos) << what;
}

TEST_F(FeaturesTest, NpyBadHeaderAndShapeNameTheFile) {
  write_text(file("bad.npy"), "\x93NUMPY\x01\x00\x10\x00{'descr': '<f4', ");
  std::string what = data_error_of([&] { load_features("npy:" + file("bad.npy"), DataRoots{}); });
  EXPECT_NE(what.find(file("bad.npy")), std::string::npos) << what;
  EXPECT_EQ(what.find(file("bad.npy") + ": " + file("bad.npy")), std::string::npos) << "path repeated: " << what;

  write_text(file("text.npy"), "hello world, not numpy");
  what = data_error_of([&] { load_features("npy:" + file("text.npy"), DataRoots{}); });
  EXPECT_NE(what.find("magic"), std::string::npos) << what;

  flowood::io::write_npy(file("cube.npy"), torch::zeros({2, 2, 2}, torch::kFloat32));
  what = data_error_of([&] { load_features("npy:" + file("cube.npy"), DataRoots{}); });
  EXPECT_NE(what.find("[N, D]"), std::string::npos) << what;
  EXPECT_NE(what.find("[2, 2, 2]"), std::string::npos) << what;

  // Image loaders refuse feature specs with a clear message.
  what = data_error_of([&] { load_dataset("npy:" + file("cube.npy"), DataRoots{}); });
  EXPECT_NE(what.find("feature-array dataset"), std::string::npos) << what;
}

TEST_F(FeaturesTest, NpzStoredAndDeflatedMembers) {
  const std::vector<float> emb = {1, 2, 3, 4, 5, 6};
  const std::vector<int32_t> labels = {7, 8};
  flowood::testing::ZipWriter zip;
  zip.add("embeddings.npy", npy_bytes("<f4", {2, 3}, raw_bytes(emb)), /*deflate=*/true);
  zip.add("labels.npy", npy_bytes("<i4", {2}, raw_bytes(labels)), /*deflate=*/false);
  zip.write(file("f.npz"));

  FeatureDataset ds = load_features("npz:" + file("f.npz"), DataRoots{});  // the only non-label array
  EXPECT_TRUE(torch::equal(ds.features, torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).view({2, 3})));
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({7, 8})));
  ds = load_features("npz:" + file("f.npz") + "#embeddings", DataRoots{});
  EXPECT_EQ(ds.spec, "npz:" + file("f.npz") + "#embeddings");
  EXPECT_EQ(npz_array_names(file("f.npz")), (std::vector<std::string>{"embeddings", "labels"}));

  std::string what = data_error_of([&] { load_features("npz:" + file("f.npz") + "#features", DataRoots{}); });
  EXPECT_NE(what.find("no array \"features\""), std::string::npos) << what;
  EXPECT_NE(what.find("embeddings, labels"), std::string::npos) << what;

  flowood::testing::ZipWriter two;
  two.add("a.npy", npy_bytes("<f8", {1, 1}, raw_bytes(std::vector<double>{1})), false);
  two.add("b.npy", npy_bytes("<f8", {1, 1}, raw_bytes(std::vector<double>{2})), false);
  two.write(file("two.npz"));
  what = data_error_of([&] { load_features("npz:" + file("two.npz"), DataRoots{}); });
  EXPECT_NE(what.find("#NAME"), std::string::npos) << what;
  EXPECT_EQ(load_features("npz:" + file("two.npz") + "?array=b", DataRoots{}).features.item<float>(), 2.0f);
}

TEST_F(FeaturesTest, NpzCorruptionNamesTheFile) {
  flowood::testing::ZipWriter zip;
  zip.add("x.npy", npy_bytes("<f4", {1, 2}, raw_bytes(std::vector<float>{1, 2})), true);
  zip.write(file("c.npz"));
  std::string bytes = flowood::testing::read_text(file("c.npz"));
  bytes[40] ^= 0x55;  // inside the deflated data (local header 30 + name 5 bytes before it)
  write_text(file("c.npz"), bytes);
  std::string what = data_error_of([&] { load_features("npz:" + file("c.npz"), DataRoots{}); });
  EXPECT_NE(what.find(file("c.npz") + ":x.npy"), std::string::npos) << what;

  flowood::testing::truncate_file(file("c.npz"), 40);
  what = data_error_of([&] { load_features("npz:" + file("c.npz"), DataRoots{}); });
  EXPECT_NE(what.find("not a zip archive"), std::string::npos) << what;

  flowood::testing::ZipWriter bad;
  bad.add("x.npy", "\x93NUMPY\x01\x00\x05\x00{'des", false);
  bad.write(file("h.npz"));
  what = data_error_of([&] { load_features("npz:" + file("h.npz"), DataRoots{}); });
  EXPECT_NE(what.find(file("h.npz") + ":x.npy"), std::string::npos) << what;
}

TEST_F(FeaturesTest, CsvHeaderLabelsQuotesAndDelimiters) {
  write_text(file("t.csv"), "# comment\nf1,f2,\"class\"\n1.5,2,cat\n-3,4e2,dog\n\n5,6,cat\n");
  FeatureDataset ds = load_features("csv:" + file("t.csv") + "?label=class", DataRoots{});
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.dim(), 2);
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 1, 0})));
  EXPECT_EQ(ds.features[1][1].item<float>(), 400.0f);

  // letter-recognition.data style: no header, text label first.
  write_text(file("letters.data"), "T,2,8\nI,5,12\nD,4,11\n");
  ds = load_features("csv:" + file("letters.data") + "?label=first", DataRoots{});
  EXPECT_EQ(ds.size(), 3);
  EXPECT_TRUE(ds.feature_names.empty());
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({2, 1, 0})));

  write_text(file("t.tsv"), "1\t2\t0\n3\t4\t1\n");
  ds = load_features("csv:" + file("t.tsv") + "?label=last", DataRoots{});
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 1})));  // integer labels stay
  write_text(file("s.txt"), "1  2   3\n 4 5 6\n");
  EXPECT_EQ(load_features("csv:" + file("s.txt") + "?delimiter=space", DataRoots{}).dim(), 3);
  EXPECT_EQ(load_features("csv:" + file("s.txt"), DataRoots{}).dim(), 3);
  write_text(file("semi.csv"), "a;b\n1;2\n");
  EXPECT_EQ(load_features("csv:" + file("semi.csv") + "?header=yes", DataRoots{}).feature_names,
            (std::vector<std::string>{"a", "b"}));
}

TEST_F(FeaturesTest, CsvRaggedAndNonNumericNameLine) {
  write_text(file("r.csv"), "1,2,3\n4,5,6\n7,8\n");
  std::string what = data_error_of([&] { load_features("csv:" + file("r.csv"), DataRoots{}); });
  EXPECT_NE(what.find(file("r.csv")), std::string::npos) << what;
  EXPECT_NE(what.find("line 3: 2 fields, expected 3"), std::string::npos) << what;

  write_text(file("n.csv"), "a,b\n1,2\n3,x\n");
  what = data_error_of([&] { load_features("csv:" + file("n.csv"), DataRoots{}); });
  EXPECT_NE(what.find("line 3, column 2 (b): expected a number, found \"x\""), std::string::npos) << what;

  write_text(file("m.csv"), "1,2\n3,\n");
  what = data_error_of([&] { load_features("csv:" + file("m.csv"), DataRoots{}); });
  EXPECT_NE(what.find("missing value"), std::string::npos) << what;

  what = data_error_of([&] { load_features("csv:" + file("n.csv") + "?label=zz", DataRoots{}); });
  EXPECT_NE(what.find("no label column \"zz\""), std::string::npos) << what;
  EXPECT_NE(what.find("among a, b"), std::string::npos) << what;
  what = data_error_of([&] { load_features("csv:" + file("r.csv") + "?delimiter=ab", DataRoots{}); });
  EXPECT_NE(what.find("option delimiter=ab"), std::string::npos) << what;
}

TEST_F(FeaturesTest, ArffNumericAndNominal) {
  write_text(file("iris.arff"),
             "% a comment\n@RELATION iris\n\n@ATTRIBUTE 'sepal length' REAL\n@attribute width numeric\n"
             "@attribute colour {red,'dark blue'}\n@attribute class {Iris-setosa,Iris-versicolor}\n@DATA\n"
             "5.1,3.5,red,Iris-setosa\n4.9,3.0,'dark blue',Iris-versicolor\n");
  const FeatureDataset ds = load_features("arff:" + file("iris.arff"), DataRoots{});
  EXPECT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.dim(), 3);
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"sepal length", "width", "colour"}));
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"Iris-setosa", "Iris-versicolor"}));
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 1})));
  EXPECT_EQ(ds.features[1][2].item<float>(), 1.0f);
  EXPECT_FALSE(load_features("arff:" + file("iris.arff") + "?label=none", DataRoots{}).has_labels());
  EXPECT_EQ(load_features("arff:" + file("iris.arff") + "?label=none", DataRoots{}).dim(), 4);
}

TEST_F(FeaturesTest, ArffErrorsNameLine) {
  write_text(file("a.arff"), "@relation r\n@attribute x numeric\n@attribute c {a,b}\n@data\n1,a\n?,b\n");
  std::string what = data_error_of([&] { load_features("arff:" + file("a.arff"), DataRoots{}); });
  EXPECT_NE(what.find(file("a.arff")), std::string::npos) << what;
  EXPECT_NE(what.find("line 6: missing value"), std::string::npos) << what;
  write_text(file("b.arff"), "@relation r\n@attribute s string\n@data\nx\n");
  EXPECT_NE(data_error_of([&] { load_features("arff:" + file("b.arff"), DataRoots{}); }).find("line 2"), std::string::npos);
  write_text(file("c.arff"), "@relation r\n@attribute x numeric\n@attribute c {a,b}\n@data\n1,a\n2\n");
  EXPECT_NE(data_error_of([&] { load_features("arff:" + file("c.arff"), DataRoots{}); }).find("line 6: 1 values, expected 2"),
            std::string::npos);
  write_text(file("d.arff"), "@relation r\n@attribute x numeric\n@data\n{0 1}\n");
  EXPECT_NE(data_error_of([&] { load_features("arff:" + file("d.arff"), DataRoots{}); }).find("sparse"), std::string::npos);
}

TEST_F(FeaturesTest, ImageSpecsFlattenToUnitFeatures) {
  const FeatureDataset ds = load_features("constant?shape=1x2x2&n=3", DataRoots{});
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.dim(), 4);
  EXPECT_LE(ds.features.max().item<float>(), 1.0f);
  EXPECT_EQ(ds.spec, "constant?shape=1x2x2&n=3");
}

// `run` checks every set before training the way the loaders resolve it: a relative path that is
// not in the working directory is found under the data roots (the tabular experiments name
// `csv:letter-recognition.data` and find it through FLOWOOD_DATA); missing everywhere, the error
// names every place tried.
TEST_F(FeaturesTest, AvailabilityCheckSearchesRelativePathsUnderRoots) {
  write_text(file("rows.csv"), "1,2,A\n3,4,B\n");
  const DataRoots roots{{"/nonexistent-root", dir_.path().string()}};
  EXPECT_NO_THROW(check_dataset_available("csv:rows.csv?label=last", roots));
  EXPECT_EQ(load_features("csv:rows.csv?label=last", roots).size(), 2);
  EXPECT_NO_THROW(check_dataset_available("csv:" + file("rows.csv"), DataRoots{}));
  const std::string what = data_error_of([&] { check_dataset_available("csv:absent.csv", roots); });
  EXPECT_NE(what.find("/nonexistent-root/absent.csv"), std::string::npos) << what;
  EXPECT_NE(what.find(file("absent.csv")), std::string::npos) << what;
  EXPECT_NE(data_error_of([&] { check_dataset_available("csv:rows.csv", DataRoots{}); }).find("no such file"),
            std::string::npos);
}
