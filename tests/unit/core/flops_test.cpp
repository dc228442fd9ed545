// FLOPs counted from the layers (core/flops.hpp) against hand counts: the authors' FashionMNIST
// RealNVP (7.406 GFLOP per image forward, reference-cpu.md) and small config (0.636 GFLOP), the
// bottleneck st-network's Linear layers, Glow's invertible 1×1 convolution; per image whatever
// the batch; nothing counted without a Counter; nested Counters.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/config/experiment.hpp"
#include "flowood/core/flops.hpp"
#include "flowood/flows/factory.hpp"

namespace fl = flowood::flows;
namespace flops = flowood::flops;

namespace {

flowood::config::ModelConfig realnvp(int64_t blocks, int64_t mid) {
  flowood::config::ModelConfig m;  // defaults: realnvp, 1×28×28, 2 scales, resnet with skips
  m.num_blocks = blocks;
  m.mid_channels = mid;
  return m;
}

struct Count {
  int64_t conv = 0, linear = 0;
  int64_t total() const { return conv + linear; }
};

// One forward (log_prob) of `n` images in training mode without autograd, counted.
Count count_forward(const flowood::config::ModelConfig& config, int64_t n) {
  torch::manual_seed(0);
  auto model = fl::make_flow(config);
  model->train();  // Glow's ActNorm initialises on this first batch
  torch::NoGradGuard no_grad;
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), config.in_shape.begin(), config.in_shape.end());
  const auto x = torch::rand(shape);
  flops::Counter counter;
  (void)model->log_prob(x);
  return {counter.conv(), counter.linear()};
}

// Multiply-adds per pixel of one ResNet st-network (with 1×1 skips): input 2·c (x and −x),
// width m, b blocks, output 2·c (s and t).
int64_t resnet_macs_per_pixel(int64_t c, int64_t m, int64_t b) {
  return 2 * c * 9 * m + m * m + b * (2 * 9 * m * m + m * m) + m * 2 * c;
}

// The multi-scale RealNVP of 2 scales on 1×28×28: 3 checkerboard couplings at 28×28 (c = 1,
// width m), 3 channel-wise at 14×14 (c = 2, width 2m), 4 checkerboard at 14×14 (c = 2, width 2m).
int64_t realnvp_flops(int64_t m, int64_t b) {
  const int64_t macs = 3 * resnet_macs_per_pixel(1, m, b) * 28 * 28 + 7 * resnet_macs_per_pixel(2, 2 * m, b) * 14 * 14;
  return 2 * macs;
}

TEST(Flops, FashionMnistRealNvpIs7406MflopPerImage) {
  EXPECT_EQ(realnvp_flops(64, 6), 7405977600);  // the hand count itself: reference-cpu.md's 7.406 GFLOP
  const auto c = count_forward(realnvp(6, 64), 1);
  EXPECT_EQ(c.conv, 7405977600);
  EXPECT_EQ(c.linear, 0);
  EXPECT_NEAR(static_cast<double>(c.total()) / 1e9, 7.406, 5e-4);
}

TEST(Flops, SmallRealNvpIs636MflopPerImage) {
  EXPECT_EQ(realnvp_flops(32, 2), 636231680);
  const auto c = count_forward(realnvp(2, 32), 1);
  EXPECT_EQ(c.total(), 636231680);
  EXPECT_NEAR(static_cast<double>(c.total()) / 1e9, 0.636, 5e-4);
}

TEST(Flops, CountsScaleWithTheBatch) {
  const auto one = count_forward(realnvp(1, 4), 1);
  const auto three = count_forward(realnvp(1, 4), 3);
  EXPECT_GT(one.total(), 0);
  EXPECT_EQ(three.total(), 3 * one.total());
}

TEST(Flops, BottleneckLinearLayersAreCounted) {
  // l = 50: per coupling encode [M·H·W → 50] and decode [50 → M·H·W]; M·H·W = 64·28·28 on the
  // first scale's 3 couplings, 128·14·14 on the other 7.
  auto config = realnvp(6, 64);
  config.st_net = "resnet-bottleneck";
  config.bottleneck_dim = 50;
  const auto c = count_forward(config, 1);
  EXPECT_EQ(c.linear, 2 * 2 * 50 * (3 * 64 * 28 * 28 + 7 * 128 * 14 * 14));
  // No skip path in the bottleneck st-network: the FashionMNIST count minus the 1×1 skips.
  const int64_t skips = 2 * (3 * 7 * 64 * 64 * 28 * 28 + 7 * 7 * 128 * 128 * 14 * 14);
  EXPECT_EQ(c.conv, 7405977600 - skips);
}

TEST(Flops, GlowCountsTheInvertible1x1Convolution) {
  // 1×8×8, one scale of one step: squeeze to 4×4×4 (16 pixels); the 1×1 convolution 4×4; the
  // highway st-network on the 2 conditioning channels: 3×3 2→8, one highway layer (gate and
  // transform, 3×3 8→8), 1×1 8→4.
  flowood::config::ModelConfig config;
  config.flow = "glow";
  config.in_shape = {1, 8, 8};
  config.num_scales = 1;
  config.num_steps = 1;
  config.st_net = "highway";
  config.mid_channels = 8;
  config.num_blocks = 1;
  const auto c = count_forward(config, 2);
  EXPECT_EQ(c.conv, 2 * 2 * 16 * (4 * 4 + 2 * 9 * 8 + 2 * 9 * 8 * 8 + 8 * 4));
  EXPECT_EQ(c.linear, 0);
}

TEST(Flops, MlpLinearLayersAreCounted) {
  // tabular [6]: 2 couplings, each an mlp on the masked vector 6 → 16 → 16 → 12 (s and t).
  flowood::config::ModelConfig config;
  config.flow = "tabular";
  config.in_shape = {6};
  config.masks = {"tabular x2"};
  config.st_net = "mlp";
  config.mid_channels = 16;
  config.num_blocks = 1;
  config.batch_norm = false;
  const auto c = count_forward(config, 4);
  EXPECT_EQ(c.linear, 4 * 2 * 2 * (6 * 16 + 16 * 16 + 16 * 12));
  EXPECT_EQ(c.conv, 0);
}

TEST(Flops, NothingIsCountedWithoutACounter) {
  EXPECT_FALSE(flops::enabled());
  auto model = fl::make_flow(realnvp(1, 4));
  torch::NoGradGuard no_grad;
  (void)model->log_prob(torch::rand({1, 1, 28, 28}));  // must not crash or count anywhere
  flops::Counter counter;
  EXPECT_TRUE(flops::enabled());
  EXPECT_EQ(counter.total(), 0);
}

TEST(Flops, CountersNestAndStopAtTheirScope) {
  const auto x = torch::zeros({2, 3, 5, 5});
  const auto w = torch::zeros({4, 3, 3, 3});
  flops::Counter outer;
  flops::add_conv2d(x, w);  // 2 · 2·25 pixels · 4 · 27
  {
    flops::Counter inner;
    flops::add_linear(torch::zeros({2, 10}), torch::zeros({7, 10}));  // 2 · 2 · 70
    EXPECT_EQ(inner.linear(), 280);
    EXPECT_EQ(inner.conv(), 0);
    EXPECT_EQ(outer.linear(), 0);
  }
  EXPECT_EQ(outer.conv(), 2 * 50 * 4 * 27);
  EXPECT_EQ(outer.linear(), 280);
  EXPECT_EQ(outer.total(), 2 * 50 * 4 * 27 + 280);
}

}  // namespace
