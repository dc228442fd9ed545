// Coupling stacks (spec §4.3), the tabular RealNVP (§4.4) and the bottleneck st-network (§2.6):
// parameter counts against the reference and whole-model log-dets against brute force.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/config/experiment.hpp"
#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/standardize.hpp"
#include "jacobian.hpp"

namespace fl = flowood::flows;
using flowood::testing::brute_force_logdet;
using flowood::testing::relative_error;

namespace {

flowood::config::ModelConfig stack(std::vector<std::string> masks, std::vector<int64_t> shape = {1, 28, 28}) {
  flowood::config::ModelConfig m;
  m.flow = "coupling";
  m.masks = std::move(masks);
  m.in_shape = std::move(shape);
  return m;
}

TEST(CouplingStack, EightLayerMaskModelsHaveTheReferenceSize) {
  // 1×28×28, mid 64, 6 blocks: "exactly the same size" (spec §4.3).
  for (const auto& masks : {std::vector<std::string>{"checkerboard x8"}, std::vector<std::string>{"horizontal x8"},
                            std::vector<std::string>{"cycle x2"}}) {
    auto flow = fl::make_flow(stack(masks));
    EXPECT_EQ(flow->num_parameters(), 3809344) << masks[0];
    EXPECT_EQ(flow->body().layers().size(), 8u);
    EXPECT_EQ(flow->body().current_shape(), fl::Shape({1, 28, 28}));
  }
}

TEST(CouplingStack, FigureThreeModels) {
  auto two = fl::make_flow(stack({"checkerboard x2"}));
  EXPECT_EQ(two->body().layers().size(), 2u);
  EXPECT_EQ(two->num_parameters(), 2 * 476168);
  auto three = fl::make_flow(stack({"horizontal x3"}));
  const auto layers = three->body().layers();
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_NE(layers[1]->describe().find("horizontal (reversed)"), std::string::npos);
}

TEST(Bottleneck, ParameterCountsOfTheAuthorsRealNVP) {
  flowood::config::ModelConfig m;  // FashionMNIST README config: 1×28×28, B 6, M 64, S 2
  m.st_net = "resnet-bottleneck";
  const std::pair<int64_t, int64_t> expected[] = {{10, 20652396}, {50, 46744316}, {100, 79359216}};
  for (const auto& [l, count] : expected) {
    m.bottleneck_dim = l;
    EXPECT_EQ(fl::make_flow(m)->num_parameters(), count) << "l = " << l;
  }
}

TEST(Bottleneck, WithoutBatchNormStillBuildsAndRuns) {
  auto m = stack({"checkerboard x2"}, {1, 6, 6});
  m.st_net = "resnet-bottleneck";
  m.batch_norm = false;
  m.mid_channels = 4;
  m.num_blocks = 2;
  m.bottleneck_dim = 3;
  auto flow = fl::make_flow(m);
  flow->eval();
  torch::NoGradGuard g;
  auto r = flow->forward(torch::rand({2, 1, 6, 6}));
  EXPECT_EQ(r.y.sizes(), torch::IntArrayRef({2, 36}));
}

struct WholeCase {
  std::string name;
  flowood::config::ModelConfig model;
};

class WholeStack : public ::testing::TestWithParam<WholeCase> {};

TEST_P(WholeStack, InvertsAndLogDetMatchesBruteForceInFloat64) {
  const auto& m = GetParam().model;
  torch::manual_seed(21);
  auto flow = fl::make_flow(m);
  flow->to(torch::kFloat64);
  {
    torch::NoGradGuard g;
    for (auto& p : flow->parameters()) p.add_(torch::randn_like(p) * 0.05);
  }
  std::vector<int64_t> shape{6};
  shape.insert(shape.end(), m.in_shape.begin(), m.in_shape.end());
  const bool tabular = m.in_shape.size() == 1;
  auto data = tabular ? torch::randn(shape, torch::kFloat64) : torch::randint(0, 256, shape).to(torch::kFloat64) / 255.0;
  flow->train();
  (void)flow->forward(data);
  flow->eval();
  auto x = data.narrow(0, 0, 1);
  auto u = torch::rand_like(x);
  const double expected =
      brute_force_logdet([&](const torch::Tensor& in) { return flow->forward_with_noise(in, u).y; }, x);
  const auto r = flow->forward_with_noise(x, u);
  EXPECT_LE(relative_error(r.logdet.item<double>(), expected), 1e-6);
  torch::NoGradGuard g;
  const auto back = flow->inverse(r.y);
  const auto want = tabular ? x : (x * 255 + u) / 256;
  EXPECT_LE((back - want).abs().max().item<double>(), 1e-8);
}

WholeCase make_case(std::string name, std::vector<std::string> masks, std::vector<int64_t> shape, std::string st,
                    std::string flow = "coupling") {
  auto m = stack(std::move(masks), std::move(shape));
  m.flow = std::move(flow);
  m.st_net = std::move(st);
  m.mid_channels = 4;
  m.num_blocks = 1;
  m.bottleneck_dim = 3;
  return {std::move(name), m};
}

INSTANTIATE_TEST_SUITE_P(
    Flows, WholeStack,
    ::testing::Values(make_case("checkerboard", {"checkerboard x2"}, {1, 4, 4}, "resnet"),
                      make_case("horizontal", {"horizontal x3"}, {1, 4, 4}, "resnet"),
                      make_case("cycle", {"cycle"}, {1, 4, 4}, "resnet"),
                      make_case("mixed", {"vertical", "sub-quadrant:1>3", "center:margin=1:reverse"}, {2, 4, 4},
                                "convnet"),
                      make_case("bottleneck", {"checkerboard x2"}, {1, 4, 4}, "resnet-bottleneck"),
                      make_case("tabular", {"tabular x4"}, {5}, "mlp", "tabular")),
    [](const auto& info) { return info.param.name; });

TEST(TabularFlow, NoPreprocessingAndAllParametersDecayable) {
  auto m = make_case("t", {"tabular x8"}, {15}, "mlp", "tabular").model;
  m.mid_channels = 256;
  auto flow = fl::make_flow(m);
  EXPECT_EQ(flow->preprocessing(), fl::Preprocessing::kNone);
  EXPECT_EQ(flow->family(), "tabular");
  // 8 × [Linear(15→256) + 1 × Linear(256→256) + Linear(256→30) + rescale 2·15].
  EXPECT_EQ(flow->num_parameters(), 8 * ((15 * 256 + 256) + (256 * 256 + 256) + (256 * 30 + 30) + 30));
  // log p = N(z) + logdet, no −D·log 256 for continuous data.
  flow->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({3, 15});
  auto r = flow->forward(x);
  auto expected = -0.5 * r.y.pow(2).sum(1) - 7.5 * std::log(2 * M_PI) + r.logdet;
  EXPECT_TRUE(torch::allclose(flow->log_prob_from(r), expected, 1e-5, 1e-4));
}

TEST(CouplingStack, NeedsMasks) {
  EXPECT_THROW(fl::make_flow(stack({})), flowood::ConfigError);
}

}  // namespace

