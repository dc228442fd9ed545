// Feature extractors: the classifier network's shapes and determinism, classifier training
// (checkpoint, resume, accuracy), TorchScript modules built here in C++ (load, output shapes,
// clear errors), preprocessing, and the .npz layout `flowood embed` writes.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/data/features.hpp"
#include "flowood/embedding/classifier.hpp"
#include "flowood/embedding/classifier_training.hpp"
#include "flowood/embedding/extractor.hpp"
#include "flowood/io/json_file.hpp"
#include "temp_dir.hpp"
#include "torchscript_fixture.hpp"

namespace em = flowood::embedding;
using flowood::testing::TempDir;

namespace {

/// n images 1×12×12 of two classes: horizontal stripes (class 0) or vertical stripes (class 1),
/// plus noise.
flowood::data::ImageDataset two_class_images(int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  flowood::data::ImageDataset d;
  d.spec = "two-class";
  d.labels = torch::arange(n, torch::kInt64).remainder(2);
  auto x = torch::rand({n, 1, 12, 12}, gen) * 60;
  const auto rows = torch::arange(12).remainder(2).to(torch::kFloat32);
  const auto horizontal = rows.view({1, 1, 12, 1}).expand({1, 1, 12, 12});
  const auto vertical = rows.view({1, 1, 1, 12}).expand({1, 1, 12, 12});
  const auto y = d.labels.to(torch::kFloat32).view({n, 1, 1, 1});
  x = x + 180 * (y * vertical + (1 - y) * horizontal);
  d.images = x.clamp(0, 255).to(torch::kUInt8);
  return d;
}

}  // namespace

TEST(ClassifierNetTest, ShapesAndParameterFreeFeatures) {
  torch::manual_seed(0);
  em::ClassifierNet net(em::ClassifierNetOptions(3, 7).width(4).depth(2));
  net->eval();
  const auto x = torch::rand({5, 3, 16, 16});
  const auto f = net->features(x);
  EXPECT_EQ(f.sizes(), (std::vector<int64_t>{5, 16}));
  EXPECT_EQ(net->feature_dim(), 16);
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{5, 7}));
  // Eval mode: an example's features do not depend on the rest of the batch.
  EXPECT_TRUE(torch::allclose(net->features(x.narrow(0, 2, 1)), f.narrow(0, 2, 1), 1e-5, 1e-6));
  EXPECT_EQ(c10::str(*net).rfind("flowood::ClassifierNet(in_channels=3, classes=7, width=4, depth=2, features=16)", 0), 0u);
}

TEST(ClassifierNetTest, RejectsBadOptionsByKey) {
  try {
    em::ClassifierNet(em::ClassifierNetOptions(1, 10).width(0));
    FAIL() << "width 0 accepted";
  } catch (const flowood::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("embedding.width"), std::string::npos) << e.what();
  }
  EXPECT_THROW(em::ClassifierNet(em::ClassifierNetOptions(1, 1)), flowood::DataError);
}

