// Per-example gradient statistics against finite differences in float64, and the per-level
// decomposition of the log-likelihood (RealNVP and Glow) against log p(x).
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/flows/factory.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/ood/gradient.hpp"
#include "flowood/ood/score.hpp"
#include "tiny_images.hpp"

namespace flowood::ood {
namespace {

flows::FlowModel tiny(const std::string& flow) {
  config::ModelConfig m;
  m.flow = flow;
  m.in_shape = {1, 4, 4};
  m.num_blocks = 1;
  m.num_steps = 2;
  m.mid_channels = 2;
  torch::manual_seed(3);
  auto model = flows::make_flow(m);
  model->to(torch::kFloat64);
  // Glow's ActNorm initialises on its first training batch.
  model->train();
  {
    torch::NoGradGuard g;
    model->forward(torch::rand({8, 1, 4, 4}, torch::kFloat64));
  }
  model->eval();
  return model;
}

TEST(LikelihoodTerms, LevelsSumToTheLogLikelihoodInFloat64) {
  for (const std::string flow : {"realnvp", "glow"}) {
    auto model = tiny(flow);
    torch::NoGradGuard g;
    const auto x = data::to_model_input(tiny_data(3).images, torch::kCPU).to(torch::kFloat64);
    const auto u = torch::rand_like(x);
    const auto t = model->likelihood_terms(x, u);
    ASSERT_EQ(t.levels.size(), 2u) << flow;  // one factor-out, then the final block
    EXPECT_EQ(t.levels[0].z.size(1) + t.levels[1].z.size(1), 16) << flow;
    auto sum = t.outside.clone();
    for (const auto& l : t.levels) sum += flows::standard_normal_log_prob(l.z) + l.logdet;
    const auto lp = model->log_prob_from(t.result);
    EXPECT_LT(((sum - lp).abs() / lp.abs()).max().item<double>(), 1e-12) << flow;
    // The levels' latents, in order, are the model's z.
    EXPECT_TRUE(torch::equal(torch::cat({t.levels[0].z, t.levels[1].z}, 1), t.result.y)) << flow;
  }
}

TEST(LikelihoodTerms, ScoreColumnsSumToLoglikInFloat32) {
  config::ModelConfig m;
  m.in_shape = {1, 4, 4};
  m.num_blocks = 1;
  m.mid_channels = 4;
  torch::manual_seed(11);
  auto model = flows::make_flow(m);
  LoglikOptions o;
  o.batch_size = 3;
  const auto s = score_loglik(*model, tiny_data(7), o);
  ASSERT_EQ(s.level.size(), 2u);
  EXPECT_EQ(s.level_dims, (std::vector<int64_t>{8, 8}));
  for (size_t i = 0; i < s.loglik.size(); ++i) {
    const double sum = s.outside[i] + s.level[0][i] + s.level[1][i];
    EXPECT_LT(std::abs(sum - s.loglik[i]) / std::abs(s.loglik[i]), 1e-5) << i;
    EXPECT_GT(s.sqnorm[0][i], 0.0);
  }
}

TEST(ScoreNoise, DependsOnTheSetAsWellAsTheIndex) {
  const auto like = torch::zeros({2, 1, 4, 4});
  const auto a = per_example_noise(like, 0, 0, 0, dataset_key("fashion-mnist:test"));
  const auto b = per_example_noise(like, 0, 0, 0, dataset_key("mnist:test"));
  EXPECT_FALSE(torch::allclose(a, b));
  EXPECT_TRUE(torch::equal(a, per_example_noise(like, 0, 0, 0, dataset_key("fashion-mnist:test"))));
  EXPECT_NE(dataset_key("mnist:test"), dataset_key("mnist:train"));
}

/// log p(x) of example `i` alone under the noise gradient_statistics uses.
double loglik_of(flows::FlowModelImpl& model, const data::ImageDataset& d, int64_t i, uint64_t seed) {
  torch::NoGradGuard g;
  const auto x = data::to_model_input(d.images.narrow(0, i, 1), torch::kCPU).to(torch::kFloat64);
  const auto u = per_example_noise(x, i, seed, 0, dataset_key(d.spec));
  return model.log_prob_from(model.forward_with_noise(x, u)).item<double>();
}

TEST(GradientStatistics, LayerNormsMatchFiniteDifferencesInFloat64) {
  auto model = tiny("realnvp");
  const auto data = tiny_data(2);
  LoglikOptions o;
  o.seed = 3;
  o.batch_size = 2;
  const auto stats = gradient_statistics(*model, data, o);
  const auto names = gradient_layer_names(*model);
  ASSERT_EQ(stats.size(), names.size() + 1);
  EXPECT_EQ(stats.back().name, "loglik");
  EXPECT_NEAR(stats.back().values[1], loglik_of(*model, data, 1, 3), 1e-9);
  // The first and the last measured layer, element by element (central differences).
  const auto& body = model->body();
  for (size_t l : {size_t{0}, names.size() - 1}) {
    const auto step = std::stoul(names[l].substr(4));
    double sq = 0;
    for (auto& p : body.step_layer(step)->parameters()) {
      auto flat = p.detach().view(-1);
      for (int64_t j = 0; j < flat.numel(); ++j) {
        const double v = flat[j].item<double>(), eps = 1e-6;
        flat[j].fill_(v + eps);
        const double up = loglik_of(*model, data, 1, 3);
        flat[j].fill_(v - eps);
        const double down = loglik_of(*model, data, 1, 3);
        flat[j].fill_(v);
        const double g = (up - down) / (2 * eps);
        sq += g * g;
      }
    }
    EXPECT_NEAR(stats[l].values[1], 0.5 * std::log(sq), 1e-6) << names[l];
    EXPECT_EQ(stats[l].name, "grad_" + names[l]);
  }
  EXPECT_FALSE(model->is_training());
}

}  // namespace
}  // namespace flowood::ood
