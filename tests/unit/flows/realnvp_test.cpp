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
#include "flowood/flows/weight_norm.hpp"
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

// ---- inference folding (weight norm computed once, eval batch norm folded into the conv) --------

namespace flowood_folding {

// A RealNVP whose batch norms have non-trivial running statistics and affine parameters, so that
// folding them changes the arithmetic (initial statistics would make the norm nearly the identity).
fl::FlowModel trained_looking_model(std::vector<int64_t> shape, torch::Dtype dtype) {
  torch::manual_seed(11);
  auto flow = fl::make_flow(model(std::move(shape), 2, 8, 2));
  flow->to(dtype);
  torch::NoGradGuard no_grad;
  for (auto& m : flow->modules(false)) {
    auto* bn = m->as<torch::nn::BatchNorm2dImpl>();
    if (!bn) continue;
    bn->running_mean.normal_(0.0, 0.3);
    bn->running_var.uniform_(0.5, 2.0);
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.normal_(0.0, 0.2);
  }
  for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.02);
  flow->eval();
  return flow;
}

// One scoring pass as score_loglik makes it: no autograd, inside an InferenceScope.
torch::Tensor log_prob(fl::FlowModelImpl& flow, const torch::Tensor& x, const torch::Tensor& u, bool folding) {
  fl::set_inference_folding(folding);
  torch::NoGradGuard no_grad;
  fl::InferenceScope scope;
  auto lp = flow.log_prob_from(flow.forward_with_noise(x, u));
  fl::set_inference_folding(true);
  return lp;
}

double max_relative(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs() / b.abs().clamp_min(1e-12)).max().item<double>();
}

TEST(InferenceFolding, SameLogLikelihoodsAsThePlainPathFloat32) {
  auto flow = trained_looking_model({1, 28, 28}, torch::kFloat32);
  const auto x = torch::randint(0, 256, {6, 1, 28, 28}).to(torch::kFloat32) / 255.0;
  const auto u = torch::rand_like(x);
  const auto plain = log_prob(*flow, x, u, false);
  const auto folded = log_prob(*flow, x, u, true);
  ASSERT_TRUE(torch::isfinite(folded).all().item<bool>());
  EXPECT_FALSE(torch::equal(plain, folded)) << "folding did not change the arithmetic: is it on?";
  EXPECT_LE(max_relative(folded, plain), 1e-4);  // the documented tolerance
  {
    torch::NoGradGuard no_grad;  // twice in one scope: the cached tensors give the same numbers
    fl::InferenceScope scope;
    const auto first = flow->log_prob_from(flow->forward_with_noise(x, u));
    EXPECT_TRUE(torch::equal(first, flow->log_prob_from(flow->forward_with_noise(x, u))));
    EXPECT_LE(max_relative(first, plain), 1e-4);
  }
  // Outside a scope nothing is folded: exactly the plain path.
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(flow->log_prob_from(flow->forward_with_noise(x, u)), plain));
}

TEST(InferenceFolding, Float64AgreesToRoundingOnThreeChannelImages) {
  auto flow = trained_looking_model({3, 8, 8}, torch::kFloat64);
  const auto x = torch::randint(0, 256, {4, 3, 8, 8}).to(torch::kFloat64) / 255.0;
  const auto u = torch::rand_like(x);
  EXPECT_LE(max_relative(log_prob(*flow, x, u, true), log_prob(*flow, x, u, false)), 1e-12);
}

TEST(InferenceFolding, NothingGoesStaleBetweenScopes) {
  auto flow = trained_looking_model({1, 8, 8}, torch::kFloat64);
  const auto x = torch::randint(0, 256, {4, 1, 8, 8}).to(torch::kFloat64) / 255.0;
  const auto u = torch::rand_like(x);
  (void)log_prob(*flow, x, u, true);  // fills the caches
  {
    torch::NoGradGuard no_grad;  // an optimiser step, a checkpoint load and a statistics update
    for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.05);
    for (auto& item : flow->named_buffers())
      if (item.key().find("running_var") != std::string::npos) item.value().copy_(item.value() * 1.3);
  }
  EXPECT_LE(max_relative(log_prob(*flow, x, u, true), log_prob(*flow, x, u, false)), 1e-12);
  // A training step with autograd between two evaluations.
  flow->train();
  torch::optim::SGD opt(flow->parameters(), 0.01);
  auto loss = -flow->log_prob_from(flow->forward_with_noise(x, u)).mean();
  loss.backward();
  opt.step();
  flow->eval();
  EXPECT_LE(max_relative(log_prob(*flow, x, u, true), log_prob(*flow, x, u, false)), 1e-12);
}

TEST(InferenceFolding, BatchNormInTrainModeIsNeverFolded) {
  auto flow = trained_looking_model({1, 8, 8}, torch::kFloat64);
  const auto x = torch::randint(0, 256, {5, 1, 8, 8}).to(torch::kFloat64) / 255.0;
  const auto u = torch::rand_like(x);
  const auto eval_lp = log_prob(*flow, x, u, true);
  flow->train();  // batch statistics (the bn-train score and training itself)
  std::vector<torch::Tensor> saved;
  for (auto& b : flow->buffers()) saved.push_back(b.clone());
  const auto train_folded = log_prob(*flow, x, u, true);
  size_t i = 0;
  {
    torch::NoGradGuard no_grad;
    for (auto& b : flow->buffers()) b.copy_(saved[i++]);
  }
  const auto train_plain = log_prob(*flow, x, u, false);
  EXPECT_TRUE(torch::equal(train_folded, train_plain));
  EXPECT_GT((train_folded - eval_lp).abs().max().item<double>(), 1e-3);  // batch statistics differ
}

}  // namespace flowood_folding
