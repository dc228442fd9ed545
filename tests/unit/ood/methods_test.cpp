// The OOD score methods on constructed cases with known values: input complexity (units pinned:
// bits on both sides), the likelihood ratio of known models, WAIC, the typicality test,
// batch-norm-train-mode scoring and Ren et al.'s input mutation.
#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/standardize.hpp"
#include "flowood/data/mutate.hpp"
#include "flowood/ood/methods.hpp"
#include "flowood/ood/score.hpp"

namespace ood = flowood::ood;

namespace {

torch::Tensor noise_images(int64_t n, int64_t c, int64_t hw, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return at::randint(0, 256, {n, c, hw, hw}, gen, torch::TensorOptions().dtype(torch::kLong)).to(torch::kUInt8);
}

TEST(InputComplexity, ConstantImagesCompressFarBetterThanNoise) {
  const auto constant = torch::full({2, 1, 28, 28}, 17, torch::kUInt8);
  const auto noise = noise_images(2, 1, 28, 1);
  const auto lc = ood::compressed_bits(constant, ood::Codec::kPng);
  const auto ln = ood::compressed_bits(noise, ood::Codec::kPng);
  // Incompressible noise costs about 8 bits per pixel plus the PNG container; a constant image a
  // few hundred bits in all.
  EXPECT_GT(ln[0], 8.0 * 784);
  EXPECT_LT(ln[0], 8.0 * 784 + 8.0 * 200);
  EXPECT_LT(lc[0], 8.0 * 120);
  EXPECT_EQ(lc[0], lc[1]);
  // The length is the whole PNG file, level 9, bits.
  std::vector<uchar> png;
  const cv::Mat img(28, 28, CV_8UC1, noise[0].contiguous().data_ptr<uint8_t>());
  cv::imencode(".png", img, png, {cv::IMWRITE_PNG_COMPRESSION, 9});
  EXPECT_EQ(ln[0], 8.0 * static_cast<double>(png.size()));
  // Colour: as many values, three channels.
  EXPECT_GT(ood::compressed_bits(noise_images(1, 3, 16, 2), ood::Codec::kPng)[0], 8.0 * 3 * 256);
}

TEST(InputComplexity, ScoreIsNegativeLog2LikelihoodMinusBits) {
  // log p = −1000 ln 2 nats is 1000 bits of code length: S = 1000 − L. A score mixing nats
  // and bits would give −(−693.1) − L instead.
  const auto s = ood::input_complexity_scores({-1000.0 * std::log(2.0), -10.0 * std::log(2.0)}, {800.0, 50.0});
  EXPECT_NEAR(s[0], 200.0, 1e-9);
  EXPECT_NEAR(s[1], -40.0, 1e-9);
  EXPECT_THROW(ood::input_complexity_scores({1.0}, {1.0, 2.0}), flowood::Error);
}

TEST(InputComplexity, Jpeg2000IsLosslessWhenAvailable) {
  if (!cv::haveImageWriter(".jp2")) GTEST_SKIP() << "this OpenCV cannot write JPEG 2000";
  const auto noise = noise_images(1, 1, 32, 3);
  EXPECT_GT(ood::compressed_bits(noise, ood::Codec::kJpeg2000)[0], 8.0 * 800);
  EXPECT_LT(ood::compressed_bits(torch::full({1, 3, 32, 32}, 9, torch::kUInt8), ood::Codec::kJpeg2000)[0], 8.0 * 400);
  // OpenJPEG's 6 resolution levels need 32 pixels a side: smaller images are a clear error.
  try {
    ood::compressed_bits(noise_images(1, 1, 28, 3), ood::Codec::kJpeg2000);
    FAIL() << "28×28 JPEG 2000 must be refused";
  } catch (const flowood::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("at least 32×32"), std::string::npos) << e.what();
  }
  std::vector<uchar> buffer;
  const cv::Mat img(32, 32, CV_8UC1, noise[0].contiguous().data_ptr<uint8_t>());
  cv::imencode(".jp2", img, buffer, {cv::IMWRITE_JPEG2000_COMPRESSION_X1000, 1000});
  const auto back = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(cv::norm(img, back, cv::NORM_INF), 0.0) << "JPEG 2000 at rate 1000 must be lossless";
}

TEST(InputComplexity, CodecNames) {
  EXPECT_EQ(ood::parse_codec("png"), ood::Codec::kPng);
  EXPECT_THROW(ood::parse_codec("gif"), flowood::ConfigError);
}

