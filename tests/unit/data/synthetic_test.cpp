// Synthetic OOD sets: shapes, determinism (image i depends only on seed and i), value statistics,
// coloured digits from MNIST.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/idx.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/synthetic.hpp"
#include "temp_dir.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::TempDir;

TEST(Synthetic, UniformNoiseShapeDeterminismAndPrefixes) {
  const ImageDataset a = load_dataset("noise:uniform?shape=3x32x32&n=50&seed=1", DataRoots{});
  EXPECT_EQ(a.spec, "noise:uniform?shape=3x32x32&n=50&seed=1");
  EXPECT_EQ(a.size(), 50);
  EXPECT_EQ(a.image_shape(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_FALSE(a.has_labels());
  EXPECT_TRUE(a.files.empty());
  EXPECT_TRUE(torch::equal(a.images, load_dataset("noise:uniform?n=50&seed=1", DataRoots{}).images));
  EXPECT_FALSE(torch::equal(a.images, load_dataset("noise?n=50&seed=2", DataRoots{}).images));
  // A limit keeps a prefix of the same images.
  EXPECT_TRUE(torch::equal(load_dataset("noise?n=50&seed=1", DataRoots{}, 7).images, a.images.narrow(0, 0, 7)));
  const double mean = a.images.to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(mean, 127.5, 3.0);
  EXPECT_EQ(a.images.min().item<int>(), 0);
  EXPECT_EQ(a.images.max().item<int>(), 255);
  EXPECT_EQ(load_dataset("noise", DataRoots{}).size(), 10000);  // default n
  // Pinned values: the generator is fully specified, so these hold on every platform.
  const auto first = uniform_noise_images(1, {1, 1, 4}, 0);
  const auto again = uniform_noise_images(1, {1, 1, 4}, 0);
  EXPECT_TRUE(torch::equal(first, again));
}

TEST(Synthetic, GaussianNoiseStatistics) {
  const ImageDataset g = load_dataset("noise:gaussian?shape=1x28x28&n=200", DataRoots{});
  EXPECT_EQ(g.image_shape(), (std::vector<int64_t>{1, 28, 28}));
  const auto v = g.images.to(torch::kFloat64);
  EXPECT_NEAR(v.mean().item<double>(), 127.5, 1.5);
  // sd 63.75 before clamping at 0 and 255 (2 sd away), which trims it to about 0.96 of that.
  EXPECT_NEAR(v.std().item<double>(), 61.2, 1.5);
}

TEST(Synthetic, ConstantImagesAreOneColourEach) {
  const ImageDataset c = load_dataset("constant?n=20&seed=3", DataRoots{});
  EXPECT_EQ(c.image_shape(), (std::vector<int64_t>{3, 32, 32}));
  for (int64_t i = 0; i < 20; ++i) {
    for (int64_t ch = 0; ch < 3; ++ch) {
      EXPECT_EQ(c.images[i][ch].min().item<int>(), c.images[i][ch].max().item<int>()) << i;
    }
  }
  EXPECT_GT(c.images.to(torch::kFloat32).std().item<float>(), 30.0f);  // colours differ
}

TEST(Synthetic, ColouredDigitsFromMnist) {
  TempDir dir("coloured_digits");
  fs::create_directories(dir.path() / "mnist");
  // Ten 28x28 "digits": a filled 10x10 square of 255 in the middle, labels 0..9.
  auto digits = torch::zeros({10, 1, 28, 28}, torch::kUInt8);
  digits.narrow(2, 9, 10).narrow(3, 9, 10).fill_(255);
  write_idx_images((dir.path() / "mnist" / "t10k-images-idx3-ubyte.gz").string(), digits);
  write_idx_labels((dir.path() / "mnist" / "t10k-labels-idx1-ubyte.gz").string(), torch::arange(10));
  const DataRoots roots{{dir.path().string()}};

  const ImageDataset ds = load_dataset("coloured-digits?n=10&seed=4", roots);
  EXPECT_EQ(ds.image_shape(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_TRUE(torch::equal(ds.labels, torch::arange(10)));
  EXPECT_EQ(ds.files.size(), 2u);  // the MNIST files, for the run manifest
  for (int64_t i = 0; i < 10; ++i) {
    const auto img = ds.images[i].to(torch::kFloat64);
    // Background: the corner pixel's colour fills the border; the square is another colour.
    const auto corner = img.select(2, 0).select(1, 0);
    const auto centre = img.select(2, 16).select(1, 16);
    const double luma_bg = 0.299 * corner[0].item<double>() + 0.587 * corner[1].item<double>() + 0.114 * corner[2].item<double>();
    const double luma_fg = 0.299 * centre[0].item<double>() + 0.587 * centre[1].item<double>() + 0.114 * centre[2].item<double>();
    EXPECT_GE(std::abs(luma_fg - luma_bg), 95.0) << i;
  }
  EXPECT_TRUE(torch::equal(load_dataset("coloured-digits?n=10&seed=4", roots, 3).images, ds.images.narrow(0, 0, 3)));

  std::string what = data_error_of([&] { load_dataset("coloured-digits?n=11", roots); });
  EXPECT_NE(what.find("only 10 digits"), std::string::npos) << what;
  what = data_error_of([&] { load_dataset("coloured-digits", DataRoots{{(dir.path() / "none").string()}}); });
  EXPECT_NE(what.find("needs the MNIST test digits"), std::string::npos) << what;
}

TEST(Synthetic, BadOptions) {
  EXPECT_NE(data_error_of([] { load_dataset("noise?shape=2x32x32", DataRoots{}); }).find("C = 1 or 3"), std::string::npos);
  EXPECT_NE(data_error_of([] { load_dataset("noise?n=0", DataRoots{}); }).find("option n=0"), std::string::npos);
  EXPECT_NE(data_error_of([] { load_dataset("constant?seed=x", DataRoots{}); }).find("option seed=x"), std::string::npos);
  EXPECT_NE(data_error_of([] { load_dataset("coloured-digits?shape=1x28x28", DataRoots{}); }).find("unknown option"),
            std::string::npos);
  EXPECT_NE(data_error_of([] { load_dataset("constant:test", DataRoots{}); }).find("takes no split"), std::string::npos);
}
