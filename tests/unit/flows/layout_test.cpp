// Channels-last is a memory layout only: every flow gives the same log-likelihoods, gradients and
// inverses in it as in NCHW (float64, so any difference beyond rounding would show), and the
// squeeze keeps it.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/layout.hpp"
#include "flowood/flows/squeeze.hpp"

namespace fl = flowood::flows;

namespace {
struct LayoutScope {
  explicit LayoutScope(fl::Layout l) { fl::set_layout(l); }
  ~LayoutScope() { fl::set_layout(fl::Layout::kNchw); }
};

flowood::config::ModelConfig tiny_for_layout(const std::string& kind) {
  flowood::config::ModelConfig m;
  m.in_shape = {2, 8, 8};
  m.num_blocks = 1;
  m.mid_channels = 8;
  if (kind == "glow") {
    m.flow = "glow";
    m.st_net = "glow-convnet";
    m.num_steps = 2;
  } else if (kind == "bottleneck") {
    m.st_net = "resnet-bottleneck";
    m.bottleneck_dim = 5;
  } else if (kind == "stack") {
    m.flow = "coupling";
    m.masks = {"checkerboard", "horizontal", "sub-quadrant:0>2", "channel"};
  }
  return m;
}

// The model (float64, training mode after an ActNorm-initialising pass, weights perturbed so no
// st-network outputs exact zeros) and a batch.
fl::FlowModel model_of(const std::string& kind, torch::Dtype dtype = torch::kFloat64) {
  torch::manual_seed(11);
  auto model = fl::make_flow(tiny_for_layout(kind));
  model->to(dtype);
  model->train();
  model->log_prob(torch::randint(0, 256, {8, 2, 8, 8}).to(dtype) / 255.0);
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);
  return model;
}

struct Pass {
  torch::Tensor log_prob;
  std::vector<torch::Tensor> grads;
  torch::Tensor round_trip;
};

Pass run(fl::FlowModelImpl& model, fl::Layout layout, const torch::Tensor& x, const torch::Tensor& u) {
  LayoutScope scope(layout);
  Pass p;
  model.zero_grad();
  const auto r = model.forward_with_noise(x, u);
  p.log_prob = model.log_prob_from(r);
  p.log_prob.sum().backward();
  for (const auto& q : model.parameters()) p.grads.push_back(q.grad().clone());
  torch::NoGradGuard no_grad;
  p.round_trip = model.inverse(r.y.detach());
  return p;
}

}  // namespace

// Outside the anonymous namespace: the TEST_P classes derived from it have external linkage.
class MemoryLayoutEquivalence : public ::testing::TestWithParam<std::string> {};

TEST(MemoryLayout, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(fl::parse_layout("nchw"), fl::Layout::kNchw);
  EXPECT_EQ(fl::parse_layout("channels-last"), fl::Layout::kChannelsLast);
  EXPECT_EQ(fl::layout_name(fl::Layout::kChannelsLast), "channels-last");
  try {
    fl::parse_layout("nhwc", "layout");
    FAIL() << "nhwc accepted";
  } catch (const flowood::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nhwc"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("layout"), std::string::npos);
  }
}

TEST(MemoryLayout, SqueezeKeepsChannelsLastAndTheValuesOfNchw) {
  const auto x = torch::randn({3, 5, 6, 4});
  const auto nchw = fl::squeeze2x2(x);
  LayoutScope scope(fl::Layout::kChannelsLast);
  const auto cl = fl::squeeze2x2(x);
  EXPECT_TRUE(cl.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(cl, nchw));
  const auto back = fl::unsqueeze2x2(cl);
  EXPECT_TRUE(back.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(back, x));
}

TEST(MemoryLayout, ConvolutionInputGradientComesBackChannelsLast) {
  LayoutScope scope(fl::Layout::kChannelsLast);
  const auto x = torch::randn({2, 4, 5, 5}, torch::requires_grad());
  const auto h = torch::relu(x * 2.0);
  const auto in = fl::conv_input(h);
  EXPECT_TRUE(in.is_contiguous(torch::MemoryFormat::ChannelsLast));
  torch::Tensor seen;
  h.register_hook([&](const torch::Tensor& g) { seen = g; });
  torch::conv2d(in, torch::randn({3, 4, 3, 3}), {}, 1, 1).sum().backward();
  ASSERT_TRUE(seen.defined());
  EXPECT_TRUE(seen.is_contiguous(torch::MemoryFormat::ChannelsLast));
}

TEST_P(MemoryLayoutEquivalence, SameLogLikelihoodsGradientsAndInverseInFloat64) {
  auto model = model_of(GetParam());
  torch::manual_seed(3);
  const auto x = torch::randint(0, 256, {6, 2, 8, 8}).to(torch::kFloat64) / 255.0;  // pixels k/255, as loaded
  const auto u = torch::rand({6, 2, 8, 8}, torch::kFloat64);
  const auto a = run(*model, fl::Layout::kNchw, x, u);
  const auto b = run(*model, fl::Layout::kChannelsLast, x, u);
  ASSERT_TRUE(torch::isfinite(a.log_prob).all().item<bool>()) << a.log_prob;
  EXPECT_TRUE(torch::allclose(a.log_prob, b.log_prob, 1e-12, 1e-9)) << (a.log_prob - b.log_prob).abs().max();
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i)
    EXPECT_TRUE(torch::allclose(a.grads[i], b.grads[i], 1e-9, 1e-9)) << "parameter " << i;
  EXPECT_TRUE(torch::allclose(b.round_trip, a.round_trip, 1e-9, 1e-9));
  // Back in NCHW the model is what it was: the layout is not stored in it.
  const auto c = run(*model, fl::Layout::kNchw, x, u);
  EXPECT_TRUE(torch::equal(a.log_prob, c.log_prob));
}

// Float32 goes through oneDNN's channels-last kernels (float64 does not): the same numbers up to
// float32 rounding, in training mode and in eval mode with the inference folding.
TEST_P(MemoryLayoutEquivalence, Float32ThroughOneDnnAgreesToRounding) {
  auto model = model_of(GetParam(), torch::kFloat32);
  torch::manual_seed(3);
  const auto x = torch::randint(0, 256, {6, 2, 8, 8}).to(torch::kFloat32) / 255.0;
  const auto u = torch::rand({6, 2, 8, 8});
  const auto a = run(*model, fl::Layout::kNchw, x, u);
  const auto b = run(*model, fl::Layout::kChannelsLast, x, u);
  ASSERT_TRUE(torch::isfinite(a.log_prob).all().item<bool>());
  EXPECT_TRUE(torch::allclose(a.log_prob, b.log_prob, 1e-5, 1e-3)) << (a.log_prob - b.log_prob).abs().max();
  EXPECT_TRUE(torch::allclose(a.round_trip, b.round_trip, 1e-4, 1e-4));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto nchw = model->log_prob_from(model->forward_with_noise(x, u));
  LayoutScope scope(fl::Layout::kChannelsLast);
  const auto cl = model->log_prob_from(model->forward_with_noise(x, u));
  EXPECT_TRUE(torch::allclose(nchw, cl, 1e-5, 1e-3)) << (nchw - cl).abs().max();
}

INSTANTIATE_TEST_SUITE_P(Flows, MemoryLayoutEquivalence, ::testing::Values("realnvp", "bottleneck", "glow", "stack"));