// Two tabular flows whose couplings start as the identity (zero-initialised last layers):
// log p(x) = log N((x − m)/s) − Σ log s exactly, so the ratio of two of them is known.
TEST(LikelihoodRatio, KnownModelsGiveTheKnownRatio) {
  flowood::config::ModelConfig m;
  m.flow = "tabular";
  m.in_shape = {3};
  m.masks = {"tabular x2"};
  m.st_net = "mlp";
  m.mid_channels = 8;
  m.standardize = true;
  auto a = flowood::flows::make_flow(m), b = flowood::flows::make_flow(m);
  const auto rows_a = torch::randn({500, 3});
  flowood::flows::fit_standardization(*a, rows_a);
  flowood::flows::fit_standardization(*b, rows_a * 3 + 1);
  flowood::data::ImageDataset data;
  data.spec = "rows";
  data.images = torch::randn({6, 3});
  const auto la = ood::score_loglik(*a, data, {}).loglik;
  const auto lb = ood::score_loglik(*b, data, {}).loglik;
  const auto llr = ood::likelihood_ratio(la, lb);
  auto analytic = [](const flowood::flows::FlowModelImpl& model, const torch::Tensor& x) {
    auto st = std::dynamic_pointer_cast<flowood::flows::StandardizeImpl>(
        const_cast<flowood::flows::FlowModelImpl&>(model).body().layers().front());
    const auto z = (x - st->mean()) / st->sd();
    return (-0.5 * z.pow(2) - 0.5 * std::log(2 * M_PI)).sum(1) - torch::log(st->sd()).sum();
  };
  const auto want = analytic(*a, data.images) - analytic(*b, data.images);
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(llr[static_cast<size_t>(i)], want[i].item<double>(), 1e-4) << i;
}

TEST(Mutation, ReplacesTheGivenFractionReproducibly) {
  const auto images = torch::full({50, 1, 20, 20}, 7, torch::kUInt8);
  EXPECT_TRUE(torch::equal(flowood::data::mutate(images, 0.0, flowood::make_generator(1, flowood::Stream::kMutation)), images));
  const auto m1 = flowood::data::mutate(images, 0.3, flowood::make_generator(1, flowood::Stream::kMutation));
  const auto m2 = flowood::data::mutate(images, 0.3, flowood::make_generator(1, flowood::Stream::kMutation));
  EXPECT_TRUE(torch::equal(m1, m2));
  EXPECT_EQ(m1.scalar_type(), torch::kUInt8);
  // A replaced value is uniform on 0..255, so 1/256 of replacements keep 7.
  const double changed = (m1 != 7).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(changed, 0.3 * 255.0 / 256.0, 0.01);
  const auto all = flowood::data::mutate(images, 1.0, flowood::make_generator(2, flowood::Stream::kMutation));
  EXPECT_NEAR(all.to(torch::kDouble).mean().item<double>(), 127.5, 2.0);
  // Rows: a replaced value comes from the same column of another row.
  const auto rows = torch::arange(40, torch::kFloat32).view({10, 4});
  EXPECT_TRUE(torch::equal(flowood::data::mutate(rows, 0.0, flowood::make_generator(1, flowood::Stream::kMutation)), rows));
  const auto mixed = flowood::data::mutate(rows, 1.0, flowood::make_generator(3, flowood::Stream::kMutation));
  EXPECT_FALSE(torch::equal(mixed, rows));
  EXPECT_TRUE(torch::equal(torch::remainder(mixed, 4), torch::remainder(rows, 4))) << "values stay in their column";
}

TEST(Waic, MeanMinusPopulationVariance) {
  const auto w = ood::waic({{1.0, 2.0, -5.0}, {3.0, 2.0, -1.0}});
  EXPECT_DOUBLE_EQ(w[0], 2.0 - 1.0);
  EXPECT_DOUBLE_EQ(w[1], 2.0);
  EXPECT_DOUBLE_EQ(w[2], -3.0 - 4.0);
  EXPECT_THROW(ood::waic({{1.0}}), flowood::ConfigError);
  EXPECT_THROW(ood::waic({{1.0}, {1.0, 2.0}}), flowood::Error);
}

