// Invertibility and log-determinants of every flow layer (float32 round trips, float64 brute-force
// Jacobians on tiny inputs), the preprocessing constants and the squeeze channel order.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/coupling.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/flows/mask.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/flows/squeeze.hpp"
#include "jacobian.hpp"

namespace fl = flowood::flows;
using flowood::testing::brute_force_logdet;
using flowood::testing::relative_error;

namespace {

fl::StNetOptions small_st() {
  fl::StNetOptions st;
  st.mid_channels = 8;
  st.num_blocks = 2;
  return st;
}

// Puts batch-norm running statistics away from their initial values and perturbs all
// parameters so s and t are far from zero, then switches to eval mode.
void make_nontrivial(torch::nn::Module& m, const torch::Tensor& sample) {
  {
    torch::NoGradGuard g;
    for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * 0.05);
  }
  m.train();
  (void)sample;
}

struct CouplingCase {
  std::string mask;
  bool reverse;
  std::vector<int64_t> shape;
};

class CouplingTest : public ::testing::TestWithParam<CouplingCase> {};

TEST_P(CouplingTest, InvertsInFloat32) {
  const auto& c = GetParam();
  torch::manual_seed(1);
  auto layer = std::make_shared<fl::AffineCouplingImpl>(fl::make_mask(c.mask, c.reverse), small_st(), c.shape);
  std::vector<int64_t> full{5};
  full.insert(full.end(), c.shape.begin(), c.shape.end());
  auto x = torch::randn(full);
  layer->train();
  (void)layer->forward(x);  // batch statistics move the running stats
  layer->eval();
  torch::NoGradGuard g;
  auto r = layer->forward(x);
  auto back = layer->inverse(r.y);
  EXPECT_LE((back - x).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(r.logdet.sizes(), torch::IntArrayRef({5}));
  EXPECT_GT(r.logdet.abs().max().item<double>(), 1e-3) << "s should not vanish at initialisation";
}

TEST_P(CouplingTest, LogDetMatchesBruteForceJacobianInFloat64) {
  const auto& c = GetParam();
  torch::manual_seed(2);
  auto layer = std::make_shared<fl::AffineCouplingImpl>(fl::make_mask(c.mask, c.reverse), small_st(), c.shape);
  layer->to(torch::kFloat64);
  std::vector<int64_t> full{4};
  full.insert(full.end(), c.shape.begin(), c.shape.end());
  auto batch = torch::randn(full, torch::kFloat64);
  make_nontrivial(*layer, batch);
  (void)layer->forward(batch);
  layer->eval();
  auto x = torch::randn(full, torch::kFloat64).narrow(0, 0, 1);
  const double expected = brute_force_logdet([&](const torch::Tensor& in) { return layer->forward(in).y; }, x);
  const double got = layer->forward(x).logdet.item<double>();
  EXPECT_LE(relative_error(got, expected), 1e-6) << "got " << got << " expected " << expected;
}

TEST_P(CouplingTest, OnlyTheTransformedPartChanges) {
  const auto& c = GetParam();
  torch::manual_seed(3);
  auto mask = fl::make_mask(c.mask, c.reverse);
  auto layer = std::make_shared<fl::AffineCouplingImpl>(mask, small_st(), c.shape);
  layer->eval();
  std::vector<int64_t> full{2};
  full.insert(full.end(), c.shape.begin(), c.shape.end());
  auto x = torch::randn(full);
  torch::NoGradGuard g;
  auto y = layer->forward(x).y;
  auto [x_id, x_change] = mask->split(x);
  auto [y_id, y_change] = mask->split(y);
  EXPECT_TRUE(torch::equal(x_id, y_id)) << "the conditioning part must pass unchanged";
  EXPECT_FALSE(torch::allclose(x_change, y_change));
}

INSTANTIATE_TEST_SUITE_P(Masks, CouplingTest,
                         ::testing::Values(CouplingCase{"checkerboard", false, {1, 4, 4}},
                                           CouplingCase{"checkerboard", true, {1, 4, 4}},
                                           CouplingCase{"checkerboard", false, {4, 4, 4}},
                                           CouplingCase{"channel", false, {4, 4, 4}},
                                           CouplingCase{"channel", true, {4, 4, 4}}),
                         [](const auto& info) {
                           return info.param.mask + (info.param.reverse ? "_reversed_" : "_") +
                                  std::to_string(info.param.shape[0]) + "ch";
                         });

TEST(Masks, CheckerboardPatternMatchesSpec) {
  fl::CheckerboardMask mask(false);
  auto b = mask.condition_pattern(3, 3);
  // (0,0) is transformed (b = 0); pixels with i + j odd condition.
  auto expected = torch::tensor({0., 1., 0., 1., 0., 1., 0., 1., 0.}).view({3, 3});
  EXPECT_TRUE(torch::equal(b, expected.to(b.scalar_type())));
  fl::CheckerboardMask reversed(true);
  EXPECT_TRUE(torch::equal(reversed.condition_pattern(3, 3), 1 - expected.to(b.scalar_type())));
}

TEST(Masks, ChannelWiseSplitsHalves) {
  auto x = torch::arange(4.0).view({1, 4, 1, 1});
  auto [id, change] = fl::ChannelMask(false).split(x);
  EXPECT_EQ(change.flatten()[0].item<double>(), 0.0);  // first half changes
  EXPECT_EQ(id.flatten()[0].item<double>(), 2.0);      // second half conditions
  auto [id_r, change_r] = fl::ChannelMask(true).split(x);
  EXPECT_EQ(id_r.flatten()[0].item<double>(), 0.0);
  EXPECT_EQ(change_r.flatten()[0].item<double>(), 2.0);
}

TEST(Masks, UnknownNameListsValidOnes) {
  try {
    fl::make_mask("diagonal", false);
    FAIL() << "expected ConfigError";
  } catch (const flowood::ConfigError& e) {
    EXPECT_EQ(e.key(), "model.masks");
    EXPECT_NE(std::string(e.what()).find("checkerboard"), std::string::npos);
  }
}

TEST(Squeeze, ChannelOrderFollowsSpec) {
  // [1, 1, 4, 4] with values 0..15: output channel 2·dy + dx holds pixel (2i + dy, 2j + dx).
  auto x = torch::arange(16.0).view({1, 1, 4, 4});
  auto y = fl::squeeze2x2(x);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 4, 2, 2}));
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          EXPECT_EQ(y[0][2 * dy + dx][i][j].item<double>(), x[0][0][2 * i + dy][2 * j + dx].item<double>());
  // Multi-channel: input channel c's phases are contiguous at 4c .. 4c+3.
  auto x2 = torch::randn({2, 3, 6, 4});
  auto y2 = fl::squeeze2x2(x2);
  EXPECT_TRUE(torch::equal(y2.narrow(1, 4, 4), fl::squeeze2x2(x2.narrow(1, 1, 1))));
  EXPECT_TRUE(torch::equal(fl::unsqueeze2x2(y2), x2));
}

