// The multi-scale RealNVP: parameter counts against the spec, latent order, invertibility and
// the whole model's log-determinant against a brute-force Jacobian in float64.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/config/experiment.hpp"
#include "flowood/core/error.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/realnvp.hpp"
#include "flowood/flows/squeeze.hpp"
#include "jacobian.hpp"

namespace fl = flowood::flows;
using flowood::testing::brute_force_logdet;
using flowood::testing::relative_error;

namespace {

flowood::config::ModelConfig model(std::vector<int64_t> shape, int64_t blocks, int64_t mid, int64_t scales) {
  flowood::config::ModelConfig m;
  m.in_shape = std::move(shape);
  m.num_blocks = blocks;
  m.mid_channels = mid;
  m.num_scales = scales;
  return m;
}

TEST(RealNVP, ParameterCountsMatchTheReference) {
  EXPECT_EQ(fl::make_flow(model({1, 28, 28}, 6, 64, 2))->num_parameters(), 14707336);  // FashionMNIST
  EXPECT_EQ(fl::make_flow(model({1, 28, 28}, 2, 32, 2))->num_parameters(), 1271048);   // small config
  EXPECT_EQ(fl::make_flow(model({3, 32, 32}, 8, 64, 3))->num_parameters(), 87859080);  // CelebA / CIFAR
}

TEST(RealNVP, LayerStructureFollowsSpec) {
  auto flow = fl::make_flow(model({1, 28, 28}, 2, 8, 2));
  const auto layers = flow->body().layers();
  ASSERT_EQ(layers.size(), 11u);  // 10 couplings + 1 squeeze
  EXPECT_NE(layers[3]->describe().find("squeeze"), std::string::npos);
  EXPECT_NE(layers[4]->describe().find("channel-wise"), std::string::npos);
  EXPECT_NE(layers[10]->describe().find("checkerboard (reversed)"), std::string::npos);
  EXPECT_EQ(flow->body().current_shape(), fl::Shape({2, 14, 14}));
  const auto summary = flow->summary();
  EXPECT_NE(summary.find("parameters: " + std::to_string(flow->num_parameters())), std::string::npos);
}

TEST(MultiScaleFlow, LatentPutsFactoredOutBlocksFirst) {
  auto body = std::make_shared<fl::MultiScaleFlowImpl>(fl::Shape{1, 4, 4});
  body->add(std::make_shared<fl::SqueezeImpl>());
  body->factor_out(2);
  auto x = torch::randn({3, 1, 4, 4});
  auto z = body->forward(x).y;
  auto sq = fl::squeeze2x2(x);
  ASSERT_EQ(z.sizes(), torch::IntArrayRef({3, 16}));
  EXPECT_TRUE(torch::equal(z.narrow(1, 0, 8), sq.narrow(1, 2, 2).flatten(1)));  // z_0 = set-aside channels
  EXPECT_TRUE(torch::equal(z.narrow(1, 8, 8), sq.narrow(1, 0, 2).flatten(1)));  // final block last
  EXPECT_TRUE(torch::equal(body->inverse(z), x));
}

TEST(RealNVP, WholeModelInvertsInFloat32) {
  torch::manual_seed(5);
  auto flow = fl::make_flow(model({1, 8, 8}, 2, 8, 2));
  auto x = torch::randint(0, 256, {6, 1, 8, 8}).to(torch::kFloat32) / 255.0;
  flow->train();
  (void)flow->forward(x);
  flow->eval();
  torch::NoGradGuard g;
  auto u = torch::rand_like(x);
  auto r = flow->forward_with_noise(x, u);
  EXPECT_EQ(r.y.sizes(), torch::IntArrayRef({6, 64}));
  auto back = flow->inverse(r.y);  // dequantised pixels / 256
  EXPECT_LE((back - (x * 255 + u) / 256).abs().max().item<double>(), 1e-4);
  // The body alone is an exact inverse pair on logits.
  auto l = fl::dequantize_logit(x, u).y;
  EXPECT_LE((flow->body().inverse(flow->body().forward(l).y) - l).abs().max().item<double>(), 1e-4);
}

class WholeModelJacobian : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(WholeModelJacobian, LogDetMatchesBruteForceInFloat64) {
  torch::manual_seed(6);
  auto flow = fl::make_flow(model(GetParam(), 1, 4, 2));
  flow->to(torch::kFloat64);
  std::vector<int64_t> shape{8};
  shape.insert(shape.end(), GetParam().begin(), GetParam().end());
  {
    torch::NoGradGuard g;
    for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.05);
  }
  flow->train();
  (void)flow->forward(torch::rand(shape, torch::kFloat64));
  flow->eval();
  auto x = (torch::randint(0, 256, shape).to(torch::kFloat64) / 255.0).narrow(0, 0, 1);
  auto u = torch::rand_like(x);
  const double expected =
      brute_force_logdet([&](const torch::Tensor& in) { return flow->forward_with_noise(in, u).y; }, x);
  const double got = flow->forward_with_noise(x, u).logdet.item<double>();
  EXPECT_LE(relative_error(got, expected), 1e-6) << "got " << got << " expected " << expected;
}

INSTANTIATE_TEST_SUITE_P(Shapes, WholeModelJacobian,
                         ::testing::Values(std::vector<int64_t>{1, 4, 4}, std::vector<int64_t>{4, 4, 4}),
                         [](const auto& info) { return std::to_string(info.param[0]) + "x4x4"; });

TEST(RealNVP, LogProbIsPriorPlusLogDetMinusDiscretisation) {
  torch::manual_seed(7);
  auto flow = fl::make_flow(model({1, 4, 4}, 1, 4, 2));
  flow->eval();
  torch::NoGradGuard g;
  auto x = torch::rand({3, 1, 4, 4});
  auto u = torch::rand_like(x);
  auto r = flow->forward_with_noise(x, u);
  auto expected = -0.5 * r.y.pow(2).sum(1) - 8.0 * std::log(2 * M_PI) + r.logdet - 16.0 * std::log(256.0);
  EXPECT_TRUE(torch::allclose(flow->log_prob_from(r), expected, 1e-5, 1e-4));
}

TEST(RealNVP, SeededGeneratorMakesScoresReproducible) {
  torch::manual_seed(8);
  auto flow = fl::make_flow(model({1, 4, 4}, 1, 4, 2));
  flow->eval();
  torch::NoGradGuard g;
  auto x = torch::rand({3, 1, 4, 4});
  auto g1 = at::detail::createCPUGenerator(42), g2 = at::detail::createCPUGenerator(42);
  auto a = flow->log_prob(x, g1), b = flow->log_prob(x, g2);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, flow->log_prob(x, g1))) << "fresh noise on every call";
}

TEST(RealNVP, BadShapesAreConfigErrors) {
  EXPECT_THROW(fl::make_flow(model({1, 28, 28}, 2, 8, 4)), flowood::ConfigError);  // 28 not divisible by 8
  auto m = model({1, 28, 28}, 2, 8, 2);
  m.flow = "maf";
  EXPECT_THROW(fl::make_flow(m), flowood::ConfigError);
}

}  // namespace
