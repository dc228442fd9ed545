// Looking inside flows (spec §7): the latent ↔ image layout round trip for every architecture,
// coupling traces, and the measures on constructed inputs with known answers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/config/experiment.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/inspect.hpp"
#include "flowood/flows/squeeze.hpp"

namespace fl = flowood::flows;

namespace {

flowood::config::ModelConfig tiny(const std::string& flow) {
  flowood::config::ModelConfig m;
  m.flow = flow;
  m.in_shape = {2, 8, 8};
  m.num_blocks = 1;
  m.mid_channels = 4;
  m.num_steps = 2;
  if (flow == "coupling") m.masks = {"checkerboard x2", "cycle"};
  if (flow == "glow") m.st_net = "highway";
  if (flow == "tabular") {
    m.in_shape = {6};
    m.masks = {"tabular x2"};
    m.st_net = "mlp";
  }
  return m;
}

class Layout : public ::testing::TestWithParam<std::string> {};

TEST_P(Layout, ImageToLatentLayoutAndBackIsTheIdentity) {
  auto flow = fl::make_flow(tiny(GetParam()));
  std::vector<int64_t> shape{3};
  shape.insert(shape.end(), flow->input_shape().begin(), flow->input_shape().end());
  auto x = torch::randn(shape);
  auto z = flow->body().to_latent_layout(x);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({3, flow->dim()}));
  EXPECT_TRUE(torch::equal(flow->body().to_input_layout(z), x));
}

INSTANTIATE_TEST_SUITE_P(EveryFlow, Layout, ::testing::Values("realnvp", "coupling", "glow", "tabular"));

TEST(Layout, RealNVPLatentOfAPixelLandsOnThatPixel) {
  // A latent equal to the structural image of x: only squeezes and factor-outs are undone.
  auto m = tiny("realnvp");
  m.in_shape = {1, 4, 4};
  auto flow = fl::make_flow(m);
  auto x = torch::arange(16.0).view({1, 1, 4, 4});
  auto z = flow->body().to_latent_layout(x);
  // Factored-out block first: channels 2, 3 of the squeeze = pixels with dy = 1.
  EXPECT_TRUE(torch::equal(z.narrow(1, 0, 8), fl::squeeze2x2(x).narrow(1, 2, 2).flatten(1)));
}

TEST(Trace, OneViewPerCouplingAtFullResolution) {
  for (const auto& flow_name : {"realnvp", "coupling", "glow"}) {
    torch::manual_seed(3);
    auto flow = fl::make_flow(tiny(flow_name));
    flow->train();
    (void)flow->forward(torch::rand({4, 2, 8, 8}));  // initialises Glow's ActNorm
    flow->eval();
    torch::NoGradGuard g;
    auto x = torch::rand({2, 2, 8, 8});
    auto u = torch::rand_like(x);
    const auto views = fl::trace_couplings(*flow, x, u);
    size_t couplings = 0;
    for (const auto& l : flow->body().layers()) couplings += l->describe().find("coupling") != std::string::npos;
    ASSERT_EQ(views.size(), couplings) << flow_name;
    for (const auto& v : views) {
      for (const auto* t : {&v.input, &v.output, &v.scale, &v.shift, &v.region})
        EXPECT_EQ(t->sizes(), torch::IntArrayRef({2, 2, 8, 8})) << flow_name << " " << v.label;
      // exp(s) is 1 and −t is 0 where nothing is transformed.
      const auto outside = v.region.eq(0);
      EXPECT_TRUE(torch::all(v.scale.masked_select(outside) == 1).item<bool>()) << v.label;
      EXPECT_TRUE(torch::all(v.shift.masked_select(outside) == 0).item<bool>()) << v.label;
      // The output differs from the input only where the layer transforms.
      EXPECT_TRUE(torch::equal(v.output.masked_select(outside), v.input.masked_select(outside))) << v.label;
    }
    // The trace leaves the model as it was: the same latent with or without it.
    EXPECT_TRUE(torch::allclose(fl::latent_image(*flow, x, u), flow->body().to_input_layout(flow->forward_with_noise(x, u).y)));
  }
}

TEST(Measures, PredictabilityErrorKnownValues) {
  fl::CouplingView v;
  v.input = torch::tensor({1.0, 2.0, 3.0, 100.0}).view({1, 1, 2, 2});
  v.region = torch::tensor({1.0, 1.0, 1.0, 0.0}).view({1, 1, 2, 2});
  v.shift = v.input.clone();
  v.shift[0][0][1][1] = -7.0;  // outside the region: ignored
  EXPECT_NEAR(fl::predictability_error(v).item<double>(), 0.0, 1e-12);
  v.shift = torch::full_like(v.input, 2.0);  // the mean of the transformed values
  EXPECT_NEAR(fl::predictability_error(v).item<double>(), 1.0, 1e-12);
  v.shift = torch::zeros_like(v.input);  // Σ x² / Σ (x − 2)² = 14 / 2
  EXPECT_NEAR(fl::predictability_error(v).item<double>(), 7.0, 1e-12);
}

TEST(Measures, SobelAndEdgeCorrelation) {
  // A vertical step edge: the gradient magnitude is 4 on the two columns beside it, 0 elsewhere.
  auto img = torch::zeros({1, 1, 5, 6}, torch::kFloat64);
  img.slice(3, 3, 6).fill_(1.0);
  const auto s = fl::sobel_magnitude(img);
  EXPECT_NEAR(s[0][0][2][2].item<double>(), 4.0, 1e-12);
  EXPECT_NEAR(s[0][0][2][3].item<double>(), 4.0, 1e-12);
  EXPECT_NEAR(s[0][0][2][0].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(s[0][0][0][5].item<double>(), 0.0, 1e-12);
  // A latent that is the edge map (up to sign and scale) correlates 1; its negation too (|z|).
  EXPECT_NEAR(fl::edge_correlation(-3.0 * s, img).item<double>(), 1.0, 1e-12);
  // A latent of constant magnitude correlates 0 (defined as 0 for a constant).
  EXPECT_NEAR(fl::edge_correlation(torch::ones_like(img), img).item<double>(), 0.0, 1e-12);
  auto a = torch::tensor({1.0, 2.0, 3.0}).view({1, 3});
  EXPECT_NEAR(fl::pearson_per_example(a, -a).item<double>(), -1.0, 1e-12);
}

}  // namespace