TEST(Preprocess, KnownPixelsGiveKnownLogitsAndLogDet) {
  // x = k/255 with noise u: l = logit(0.05 + 0.9·(k + u)/256).
  auto x = torch::tensor({0.0, 128.0 / 255.0, 1.0}, torch::kFloat64).view({1, 3});
  auto u = torch::tensor({0.0, 0.5, 0.999}, torch::kFloat64).view({1, 3});
  auto r = fl::dequantize_logit(x, u);
  const double ys[3] = {0.05, 0.05 + 0.9 * 128.5 / 256.0, 0.05 + 0.9 * 255.999 / 256.0};
  double logdet = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(r.y[0][i].item<double>(), std::log(ys[i] / (1 - ys[i])), 1e-12);
    logdet += std::log(0.9) - std::log(ys[i]) - std::log(1 - ys[i]) + std::log(255.0 / 256.0);
  }
  EXPECT_NEAR(r.logdet.item<double>(), logdet, 1e-10);
  EXPECT_NEAR(r.y[0][0].item<double>(), -2.9444389791664403, 1e-12);  // logit(0.05)
}

TEST(Preprocess, LogDetMatchesBruteForceJacobian) {
  auto x = torch::rand({1, 2, 3, 3}, torch::kFloat64);
  auto u = torch::rand({1, 2, 3, 3}, torch::kFloat64);
  const double expected =
      brute_force_logdet([&](const torch::Tensor& in) { return fl::dequantize_logit(in, u).y; }, x);
  EXPECT_LE(relative_error(fl::dequantize_logit(x, u).logdet.item<double>(), expected), 1e-10);
}

TEST(Preprocess, InverseRecoversDequantisedPixels) {
  auto x = torch::randint(0, 256, {4, 1, 5, 5}).to(torch::kFloat32) / 255.0;
  auto u = torch::rand({4, 1, 5, 5});
  auto back = fl::logit_inverse(fl::dequantize_logit(x, u).y);
  EXPECT_LE((back - (x * 255 + u) / 256).abs().max().item<double>(), 1e-5);
}

TEST(Likelihood, BitsPerDimConvertsNats) {
  auto ll = torch::tensor({-784.0 * std::log(2.0) * 3.0}, torch::kFloat64);
  EXPECT_NEAR(fl::nats_to_bits_per_dim(ll, 784).item<double>(), 3.0, 1e-9);
  auto z = torch::zeros({1, 10}, torch::kFloat64);
  EXPECT_NEAR(fl::standard_normal_log_prob(z).item<double>(), -5.0 * std::log(2.0 * M_PI), 1e-12);
}

}  // namespace
