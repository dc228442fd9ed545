// Glow: ActNorm (data-dependent initialisation, its state in checkpoints), the invertible 1×1
// convolution (plain and LU), and the whole model — structure, parameter counts against the
// spec, float32 round trips and float64 log-determinants against brute-force Jacobians.
#include <cmath>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/glow.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/train/checkpoint.hpp"
#include "jacobian.hpp"
#include "temp_dir.hpp"

namespace fl = flowood::flows;
using flowood::testing::brute_force_logdet;
using flowood::testing::relative_error;

namespace {

void perturb(torch::nn::Module& m, double scale) {
  torch::NoGradGuard g;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * scale);
}

std::vector<std::shared_ptr<fl::ActNormImpl>> actnorms(fl::FlowModel& flow) {
  std::vector<std::shared_ptr<fl::ActNormImpl>> out;
  for (const auto& layer : flow->body().layers())
    if (auto a = std::dynamic_pointer_cast<fl::ActNormImpl>(layer)) out.push_back(a);
  return out;
}

std::vector<torch::Tensor> snapshot(const torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

// ---- ActNorm ---------------------------------------------------------------------------------

TEST(ActNorm, FirstTrainForwardNormalisesEachChannelOfTheBatch) {
  torch::manual_seed(10);
  fl::ActNorm an(3);
  EXPECT_FALSE(an->initialized());
  auto x = torch::randn({16, 3, 5, 5}) * torch::tensor({0.5, 2.0, 7.0}).view({1, 3, 1, 1}) +
           torch::tensor({-1.0, 3.0, 10.0}).view({1, 3, 1, 1});
  an->train();
  auto r = an->forward(x);
  EXPECT_TRUE(an->initialized());
  const auto mean = r.y.mean({0, 2, 3});
  const auto std = (r.y - r.y.mean({0, 2, 3}, true)).pow(2).mean({0, 2, 3}).sqrt();
  EXPECT_LE(mean.abs().max().item<double>(), 1e-5);
  EXPECT_LE((std - 1).abs().max().item<double>(), 1e-4);
  // logdet = H·W·Σ_c logs = −H·W·Σ_c log std_c(x).
  const auto x_std = (x - x.mean({0, 2, 3}, true)).pow(2).mean({0, 2, 3}).sqrt();
  const double expected = -25.0 * torch::log(x_std).sum().item<double>();
  ASSERT_EQ(r.logdet.sizes(), torch::IntArrayRef({16}));
  EXPECT_LE(relative_error(r.logdet[7].item<double>(), expected), 1e-5);
}

TEST(ActNorm, LaterTrainForwardsDoNotReinitialise) {
  torch::manual_seed(11);
  fl::ActNorm an(2);
  an->train();
  (void)an->forward(torch::randn({8, 2, 3, 3}));
  const auto before = snapshot(*an);
  (void)an->forward(torch::randn({8, 2, 3, 3}) * 10 + 5);
  EXPECT_TRUE(same_tensors(before, snapshot(*an)));
}

TEST(ActNorm, UseBeforeInitialisationThrows) {
  fl::ActNorm an(2);
  an->eval();
  try {
    (void)an->forward(torch::randn({2, 2, 3, 3}));
    FAIL() << "expected flowood::Error";
  } catch (const flowood::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not initialised"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)an->inverse(torch::randn({2, 2, 3, 3})), flowood::Error);
  an->train();
  EXPECT_THROW((void)an->inverse(torch::randn({2, 2, 3, 3})), flowood::Error);  // nothing to learn from
  EXPECT_FALSE(an->initialized());
}

TEST(ActNorm, MarkInitializedSkipsDataDependentInit) {
  fl::ActNorm an(2);
  an->mark_initialized();
  EXPECT_TRUE(an->initialized());
  an->train();
  auto x = torch::randn({4, 2, 3, 3}) * 3;
  EXPECT_TRUE(torch::equal(an->forward(x).y, x)) << "bias 0 and logs 0 stay";
}

TEST(ActNorm, InvertsInFloat32) {
  torch::manual_seed(12);
  fl::ActNorm an(4);
  an->train();
  (void)an->forward(torch::randn({8, 4, 3, 3}) * 3 + 1);
  an->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({5, 4, 3, 3});
  EXPECT_LE((an->inverse(an->forward(x).y) - x).abs().max().item<double>(), 1e-4);
}

TEST(ActNorm, LogDetMatchesBruteForceJacobianInFloat64) {
  torch::manual_seed(13);
  fl::ActNorm an(3);
  an->to(torch::kFloat64);
  an->train();
  (void)an->forward(torch::randn({8, 3, 2, 3}, torch::kFloat64) * 2 - 1);
  perturb(*an, 0.3);
  an->eval();
  auto x = torch::randn({1, 3, 2, 3}, torch::kFloat64);
  const double expected = brute_force_logdet([&](const torch::Tensor& in) { return an->forward(in).y; }, x);
  const double got = an->forward(x).logdet.item<double>();
  EXPECT_LE(relative_error(got, expected), 1e-6) << "got " << got << " expected " << expected;
}

TEST(ActNorm, InitialisationStateTravelsWithTheModuleState) {
  torch::manual_seed(14);
  fl::ActNorm an(3);
  ASSERT_TRUE(an->named_buffers().contains("initialized"));
  an->train();
  (void)an->forward(torch::randn({8, 3, 4, 4}) * 2 + 1);
  std::stringstream stream;
  {
    torch::serialize::OutputArchive archive;
    an->save(archive);
    archive.save_to(stream);
  }
  fl::ActNorm fresh(3);
  {
    torch::serialize::InputArchive archive;
    archive.load_from(stream);
    fresh->load(archive);
  }
  EXPECT_TRUE(fresh->initialized());
  EXPECT_TRUE(same_tensors(snapshot(*an), snapshot(*fresh)));
  fresh->train();
  (void)fresh->forward(torch::randn({8, 3, 4, 4}) * 5 - 3);
  EXPECT_TRUE(same_tensors(snapshot(*an), snapshot(*fresh))) << "a loaded ActNorm must not re-initialise";

  // And the other way: state from before initialisation makes an initialised module uninitialised.
  std::stringstream blank_stream;
  {
    torch::serialize::OutputArchive archive;
    fl::ActNorm(3)->save(archive);
    archive.save_to(blank_stream);
  }
  torch::serialize::InputArchive archive;
  archive.load_from(blank_stream);
  fresh->load(archive);
  EXPECT_FALSE(fresh->initialized());
  fresh->eval();
  EXPECT_THROW((void)fresh->forward(torch::randn({1, 3, 4, 4})), flowood::Error);
}

// ---- InvConv1x1 ------------------------------------------------------------------------------

class InvConvTest : public ::testing::TestWithParam<bool> {};

TEST_P(InvConvTest, StartsOrthogonalWithCSquaredParameters) {
  torch::manual_seed(20);
  fl::InvConv1x1 conv(6, GetParam());
  const auto w = conv->weight().detach();
  EXPECT_LE((w.matmul(w.t()) - torch::eye(6)).abs().max().item<double>(), 1e-5);
  EXPECT_LE(std::abs(conv->log_abs_det().item<double>()), 1e-5);
  int64_t n = 0;
  for (const auto& p : conv->parameters()) n += p.numel();
  EXPECT_EQ(n, 36);
  EXPECT_NE(conv->describe().find(GetParam() ? "LU" : "plain"), std::string::npos);
}

TEST_P(InvConvTest, InvertsInFloat32) {
  torch::manual_seed(21);
  fl::InvConv1x1 conv(4, GetParam());
  perturb(*conv, 0.2);
  torch::NoGradGuard g;
  auto x = torch::randn({5, 4, 3, 3});
  auto r = conv->forward(x);
  EXPECT_LE((conv->inverse(r.y) - x).abs().max().item<double>(), 1e-4);
  EXPECT_GT((r.y - x).abs().max().item<double>(), 1e-2);
}

TEST_P(InvConvTest, InverseIsExactInFloat64) {
  torch::manual_seed(22);
  fl::InvConv1x1 conv(8, GetParam());
  conv->to(torch::kFloat64);
  perturb(*conv, 0.2);
  torch::NoGradGuard g;
  auto x = torch::randn({3, 8, 4, 4}, torch::kFloat64);
  EXPECT_LE((conv->inverse(conv->forward(x).y) - x).abs().max().item<double>(), 1e-12);
}

TEST_P(InvConvTest, LogDetMatchesBruteForceJacobianInFloat64) {
  torch::manual_seed(23);
  fl::InvConv1x1 conv(4, GetParam());
  conv->to(torch::kFloat64);
  perturb(*conv, 0.3);
  auto x = torch::randn({1, 4, 2, 3}, torch::kFloat64);
  const double expected = brute_force_logdet([&](const torch::Tensor& in) { return conv->forward(in).y; }, x);
  const double got = conv->forward(x).logdet.item<double>();
  EXPECT_GT(std::abs(got), 1e-2) << "the perturbation should move log|det W| away from 0";
  EXPECT_LE(relative_error(got, expected), 1e-6) << "got " << got << " expected " << expected;
}

INSTANTIATE_TEST_SUITE_P(Parameterisations, InvConvTest, ::testing::Values(false, true),
                         [](const auto& info) { return std::string(info.param ? "LU" : "plain"); });

TEST(InvConv1x1, LuStartsFromTheSameMatrixAsPlain) {
  torch::manual_seed(24);
  fl::InvConv1x1 plain(6, false);
  torch::manual_seed(24);
  fl::InvConv1x1 lu(6, true);
  EXPECT_LE((plain->weight() - lu->weight()).abs().max().item<double>(), 1e-6);
  EXPECT_NEAR(plain->log_abs_det().item<double>(), lu->log_abs_det().item<double>(), 1e-5);
}

TEST(InvConv1x1, LuLogDetIsSumOfLogS) {
  torch::manual_seed(25);
  fl::InvConv1x1 lu(5, true);
  lu->to(torch::kFloat64);
  perturb(*lu, 0.5);
  const auto w = lu->weight().detach();
  const auto [sign, logabs] = torch::linalg::slogdet(w);
  EXPECT_NEAR(lu->log_abs_det().item<double>(), logabs.item<double>(), 1e-10);
  double sum = 0;
  for (const auto& p : lu->named_parameters())
    if (p.key() == "log_s") sum = p.value().sum().item<double>();
  EXPECT_NEAR(lu->log_abs_det().item<double>(), sum, 1e-12);
  EXPECT_GT(std::abs(sum), 1e-2);
  // The permutation and signs are fixed; the triangular factors stay triangular.
  EXPECT_TRUE(lu->named_buffers().contains("perm"));
  EXPECT_TRUE(lu->named_buffers().contains("sign_s"));
  EXPECT_FALSE(lu->named_parameters().contains("perm"));
}

TEST(InvConv1x1, GradientsReachEveryParameter) {
  for (bool use_lu : {false, true}) {
    torch::manual_seed(26);
    fl::InvConv1x1 conv(4, use_lu);
    auto r = conv->forward(torch::randn({2, 4, 3, 3}));
    (r.y.pow(2).sum() + r.logdet.sum()).backward();
    for (const auto& p : conv->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    }
  }
}

// ---- Glow ------------------------------------------------------------------------------------

fl::GlowOptions tiny(fl::Shape shape, const std::string& st_type, bool lu = false) {
  fl::GlowOptions o;
  o.in_shape = std::move(shape);
  o.num_scales = 2;
  o.num_steps = 2;
  o.lu = lu;
  o.st.type = st_type;
  o.st.mid_channels = 8;
  o.st.num_blocks = st_type == "highway" ? 2 : 1;
  return o;
}

fl::GlowOptions readme(fl::Shape shape, int64_t scales, int64_t steps, int64_t mid) {
  fl::GlowOptions o;
  o.in_shape = std::move(shape);
  o.num_scales = scales;
  o.num_steps = steps;
  o.st.type = "highway";
  o.st.mid_channels = mid;
  o.st.num_blocks = 3;
  return o;
}

TEST(Glow, FashionMnistParameterCountMatchesTheReference) {
  EXPECT_EQ(fl::build_glow(readme({1, 28, 28}, 2, 16, 200))->num_parameters(), 69378048);
}

TEST(Glow, CelebaParameterCountMatchesTheReference) {
  EXPECT_EQ(fl::build_glow(readme({3, 32, 32}, 3, 8, 400))->num_parameters(), 208932480);
}

TEST(Glow, LayerStructureFollowsSpec) {
  auto flow = fl::build_glow(tiny({1, 8, 8}, "resnet"));
  const auto layers = flow->body().layers();
  ASSERT_EQ(layers.size(), 2u * (1 + 3 * 2));  // per scale: squeeze + K × (actnorm, 1×1 conv, coupling)
  EXPECT_NE(layers[0]->describe().find("squeeze"), std::string::npos);
  EXPECT_NE(layers[1]->describe().find("actnorm (4 channels)"), std::string::npos);
  EXPECT_NE(layers[2]->describe().find("1×1 conv (4 channels, plain)"), std::string::npos);
  EXPECT_NE(layers[3]->describe().find("channel-wise"), std::string::npos);
  EXPECT_EQ(layers[3]->describe().find("reversed"), std::string::npos);
  EXPECT_NE(layers[3]->describe().find("mid 8"), std::string::npos);
  EXPECT_NE(layers[7]->describe().find("squeeze"), std::string::npos);
  EXPECT_NE(layers[8]->describe().find("actnorm (8 channels)"), std::string::npos);  // 2 kept × 4
  EXPECT_NE(layers[13]->describe().find("mid 8"), std::string::npos) << "Glow does not double the width";
  EXPECT_EQ(flow->body().current_shape(), fl::Shape({8, 2, 2}));
  EXPECT_EQ(flow->name(), "glow (2 scales × 2 steps, mid 8)");
  EXPECT_EQ(flow->preprocessing(), fl::Preprocessing::kLogit);
  const auto summary = flow->summary();
  EXPECT_NE(summary.find("parameters: " + std::to_string(flow->num_parameters())), std::string::npos);

  auto single = tiny({1, 8, 8}, "resnet");
  single.multi_scale = false;
  auto flat = fl::build_glow(single);
  EXPECT_EQ(flat->body().current_shape(), fl::Shape({16, 2, 2}));
  EXPECT_NE(flat->name().find("single-scale"), std::string::npos);
}

TEST(Glow, LuKeepsTheParameterCount) {
  const auto plain = fl::build_glow(tiny({2, 8, 8}, "resnet"))->num_parameters();
  const auto lu = fl::build_glow(tiny({2, 8, 8}, "resnet", true));
  EXPECT_EQ(lu->num_parameters(), plain);
  EXPECT_NE(lu->name().find("LU"), std::string::npos);
}

TEST(Glow, BadOptionsAreConfigErrors) {
  auto expect_key = [](const fl::GlowOptions& o, const std::string& key) {
    try {
      fl::build_glow(o);
      ADD_FAILURE() << "expected ConfigError for " << key;
    } catch (const flowood::ConfigError& e) {
      EXPECT_EQ(e.key(), key) << e.what();
    }
  };
  auto o = tiny({1, 28, 28}, "resnet");
  o.num_scales = 3;  // 28 is not divisible by 8
  expect_key(o, "model.num_scales");
  o.num_scales = 0;
  expect_key(o, "model.num_scales");
  o = tiny({1, 28, 28}, "resnet");
  o.num_steps = 0;
  expect_key(o, "model.num_steps");
  o = tiny({28, 28}, "resnet");
  expect_key(o, "model.in_shape");
}

TEST(Glow, ScoringBeforeTrainingOrLoadingThrows) {
  torch::manual_seed(30);
  auto flow = fl::build_glow(tiny({1, 4, 4}, "resnet"));
  flow->eval();
  torch::NoGradGuard g;
  EXPECT_THROW((void)flow->log_prob(torch::rand({2, 1, 4, 4})), flowood::Error);
}

void expect_inverts_in_float32(const fl::GlowOptions& options) {
  torch::manual_seed(31);
  auto flow = fl::build_glow(options);
  std::vector<int64_t> shape{6};
  shape.insert(shape.end(), options.in_shape.begin(), options.in_shape.end());
  auto x = torch::randint(0, 256, shape).to(torch::kFloat32) / 255.0;
  flow->train();
  (void)flow->forward(x);
  perturb(*flow, 0.05);
  flow->eval();
  torch::NoGradGuard g;
  auto u = torch::rand_like(x);
  auto r = flow->forward_with_noise(x, u);
  EXPECT_EQ(r.y.sizes(), torch::IntArrayRef({6, flow->dim()}));
  EXPECT_TRUE(torch::isfinite(r.logdet).all().item<bool>());
  auto back = flow->inverse(r.y);
  EXPECT_LE((back - (x * 255 + u) / 256).abs().max().item<double>(), 1e-4);
  auto l = fl::dequantize_logit(x, u).y;
  EXPECT_LE((flow->body().inverse(flow->body().forward(l).y) - l).abs().max().item<double>(), 1e-4);
}

void expect_logdet_matches_brute_force(const fl::GlowOptions& options) {
  torch::manual_seed(32);
  auto flow = fl::build_glow(options);
  flow->to(torch::kFloat64);
  std::vector<int64_t> shape{8};
  shape.insert(shape.end(), options.in_shape.begin(), options.in_shape.end());
  perturb(*flow, 0.05);
  flow->train();
  (void)flow->forward(torch::rand(shape, torch::kFloat64));  // initialises ActNorm, moves BN statistics
  perturb(*flow, 0.05);
  flow->eval();
  auto x = (torch::randint(0, 256, shape).to(torch::kFloat64) / 255.0).narrow(0, 0, 1);
  auto u = torch::rand_like(x);
  const double expected =
      brute_force_logdet([&](const torch::Tensor& in) { return flow->forward_with_noise(in, u).y; }, x);
  const double got = flow->forward_with_noise(x, u).logdet.item<double>();
  EXPECT_LE(relative_error(got, expected), 1e-6) << "got " << got << " expected " << expected;
}

struct GlowCase {
  fl::Shape shape;
  bool lu;
};

class GlowWholeModel : public ::testing::TestWithParam<GlowCase> {};

TEST_P(GlowWholeModel, InvertsInFloat32) { expect_inverts_in_float32(tiny(GetParam().shape, "resnet", GetParam().lu)); }

TEST_P(GlowWholeModel, LogDetMatchesBruteForceInFloat64) {
  expect_logdet_matches_brute_force(tiny(GetParam().shape, "resnet", GetParam().lu));
}

INSTANTIATE_TEST_SUITE_P(Shapes, GlowWholeModel,
                         ::testing::Values(GlowCase{{1, 4, 4}, false}, GlowCase{{2, 4, 4}, false},
                                           GlowCase{{1, 4, 4}, true}, GlowCase{{2, 4, 4}, true}),
                         [](const auto& info) {
                           return std::to_string(info.param.shape[0]) + "x4x4_" + (info.param.lu ? "LU" : "plain");
                         });

TEST(GlowHighway, WholeModelInvertsInFloat32) { expect_inverts_in_float32(tiny({2, 4, 4}, "highway")); }

TEST(GlowHighway, WholeModelLogDetMatchesBruteForceInFloat64) {
  expect_logdet_matches_brute_force(tiny({2, 4, 4}, "highway"));
}

TEST(Glow, CheckpointKeepsActNormInitialisedAndScoresIdentical) {
  flowood::testing::TempDir dir("glow");
  const auto options = tiny({1, 8, 8}, "resnet");
  torch::manual_seed(40);
  auto flow = fl::build_glow(options);
  flow->train();
  (void)flow->forward(torch::rand({16, 1, 8, 8}));
  perturb(*flow, 0.05);
  flow->eval();
  auto x = torch::randint(0, 256, {4, 1, 8, 8}).to(torch::kFloat32) / 255.0;
  torch::Tensor before;
  {
    torch::NoGradGuard g;
    before = flow->log_prob(x, at::detail::createCPUGenerator(42));
  }
  const auto path = dir.file("model.pt");
  flowood::train::save_checkpoint(path, *flow, nullptr, {});

  torch::manual_seed(41);  // a different initialisation, overwritten by the checkpoint
  auto fresh = fl::build_glow(options);
  for (const auto& a : actnorms(fresh)) EXPECT_FALSE(a->initialized());
  flowood::train::load_checkpoint(path, *fresh, nullptr, torch::kCPU);
  const auto layers = actnorms(fresh);
  ASSERT_EQ(layers.size(), 4u);
  for (const auto& a : layers) EXPECT_TRUE(a->initialized());
  fresh->eval();
  {
    torch::NoGradGuard g;
    EXPECT_TRUE(torch::equal(fresh->log_prob(x, at::detail::createCPUGenerator(42)), before));
  }
  // A training step after loading must not re-initialise ActNorm from the new batch.
  const auto params = snapshot(*fresh);
  fresh->train();
  {
    torch::NoGradGuard g;
    (void)fresh->forward(torch::rand({16, 1, 8, 8}) * 0.2);
  }
  EXPECT_TRUE(same_tensors(params, snapshot(*fresh)));
}

}  // namespace