TEST(ClassifierTrainingTest, LearnsSeparableClassesCheckpointsAndResumes) {
  TempDir dir("classifier");
  const auto train = two_class_images(192, 1), test = two_class_images(64, 2);
  em::ClassifierTrainOptions o;
  o.config.extractor = "classifier";
  o.config.width = 4;
  o.config.batch_size = 32;
  o.config.epochs = 10;  // 60 steps: batch-norm running statistics settle (eval mode)
  o.config.lr = 1e-2;
  o.dir = dir.file("extractor");
  o.config_text = "name: t\n";
  o.log_every = 1000;
  const auto r = em::train_classifier(train, test, o);
  EXPECT_EQ(r.steps, 60);
  EXPECT_FALSE(r.stopped);
  EXPECT_GT(r.test_accuracy, 0.9);
  const auto metrics = flowood::io::read_json_file(o.dir + "/metrics.json");
  EXPECT_EQ(metrics["step"], 60);
  EXPECT_DOUBLE_EQ(metrics["test_accuracy"].get<double>(), r.test_accuracy);
  // A second call finds the final checkpoint and does not train again.
  const auto again = em::train_classifier(train, test, o);
  EXPECT_EQ(again.resumed_from, 60);
  EXPECT_DOUBLE_EQ(again.test_accuracy, r.test_accuracy);

  // The checkpoint rebuilds as an extractor: 4w features and logits, deterministic.
  auto extractor = em::make_extractor(o.config, o.dir + "/checkpoint.pt", torch::kCPU);
  ASSERT_TRUE(extractor->has_logits());
  const auto a = extractor->embed(test, 16), b = extractor->embed(test, 64);
  EXPECT_EQ(a.features.sizes(), (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(a.logits.sizes(), (std::vector<int64_t>{64, 2}));
  EXPECT_TRUE(torch::allclose(a.features, b.features, 1e-5, 1e-6)) << "features depend on the batch size";
  EXPECT_TRUE(torch::equal(a.labels, test.labels));
  const double agree = a.logits.argmax(1).eq(test.labels).to(torch::kFloat64).mean().item<double>();
  EXPECT_DOUBLE_EQ(agree, r.test_accuracy);
}

TEST(ClassifierTrainingTest, StopFlagCheckpointsAndResumeMatchesAnUninterruptedRun) {
  TempDir dir("classifier_stop");
  const auto train = two_class_images(96, 3), test = two_class_images(32, 4);
  em::ClassifierTrainOptions o;
  o.config.extractor = "classifier";
  o.config.width = 2;
  o.config.batch_size = 16;
  o.config.epochs = 2;
  o.log_every = 1000;
  o.dir = dir.file("straight");
  em::train_classifier(train, test, o);

  std::atomic<bool> stop{true};
  o.dir = dir.file("stopped");
  o.stop = &stop;
  const auto first = em::train_classifier(train, test, o);
  EXPECT_TRUE(first.stopped);
  EXPECT_EQ(first.steps, 1);
  stop = false;
  const auto rest = em::train_classifier(train, test, o);
  EXPECT_EQ(rest.resumed_from, 1);
  EXPECT_EQ(rest.steps, 12);
  const auto x = test;
  const auto a = em::make_extractor(o.config, dir.file("straight/checkpoint.pt"), torch::kCPU)->embed(x, 32);
  const auto b = em::make_extractor(o.config, dir.file("stopped/checkpoint.pt"), torch::kCPU)->embed(x, 32);
  EXPECT_TRUE(torch::allclose(a.features, b.features, 1e-5, 1e-6)) << "resumed run differs from the uninterrupted one";
}

TEST(ClassifierTrainingTest, NeedsLabels) {
  TempDir dir("classifier_nolabels");
  auto train = two_class_images(16, 1);
  train.labels = torch::Tensor();
  em::ClassifierTrainOptions o;
  o.dir = dir.file("x");
  try {
    em::train_classifier(train, train, o);
    FAIL() << "trained without labels";
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("two-class"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no labels"), std::string::npos) << e.what();
  }
}

TEST(TorchScriptExtractorTest, LoadsAModuleBuiltInCpp) {
  TempDir dir("torchscript");
  const auto path = dir.file("net.pt");
  flowood::testing::save_feature_module(path, 1);
  flowood::config::EmbeddingConfig c;
  c.extractor = "torchscript:" + path;
  auto extractor = em::make_extractor(c, "", torch::kCPU);
  EXPECT_FALSE(extractor->has_logits());
  const auto data = two_class_images(10, 5);
  const auto e = extractor->embed(data, 4);
  EXPECT_EQ(e.features.sizes(), (std::vector<int64_t>{10, 32}));
  EXPECT_FALSE(e.logits.defined());
  EXPECT_TRUE(torch::allclose(e.features, extractor->embed(data, 10).features));
  // The identity changes with the module's bytes and the preprocessing.
  const auto id = extractor->identity();
  c.resize = {16, 16};
  EXPECT_NE(em::make_extractor(c, "", torch::kCPU)->identity(), id);
  EXPECT_EQ(em::make_extractor(c, "", torch::kCPU)->embed(data, 5).features.size(1), 32);

  // A 4-D output map is flattened.
  flowood::testing::save_feature_module(dir.file("map.pt"), 1, "4d");
  c.extractor = "torchscript:" + dir.file("map.pt");
  EXPECT_EQ(em::make_extractor(c, "", torch::kCPU)->embed(data, 5).features.size(1), 32);
}

TEST(TorchScriptExtractorTest, ClearErrors) {
  TempDir dir("torchscript_errors");
  flowood::config::EmbeddingConfig c;
  const auto data = two_class_images(4, 5);
  const auto message = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const flowood::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // missing file
  c.extractor = "torchscript:" + dir.file("missing.pt");
  auto m = message([&] { em::make_extractor(c, "", torch::kCPU); });
  EXPECT_NE(m.find("missing.pt"), std::string::npos) << m;
  EXPECT_NE(m.find("no TorchScript module"), std::string::npos) << m;
  // not a module
  std::ofstream(dir.file("junk.pt")) << "not a zip";
  c.extractor = "torchscript:" + dir.file("junk.pt");
  m = message([&] { em::make_extractor(c, "", torch::kCPU); });
  EXPECT_NE(m.find("not a loadable TorchScript module"), std::string::npos) << m;
  // output neither 2-D nor 4-D
  flowood::testing::save_feature_module(dir.file("3d.pt"), 1, "3d");
  c.extractor = "torchscript:" + dir.file("3d.pt");
  m = message([&] { em::make_extractor(c, "", torch::kCPU)->embed(data, 4); });
  EXPECT_NE(m.find("[4, 8, 4]"), std::string::npos) << m;
  EXPECT_NE(m.find("expected [B, D]"), std::string::npos) << m;
  // input the module rejects: a 3-channel network given grey images
  flowood::testing::save_feature_module(dir.file("rgb.pt"), 3);
  c.extractor = "torchscript:" + dir.file("rgb.pt");
  m = message([&] { em::make_extractor(c, "", torch::kCPU)->embed(data, 4); });
  EXPECT_NE(m.find("two-class"), std::string::npos) << m;
  EXPECT_NE(m.find("rejects input of shape [4, 1, 12, 12]"), std::string::npos) << m;
  // ... which embedding.channels: 3 fixes
  c.channels = 3;
  EXPECT_EQ(em::make_extractor(c, "", torch::kCPU)->embed(data, 4).features.size(1), 32);
  // unknown extractor name
  c.extractor = "resnet";
  m = message([&] { em::make_extractor(c, "", torch::kCPU); });
  EXPECT_NE(m.find("embedding.extractor"), std::string::npos) << m;
  // a classifier without its checkpoint
  c.extractor = "classifier";
  m = message([&] { em::make_extractor(c, dir.file("run/extractor/checkpoint.pt"), torch::kCPU); });
  EXPECT_NE(m.find("no classifier checkpoint"), std::string::npos) << m;
}

TEST(PreprocessTest, ResizeReplicateNormalise) {
  flowood::config::EmbeddingConfig c;
  c.resize = {4, 6};
  c.channels = 3;
  c.mean = {0.5, 0.25, 0.0};
  c.std = {0.5, 0.25, 1.0};
  const auto x = torch::full({2, 1, 2, 3}, 0.5);
  const auto y = em::preprocess_images(x, c, "s");
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 4, 6}));
  EXPECT_NEAR(y[0][0][1][1].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(y[0][1][1][1].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(y[0][2][1][1].item<double>(), 0.5, 1e-6);
  c.mean = {0.1, 0.2};
  c.std = {1.0, 1.0};
  EXPECT_THROW(em::preprocess_images(x, c, "s"), flowood::DataError);
}

TEST(NpzTest, WriteThenReadBack) {
  TempDir dir("npz");
  const auto features = torch::randn({7, 5});
  const auto labels = torch::arange(7, torch::kInt64);
  const auto logits = torch::randn({7, 3});
  const auto path = dir.file("e.npz");
  flowood::data::write_npz(path, {{"embeddings", features}, {"labels", labels}, {"logits", logits}});
  EXPECT_EQ(flowood::data::npz_array_names(path), (std::vector<std::string>{"embeddings", "labels", "logits"}));
  const auto back = flowood::data::read_npz_features(path, "embeddings");
  EXPECT_TRUE(torch::equal(back.features, features));
  EXPECT_TRUE(torch::equal(back.labels, labels));
  EXPECT_TRUE(torch::equal(flowood::data::read_npz_features(path, "logits").features, logits));
}