TEST(Typicality, EntropyThresholdAndBatches) {
  // Reference NLLs all 100: Ĥ = 100 and every bootstrap batch has ε̂ = 0.
  const auto flat = ood::typicality_reference(std::vector<double>(50, -100.0), {});
  EXPECT_DOUBLE_EQ(flat.entropy, 100.0);
  EXPECT_DOUBLE_EQ(flat.threshold, 0.0);
  EXPECT_EQ(flat.n, 50);
  // Batches of 2 in order, the partial one dropped.
  const auto b = ood::typicality_batches({-98, -100, -110, -90, -100}, 100.0, 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_DOUBLE_EQ(b[0].mean_nll, 99.0);
  EXPECT_DOUBLE_EQ(b[0].epsilon, 1.0);
  EXPECT_EQ(b[1].first, 2);
  EXPECT_DOUBLE_EQ(b[1].epsilon, 0.0);
  // A spread reference: the threshold is the (1 − alpha) quantile, so about alpha of fresh
  // reference-like batches exceed it; it grows as alpha shrinks and is seeded.
  std::vector<double> ref;
  auto gen = at::detail::createCPUGenerator(5);
  const auto draws = at::randn({4000}, gen, torch::TensorOptions().dtype(torch::kDouble)) * 10 - 500;
  for (int64_t i = 0; i < 4000; ++i) ref.push_back(draws[i].item<double>());
  ood::TypicalityOptions o;
  o.batch = 5;
  o.alpha = 0.05;
  o.bootstrap = 4000;
  const auto r = ood::typicality_reference(ref, o);
  // ε̂ of a batch of 5 ~ |N(0, 10/√5)|: its 95 % quantile is 1.96 · 10/√5 = 8.77.
  EXPECT_NEAR(r.threshold, 1.96 * 10 / std::sqrt(5.0), 0.6);
  EXPECT_DOUBLE_EQ(ood::typicality_reference(ref, o).threshold, r.threshold);
  o.alpha = 0.01;
  EXPECT_GT(ood::typicality_reference(ref, o).threshold, r.threshold);
  o.batch = 5000;
  EXPECT_THROW(ood::typicality_reference(ref, o), flowood::ConfigError);
}

TEST(BnTrain, UsesBatchStatisticsAndLeavesRunningStatisticsAlone) {
  flowood::config::ModelConfig m;
  m.in_shape = {1, 4, 4};
  m.num_blocks = 1;
  m.mid_channels = 4;
  torch::manual_seed(4);
  auto model = flowood::flows::make_flow(m);
  {
    torch::NoGradGuard g;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  model->eval();
  std::vector<torch::Tensor> before;
  for (const auto& b : model->buffers()) before.push_back(b.clone());
  flowood::data::ImageDataset data;
  data.spec = "tiny";
  data.images = noise_images(12, 1, 4, 9);
  ood::LoglikOptions eval, bn;
  eval.batch_size = bn.batch_size = 6;
  bn.batch_norm_train_mode = true;
  const auto se = ood::score_loglik(*model, data, eval).loglik;
  const auto sb = ood::score_loglik(*model, data, bn).loglik;
  double diff = 0;
  for (size_t i = 0; i < se.size(); ++i) diff = std::max(diff, std::abs(se[i] - sb[i]));
  EXPECT_GT(diff, 1e-3) << "train-mode batch norm must change the scores";
  // The batch composition matters: the same image in another batch scores differently.
  bn.batch_size = 12;
  const auto sb12 = ood::score_loglik(*model, data, bn).loglik;
  EXPECT_GT(std::abs(sb12[0] - sb[0]), 1e-6);
  const auto after = model->buffers();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << "buffer " << i;
  EXPECT_FALSE(model->is_training()) << "the model's mode is restored";
  for (const auto& module : model->modules()) EXPECT_FALSE(module->is_training()) << module->name();
  // A model without batch norm has no such mode.
  m.batch_norm = false;
  auto plain = flowood::flows::make_flow(m);
  EXPECT_THROW(ood::score_loglik(*plain, data, bn), flowood::ConfigError);
}

TEST(ScoreMethods, NamesAndOrientations) {
  EXPECT_EQ(ood::score_method_names(),
            (std::vector<std::string>{"loglik", "bpd", "input-complexity", "likelihood-ratio", "typicality", "waic", "bn-train",
                                      "level-ratio", "dose", "gradient", "lid", "msp", "energy", "mahalanobis"}));
  EXPECT_TRUE(ood::score_method("lid").higher_is_in);
  EXPECT_TRUE(ood::score_method("level-ratio").higher_is_in);
  EXPECT_TRUE(ood::score_method("dose").higher_is_in);
  EXPECT_FALSE(ood::score_method("gradient").higher_is_in);
  EXPECT_TRUE(ood::score_method("msp").higher_is_in);
  EXPECT_TRUE(ood::score_method("mahalanobis").higher_is_in);
  EXPECT_TRUE(ood::score_method("loglik").higher_is_in);
  EXPECT_FALSE(ood::score_method("input-complexity").higher_is_in);
  EXPECT_FALSE(ood::score_method("typicality").per_example);
  EXPECT_THROW(ood::score_method("llr"), flowood::ConfigError);
}

}  // namespace
