// Streamed likelihood scoring: independence from the batch size, log-mean-exp over K
// dequantisation samples, limits, shape checks.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/ood/score.hpp"

namespace {

flowood::flows::FlowModel tiny_model() {
  flowood::config::ModelConfig m;
  m.in_shape = {1, 4, 4};
  m.num_blocks = 1;
  m.mid_channels = 4;
  torch::manual_seed(11);
  return flowood::flows::make_flow(m);
}

flowood::data::ImageDataset tiny_data(int64_t n) {
  flowood::data::ImageDataset d;
  d.spec = "tiny";
  d.images = torch::randint(0, 256, {n, 1, 4, 4}).to(torch::kUInt8);
  return d;
}

TEST(ScoreLoglik, DoesNotDependOnTheBatchSize) {
  auto model = tiny_model();
  const auto data = tiny_data(10);
  flowood::ood::LoglikOptions a, b;
  a.batch_size = 3;
  b.batch_size = 7;
  const auto sa = flowood::ood::score_loglik(*model, data, a);
  const auto sb = flowood::ood::score_loglik(*model, data, b);
  ASSERT_EQ(sa.loglik.size(), 10u);
  for (size_t i = 0; i < sa.loglik.size(); ++i) EXPECT_NEAR(sa.loglik[i], sb.loglik[i], 1e-3) << i;
}

TEST(ScoreLoglik, BitsPerDimMatchesLoglik) {
  auto model = tiny_model();
  const auto s = flowood::ood::score_loglik(*model, tiny_data(4), {});
  for (size_t i = 0; i < s.loglik.size(); ++i) EXPECT_NEAR(s.bpd[i], -s.loglik[i] / (16 * std::log(2.0)), 1e-9);
}

TEST(ScoreLoglik, SamplesAreCombinedByLogMeanExp) {
  auto model = tiny_model();
  model->eval();
  const auto data = tiny_data(5);
  flowood::ood::LoglikOptions two;
  two.samples = 2;
  two.seed = 9;
  const auto s2 = flowood::ood::score_loglik(*model, data, two);
  torch::NoGradGuard g;
  const auto x = flowood::data::to_model_input(data.images, torch::kCPU);
  const auto a0 = model->log_prob_from(model->forward_with_noise(x, flowood::ood::per_example_noise(x, 0, 9, 0, flowood::ood::dataset_key(data.spec))));
  const auto a1 = model->log_prob_from(model->forward_with_noise(x, flowood::ood::per_example_noise(x, 0, 9, 1, flowood::ood::dataset_key(data.spec))));
  for (int64_t i = 0; i < 5; ++i) {
    const double u = a0[i].item<double>(), v = a1[i].item<double>();
    const double m = std::max(u, v);
    const double expected = m + std::log((std::exp(u - m) + std::exp(v - m)) / 2);
    EXPECT_NEAR(s2.loglik[i], expected, 1e-3);
    EXPECT_GE(s2.loglik[i], std::min(u, v) - 1e-3);
    EXPECT_LE(s2.loglik[i], std::max(u, v) + 1e-3);
  }
}

TEST(ScoreLoglik, LimitAndShapeMismatch) {
  auto model = tiny_model();
  flowood::ood::LoglikOptions o;
  o.limit = 3;
  EXPECT_EQ(flowood::ood::score_loglik(*model, tiny_data(8), o).loglik.size(), 3u);
  flowood::data::ImageDataset wrong;
  wrong.spec = "wrong-shape";
  wrong.images = torch::zeros({2, 1, 8, 8}, torch::kUInt8);
  try {
    flowood::ood::score_loglik(*model, wrong, {});
    FAIL() << "expected DataError";
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("wrong-shape"), std::string::npos);
  }
}

TEST(ScoreLoglik, RestoresTrainingMode) {
  auto model = tiny_model();
  model->train();
  flowood::ood::score_loglik(*model, tiny_data(2), {});
  EXPECT_TRUE(model->is_training());
}

}  // namespace