// model.standardize: a fitted first layer (x − mean)/sd whose log-det is −Σ log sd, so the
// model's log p stays a density of the raw features.
TEST(TabularFlow, StandardizeLayerFitsInvertsAndLogDetMatchesBruteForce) {
  auto m = make_case("t", {"tabular x2"}, {4}, "mlp", "tabular").model;
  m.standardize = true;
  auto flow = fl::make_flow(m);
  flow->to(torch::kFloat64);
  auto rows = torch::randn({200, 4}, torch::kFloat64) * torch::tensor({1000.0, 0.01, 3.0, 1.0}, torch::kFloat64) +
              torch::tensor({5e4, -2.0, 0.0, 7.0}, torch::kFloat64);
  rows.select(1, 3).fill_(7.0);  // a constant feature: sd taken as 1
  flow->eval();
  EXPECT_THROW(flow->forward(rows), flowood::Error) << "unfitted standardisation must refuse to run";
  ASSERT_TRUE(fl::fit_standardization(*flow, rows));
  EXPECT_FALSE(fl::fit_standardization(*flow, rows * 2)) << "fitted once, never refitted";
  auto first = std::dynamic_pointer_cast<fl::StandardizeImpl>(flow->body().layers().front());
  ASSERT_TRUE(first);
  EXPECT_NEAR(first->sd()[3].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(first->mean()[0].item<double>(), rows.select(1, 0).mean().item<double>(), 1e-6);

  auto x = rows.narrow(0, 0, 1);
  const double expected = brute_force_logdet([&](const torch::Tensor& in) { return flow->forward(in).y; }, x);
  const auto r = flow->forward(x);
  EXPECT_LE(relative_error(r.logdet.item<double>(), expected), 1e-6);
  torch::NoGradGuard g;
  EXPECT_LE((flow->inverse(r.y) - x).abs().max().item<double>(), 1e-6 * 5e4);
  // The standardised features are what the couplings see.
  const auto z = flow->body().layers().front()->forward(rows).y;
  EXPECT_LE(z.narrow(1, 0, 3).mean(0).abs().max().item<double>(), 1e-9);
  EXPECT_LE((z.narrow(1, 0, 3).std(0, false) - 1).abs().max().item<double>(), 1e-9);
}

TEST(TabularFlow, StandardizeIsOnlyForTabularFlows) {
  auto m = stack({"checkerboard x2"}, {1, 4, 4});
  m.standardize = true;
  EXPECT_THROW(fl::make_flow(m), flowood::ConfigError);
}
